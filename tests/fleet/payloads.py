"""Payload builders using the vendors' documented field names (see ../shared/reference/formats.md).

Values (IDs, names, versions) are illustrative; the structure and keys are the vendors'.
"""

from __future__ import annotations

import json
import plistlib
from typing import Any

TIKTOK = "com.zhiliaoapp.musically"
AUTHENTICATOR = "com.azure.authenticator"


def amapi_device(
    dev: str,
    apps: list[tuple[str, str, str]],
    *,
    ownership: str = "COMPANY_OWNED",
    mode: str = "DEVICE_OWNER",
    user: str = "enterprises/LC00abc123/users/112233",
    serial: str = "R5CW30XXXXX",
    **extra: Any,
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": f"enterprises/LC00abc123/devices/{dev}",
        "managementMode": mode,
        "ownership": ownership,
        "state": "ACTIVE",
        "userName": user,
        "enrollmentTime": "2023-09-04T08:12:40Z",
        "lastStatusReportTime": "2024-05-20T08:14:03.512Z",
        "hardwareInfo": {
            "brand": "samsung",
            "manufacturer": "samsung",
            "model": "SM-A546B",
            "serialNumber": serial,
        },
        "softwareInfo": {"androidVersion": "14", "securityPatchLevel": "2024-05-01"},
        "applicationReports": [
            {
                "packageName": pkg,
                "displayName": name,
                "versionName": ver,
                "versionCode": 1,
                "state": "INSTALLED",
                "applicationSource": "INSTALLED_FROM_PLAY_STORE",
                "installerPackageName": "com.android.vending",
                "userFacingType": "USER_FACING",
            }
            for pkg, name, ver in apps
        ],
    }
    d.update(extra)
    return d


def amapi_page(devices: list[dict[str, Any]], token: str | None = "next-page") -> str:
    page: dict[str, Any] = {"devices": devices}
    if token:
        page["nextPageToken"] = token
    return json.dumps(page, indent=2)


def apple_response(udid: str, apps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "CommandUUID": "5b2f6a1e-0c7d-4e2b-9a11-3f0e8c7d6b21",
        "Status": "Acknowledged",
        "UDID": udid,
        "InstalledApplicationList": apps,
    }
    d.update(extra)
    return d


def apple_app(ident: str | None, name: str, short: str, version: str) -> dict[str, Any]:
    d: dict[str, Any] = {
        "Name": name,
        "ShortVersion": short,
        "Version": version,
        "BundleSize": 1000,
        "DynamicSize": 10,
        "IsValidated": True,
        "Installing": False,
    }
    if ident is not None:
        d["Identifier"] = ident
    return d


def plist(value: Any) -> bytes:
    return plistlib.dumps(value)


INTUNE_HEADER = (
    "ApplicationKey,ApplicationName,ApplicationPublisher,ApplicationShortVersion,ApplicationVersion,"
    "DeviceId,DeviceName,OSDescription,OSVersion,Platform,UserId,EmailAddress,UserName"
)


def intune_row(app: str, short: str, device: str, device_name: str, email: str, platform: str = "iOS") -> str:
    return (
        f"7f3c0a1e9d2b4c56a8e1f0b3c2d4e5f6,{app},,{short},{short},{device},{device_name},iPhone 14,17.4.1,"
        f"{platform},9c8b7a6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d,{email},Jan Peeters"
    )


def graph_detected_app(
    name: str, version: str, platform: str, devices: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": "0a5c6f1e9b2d4c3a8e7f6b5a4c3d2e1f",
        "displayName": name,
        "version": version,
        "sizeInByte": 0,
        "deviceCount": len(devices),
        "publisher": "",
        "platform": platform,
        "managedDevices": devices,
    }


def graph_managed_device(dev: str, name: str, upn: str, owner: str = "company") -> dict[str, Any]:
    return {
        "id": dev,
        "deviceName": name,
        "userPrincipalName": upn,
        "userId": "u-1",
        "operatingSystem": "iOS",
        "osVersion": "17.4.1",
        "model": "iPhone 14",
        "manufacturer": "Apple",
        "serialNumber": "F2LXXXXXX",
        "isSupervised": True,
        "managedDeviceOwnerType": owner,
        "complianceState": "compliant",
        "enrolledDateTime": "2023-01-10T09:00:00Z",
        "lastSyncDateTime": "2024-05-20T08:00:00Z",
    }


def fleet_host(uuid: str, hostname: str, platform: str, software: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": 1,
        "uuid": uuid,
        "hostname": hostname,
        "computer_name": hostname,
        "display_name": hostname,
        "platform": platform,
        "os_version": "macOS 14.4",
        "hardware_serial": "C02XXXX",
        "hardware_model": "MacBookPro18,3",
        "device_mapping": [{"email": "j.peeters@example.org", "source": "google_chrome_profiles"}],
        "software": software,
    }


def osquery_line(
    name: str,
    host: str,
    action: str,
    *,
    columns: dict[str, str] | None = None,
    snapshot: list[dict[str, str]] | None = None,
    counter: int = 0,
    uuid: str | None = None,
) -> str:
    rec: dict[str, Any] = {
        "name": name,
        "hostIdentifier": host,
        "calendarTime": "Mon May 20 08:00:00 2024 UTC",
        "unixTime": 1716192000,
        "epoch": 0,
        "counter": counter,
        "numerics": False,
        "decorations": {"host_uuid": uuid or f"uuid-{host}", "hostname": host},
    }
    if snapshot is not None:
        rec["snapshot"] = snapshot
        rec["action"] = "snapshot"
    else:
        rec["columns"] = columns
        rec["action"] = action
    return json.dumps(rec)


def osquery_app(bundle: str, name: str, short: str) -> dict[str, str]:
    return {
        "name": f"{name}.app",
        "path": f"/Applications/{name}.app",
        "bundle_identifier": bundle,
        "bundle_name": name,
        "bundle_short_version": short,
        "bundle_version": short + ".1",
        "display_name": name,
        "last_opened_time": "-1.0",
    }


def osquery_program(name: str, version: str, publisher: str) -> dict[str, str]:
    return {
        "name": name,
        "version": version,
        "publisher": publisher,
        "install_source": "",
        "install_date": "20240519",
        "identifying_number": "{1234}",
        "language": "",
        "uninstall_string": "",
    }


def headwind_info(device_id: str, apps: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "deviceId": device_id,
        "model": "SM-A546B",
        "imei": "350000000000000",
        "serial": "R5CW30",
        "androidVersion": "14",
        "mdmMode": True,
        "kioskMode": False,
        "batteryLevel": 80,
        "applications": [{"pkg": p, "name": n, "version": v} for p, n, v in apps],
    }
