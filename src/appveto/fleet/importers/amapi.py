"""Google Android Management API: ``enterprises.devices.list`` / ``devices.get`` JSON.

Reads a ``devices.list`` response page (``{"devices": [Device, ...], "nextPageToken": ...}``),
a bare array of ``Device`` objects, a single ``Device``, or JSON Lines of ``Device``
objects. Field names are those of the ``Device`` and ``ApplicationReport`` schemas of the
API's discovery document (``androidmanagement.v1.json``):

* ``name`` (``enterprises/{e}/devices/{d}``, the device ID), ``managementMode``
  (``DEVICE_OWNER`` | ``PROFILE_OWNER``), ``ownership`` (``COMPANY_OWNED`` |
  ``PERSONALLY_OWNED``), ``state``, ``userName``, ``enrollmentTime``,
  ``lastStatusReportTime``, ``hardwareInfo{brand, model, serialNumber}``,
  ``softwareInfo{androidVersion}``;
* ``applicationReports[]{packageName, displayName, versionName, state, applicationSource}``.

An app reported ``REMOVED`` is counted as skipped. A device without ``applicationReports``
(reporting off in its policy) is a bad row: its apps are unknown, and importing it with
no apps would make it look clean.
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import clean, iter_json, obj, parse_time, read_text, text_or_none
from appveto.fleet.model import DeviceRecord, ManagementMode, Ownership, Platform

_OWNERSHIP = {"COMPANY_OWNED": Ownership.COMPANY, "PERSONALLY_OWNED": Ownership.PERSONAL}
_MODE = {"DEVICE_OWNER": ManagementMode.FULLY_MANAGED, "PROFILE_OWNER": ManagementMode.WORK_PROFILE}


def _is_device_name(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("enterprises/") and "/devices/" in value


_REPORT_FIELDS = itemgetter("packageName", "displayName", "versionName", "applicationSource", "state")
_strip = str.strip


def _plain_reports(reports: list[Any]) -> list[str] | None:
    """The usual device's reports, read with a few C-level passes instead of a loop.

    When every report is an object with the five fields as non-empty (once stripped)
    plain ASCII strings without NUL, and none is ``REMOVED``, the general loop below
    would give each report's stripped fields as they are, in order: this returns them
    flat (five per report, state last). Otherwise ``None``, and the general loop runs.
    """
    try:
        flat = list(chain.from_iterable(map(_REPORT_FIELDS, reports)))
        joined = "".join(flat)
    except (KeyError, TypeError):
        return None  # a report that is not an object, lacks a field, or has a non-string
    if not joined.isascii() or "\x00" in joined or "REMOVED" in flat[4::5]:
        return None
    stripped = list(map(_strip, flat))
    return stripped if all(stripped) else None  # an empty value: the general loop


class AmapiImporter:
    name = "amapi"
    title = "Android Management API devices.list JSON"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        text = read_text(path, display)
        first = True
        for item in iter_json(text, display, "devices"):
            if item.error is not None:
                if first:
                    raise refuse(
                        display, f"not an Android Management API device list: {item.error}", line=item.line
                    )
                sink.bad(item.error, line=item.line)
                continue
            value = item.value
            if item.entry is None and isinstance(value, dict) and not _is_device_name(value.get("name")):
                if not value or set(value) <= {"nextPageToken", "totalSize"}:
                    return  # an empty devices.list page
                keys = ", ".join(sorted(value)[:6])
                raise refuse(
                    display,
                    "not an Android Management API devices.list response: no 'devices' "
                    f"array and not a Device (top-level keys: {keys})",
                    line=item.line,
                )
            if first and not (isinstance(value, dict) and _is_device_name(value.get("name"))):
                raise refuse(
                    display,
                    "not an Android Management API Device: the first entry has no "
                    "'name' of the form enterprises/{enterprise}/devices/{device}",
                    line=item.line,
                    entry=item.entry,
                )
            first = False
            self._device(value, item.line, item.entry, sink)

    def _device(self, dev: Any, line: int, entry: str | None, sink: InventorySink) -> None:
        if not isinstance(dev, dict):
            sink.bad("a Device must be a JSON object", line=line, entry=entry)
            return
        name = dev.get("name")
        reports = dev.get("applicationReports")
        n_apps = len(reports) if isinstance(reports, list) else 0
        if not _is_device_name(name):
            sink.bad(
                "Device without a 'name' of the form enterprises/{e}/devices/{d}; "
                f"its {n_apps} application reports are not imported",
                line=line,
                entry=entry,
                rows=1 + n_apps,
            )
            return
        assert isinstance(name, str)
        name = clean(name.strip())
        if dev.get("state") == "DELETED":
            sink.skip("device state DELETED", 1 + n_apps)
            return
        if reports is None:
            sink.bad(
                f"device {name} has no 'applicationReports' (application reports are off in its "
                "policy); its apps are unknown, so it is not part of this snapshot",
                line=line,
                entry=entry,
            )
            return
        if not isinstance(reports, list):
            sink.bad(f"device {name}: 'applicationReports' must be an array", line=line, entry=entry)
            return
        hw = obj(dev.get("hardwareInfo"))
        sw = obj(dev.get("softwareInfo"))
        enrolled = parse_time(dev.get("enrollmentTime"))
        if dev.get("enrollmentTime") is not None and enrolled is None:
            sink.note(
                f"device {name}: enrollmentTime {dev.get('enrollmentTime')!r} is not an RFC 3339 "
                "timestamp; ignored",
                line=line,
                entry=entry,
            )
        record = DeviceRecord(
            source_device_id=name,
            name=name.rsplit("/", 1)[-1],
            platform=Platform.ANDROID,
            ownership=_OWNERSHIP.get(str(dev.get("ownership")), Ownership.UNKNOWN),
            management_mode=_MODE.get(str(dev.get("managementMode")), ManagementMode.UNKNOWN),
            user=text_or_none(dev.get("userName")),
            serial_number=text_or_none(hw.get("serialNumber")),
            model=text_or_none(hw.get("model")),
            os_version=text_or_none(sw.get("androidVersion")),
            enrolled_at=enrolled,
            last_report_at=parse_time(dev.get("lastStatusReportTime")),
        )
        if not sink.device(record, line=line, entry=entry):
            sink.bad(
                f"application reports of the duplicate device {name}", line=line, entry=entry, rows=n_apps
            )
            return
        app = sink.app
        plain = _plain_reports(reports)
        if plain is not None:  # the usual device: its reports handed over column by column
            sink.apps(name, "android", plain[0::5], plain[1::5], plain[2::5], plain[3::5])
            return
        where = entry or ""
        for i, rep in enumerate(reports):
            if not isinstance(rep, dict):
                sink.bad(
                    "an ApplicationReport must be a JSON object",
                    line=line,
                    entry=f"{where}.applicationReports[{i}]",
                )
                continue
            pkg = rep.get("packageName")
            if type(pkg) is not str or not (pkg := pkg.strip()):
                sink.bad(
                    "ApplicationReport without 'packageName'",
                    line=line,
                    entry=f"{where}.applicationReports[{i}]",
                )
                continue
            if rep.get("state") == "REMOVED":
                sink.skip("app reported REMOVED")
                continue
            label = rep.get("displayName")
            version = rep.get("versionName")
            source = rep.get("applicationSource")
            if type(label) is str and type(version) is str and type(source) is str:
                # fast path (the usual case): plain ASCII strings need no cleaning
                joined = pkg + label + version + source
                if joined.isascii() and "\x00" not in joined:
                    app(
                        name,
                        "android",
                        pkg,
                        label.strip() or None,
                        version.strip() or None,
                        source.strip() or None,
                    )
                    continue
            app(name, "android", clean(pkg), text_or_none(label), text_or_none(version), text_or_none(source))


IMPORTER = AmapiImporter()
