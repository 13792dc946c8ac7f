"""Headwind MDM device info (``POST /rest/public/sync/info`` bodies, ``DeviceInfo``).

A file holds one ``DeviceInfo`` object, an array of them, ``{"devices": [...]}``, or JSON
Lines of them. Keys (``hmdm-server`` / ``hmdm-android``): ``deviceId`` (the device ID),
``model``, ``imei``, ``serial``, ``androidVersion``, ``mdmMode``, ``kioskMode``,
``applications[]{pkg, name, version}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import iter_json, read_text, text_or_none
from appveto.fleet.model import DeviceRecord, ManagementMode, Platform


class HeadwindImporter:
    name = "headwind"
    title = "Headwind MDM device info JSON"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        text = read_text(path, display)
        first = True
        for item in iter_json(text, display, "devices"):
            if item.error is not None:
                sink.bad(item.error, line=item.line)
                continue
            dev = item.value
            if first:
                if not (isinstance(dev, dict) and "deviceId" in dev and "applications" in dev):
                    raise refuse(
                        display,
                        "not a Headwind MDM DeviceInfo: expected 'deviceId' and 'applications'",
                        line=item.line,
                        entry=item.entry,
                    )
                first = False
            self._device(dev, item.line, item.entry, sink)

    def _device(self, dev: Any, line: int, entry: str | None, sink: InventorySink) -> None:
        if not isinstance(dev, dict):
            sink.bad("a DeviceInfo must be a JSON object", line=line, entry=entry)
            return
        apps = dev.get("applications")
        n = len(apps) if isinstance(apps, list) else 0
        key = text_or_none(dev.get("deviceId"))
        if key is None:
            sink.bad(
                f"DeviceInfo without 'deviceId'; its {n} applications are not imported",
                line=line,
                entry=entry,
                rows=1 + n,
            )
            return
        if not isinstance(apps, list):
            sink.bad(f"device {key}: no 'applications' array; its apps are unknown", line=line, entry=entry)
            return
        record = DeviceRecord(
            source_device_id=key,
            name=key,
            platform=Platform.ANDROID,
            management_mode=ManagementMode.FULLY_MANAGED
            if dev.get("mdmMode") is True
            else ManagementMode.UNKNOWN,
            serial_number=text_or_none(dev.get("serial")),
            model=text_or_none(dev.get("model")),
            os_version=text_or_none(dev.get("androidVersion")),
        )
        if not sink.device(record, line=line, entry=entry):
            sink.bad(f"applications of the duplicate device {key}", line=line, entry=entry, rows=n)
            return
        for j, a in enumerate(apps):
            pkg = text_or_none(a.get("pkg")) if isinstance(a, dict) else None
            if pkg is None:
                sink.bad("application without 'pkg'", line=line, entry=f"{entry or ''}.applications[{j}]")
                continue
            assert isinstance(a, dict)
            sink.app(key, "android", pkg, text_or_none(a.get("name")), text_or_none(a.get("version")), None)


IMPORTER = HeadwindImporter()
