"""Microsoft Graph (Intune) ``detectedApps`` JSON with their ``managedDevices``.

Two response shapes of the v1.0 API are read (pages of ``{"value": [...],
"@odata.nextLink": ...}``, one page per file, or JSON Lines of pages):

* app-centric: ``GET /deviceManagement/detectedApps?$expand=managedDevices`` (or each
  ``detectedApp`` saved with its ``/managedDevices`` list under ``managedDevices``);
* device-centric: ``GET /deviceManagement/managedDevices?$expand=detectedApps``.

``detectedApp``: ``id, displayName, version, publisher, platform, deviceCount``;
``managedDevice``: ``id, deviceName, userPrincipalName, emailAddress, operatingSystem,
osVersion, model, serialNumber, managedDeviceOwnerType (company|personal),
isSupervised, enrolledDateTime, lastSyncDateTime``. ``detectedApp`` has no bundle or
package ID, so rows have ``app_id = None`` and are matched by name.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import JsonItem, iter_json, parse_time, read_text, text_or_none
from appveto.fleet.importers._platforms import platform_of
from appveto.fleet.model import DeviceRecord, ManagementMode, Ownership, Platform

_OWNER = {"company": Ownership.COMPANY, "personal": Ownership.PERSONAL}


def _record(md: dict[str, Any]) -> DeviceRecord:
    return DeviceRecord(
        source_device_id=str(text_or_none(md["id"])),
        name=text_or_none(md.get("deviceName")),
        platform=platform_of(md.get("operatingSystem")),
        ownership=_OWNER.get(str(md.get("managedDeviceOwnerType")), Ownership.UNKNOWN),
        management_mode=ManagementMode.SUPERVISED
        if md.get("isSupervised") is True
        else ManagementMode.UNKNOWN,
        user=text_or_none(md.get("userPrincipalName")) or text_or_none(md.get("emailAddress")),
        serial_number=text_or_none(md.get("serialNumber")),
        model=text_or_none(md.get("model")),
        os_version=text_or_none(md.get("osVersion")),
        enrolled_at=parse_time(md.get("enrolledDateTime")),
        last_report_at=parse_time(md.get("lastSyncDateTime")),
    )


def _app_fields(app: dict[str, Any]) -> tuple[str | None, str | None]:
    return text_or_none(app.get("displayName")), text_or_none(app.get("version"))


class IntuneGraphImporter:
    name = "intune-graph"
    title = "Microsoft Graph detectedApps JSON (with managedDevices)"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        text = read_text(path, display)
        first = True
        for item in self._items(iter_json(text, display, "value"), display):
            if item.error is not None:
                sink.bad(item.error, line=item.line)
                continue
            v = item.value
            if first:
                if not (isinstance(v, dict) and ("managedDevices" in v or "detectedApps" in v)):
                    raise refuse(
                        display,
                        "not a Graph detectedApps response: entries need 'managedDevices' "
                        "(detectedApps?$expand=managedDevices) or 'detectedApps' "
                        "(managedDevices?$expand=detectedApps)",
                        line=item.line,
                        entry=item.entry,
                    )
                first = False
            if not isinstance(v, dict):
                sink.bad("an entry of 'value' must be a JSON object", line=item.line, entry=item.entry)
            elif "managedDevices" in v:
                self._app_centric(v, item, sink)
            elif "detectedApps" in v:
                self._device_centric(v, item, sink)
            else:
                sink.bad(
                    "entry has neither 'managedDevices' nor 'detectedApps'", line=item.line, entry=item.entry
                )

    def _items(self, items: Any, display: str) -> Any:
        for item in items:
            v = item.value
            if item.entry is None and item.error is None:
                if isinstance(v, dict) and isinstance(v.get("value"), list):  # a page in JSON Lines
                    for i, inner in enumerate(v["value"]):
                        yield JsonItem(item.line, f"value[{i}]", inner)
                    continue
                if (
                    isinstance(v, dict)
                    and "value" not in v
                    and ("managedDevices" in v or "detectedApps" in v)
                ):
                    yield item  # a single detectedApp / managedDevice
                    continue
                keys = ", ".join(sorted(v)[:6]) if isinstance(v, dict) else type(v).__name__
                raise refuse(
                    display,
                    f"not a Graph collection response: no 'value' array (found: {keys})",
                    line=item.line,
                )
            yield item

    def _app_centric(self, app: dict[str, Any], item: JsonItem, sink: InventorySink) -> None:
        name, version = _app_fields(app)
        devices = app.get("managedDevices")
        if not isinstance(devices, list):
            sink.bad(
                f"detectedApp {name!r}: 'managedDevices' must be an array", line=item.line, entry=item.entry
            )
            return
        if name is None:
            sink.bad("detectedApp without 'displayName'", line=item.line, entry=item.entry, rows=len(devices))
            return
        for j, md in enumerate(devices):
            where = f"{item.entry or ''}.managedDevices[{j}]"
            if not isinstance(md, dict) or text_or_none(md.get("id")) is None:
                sink.bad("managedDevice without 'id'", line=item.line, entry=where)
                continue
            record = _record(md)
            platform = (
                record.platform
                if record.platform is not Platform.UNKNOWN
                else platform_of(app.get("platform"))
            )
            if platform is not record.platform:
                record = replace(record, platform=platform)
            sink.device(record, line=item.line, entry=where, repeat=True)
            sink.app(record.source_device_id, platform.value, None, name, version, None)

    def _device_centric(self, md: dict[str, Any], item: JsonItem, sink: InventorySink) -> None:
        apps = md.get("detectedApps")
        n = len(apps) if isinstance(apps, list) else 0
        if text_or_none(md.get("id")) is None:
            sink.bad(
                f"managedDevice without 'id'; its {n} apps are not imported",
                line=item.line,
                entry=item.entry,
                rows=1 + n,
            )
            return
        if not isinstance(apps, list):
            sink.bad("managedDevice: 'detectedApps' must be an array", line=item.line, entry=item.entry)
            return
        record = _record(md)
        if not sink.device(record, line=item.line, entry=item.entry):
            sink.bad(
                f"apps of the duplicate device {record.source_device_id}",
                line=item.line,
                entry=item.entry,
                rows=n,
            )
            return
        for j, app in enumerate(apps):
            name, version = _app_fields(app) if isinstance(app, dict) else (None, None)
            if name is None:
                sink.bad(
                    "detectedApp without 'displayName'",
                    line=item.line,
                    entry=f"{item.entry or ''}.detectedApps[{j}]",
                )
                continue
            plat = (
                record.platform
                if record.platform is not Platform.UNKNOWN
                else platform_of(app.get("platform"))
            )
            sink.app(record.source_device_id, plat.value, None, name, version, None)


IMPORTER = IntuneGraphImporter()
