"""Fleet (fleetdm) host JSON with software, from its REST API.

Reads ``GET /api/v1/fleet/hosts/:id`` (``{"host": {...}}``), ``GET /api/v1/fleet/hosts?
populate_software=true`` (``{"hosts": [...]}``), a bare array of hosts, or JSON Lines of
hosts. Host keys: ``uuid`` (the device ID; ``id`` when absent), ``hostname`` /
``computer_name`` / ``display_name``, ``platform`` (``darwin``, ``windows``, ``ios``,
``ipados``, ``android``, ...), ``os_version``, ``hardware_serial``, ``hardware_model``,
``device_mapping[]{email}``, ``software[]``.

A software item is either the host-detail shape ``{name, version, source,
bundle_identifier}`` or the per-host software shape ``{name, source,
installed_versions[]{version, bundle_identifier}}``; ``application_id`` (Android) is
read too. Software titles (``/software/titles``) list no hosts and are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import iter_json, read_text, text_or_none
from appveto.fleet.importers._platforms import platform_of
from appveto.fleet.model import DeviceRecord


class FleetImporter:
    name = "fleet"
    title = "Fleet (fleetdm) hosts JSON with software"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        text = read_text(path, display)
        first = True
        for item in iter_json(text, display, "hosts"):
            if item.error is not None:
                sink.bad(item.error, line=item.line)
                continue
            host = item.value
            entry = item.entry
            if item.entry is None and isinstance(host, dict) and isinstance(host.get("host"), dict):
                host, entry = host["host"], "host"
            if first:
                if isinstance(host, dict) and (
                    "software_titles" in host
                    or ("software" in host and "uuid" not in host and "hostname" not in host)
                ):
                    raise refuse(
                        display,
                        "not a Fleet host list: software titles or per-host software "
                        "without the host; export /api/v1/fleet/hosts/:id or "
                        "/api/v1/fleet/hosts?populate_software=true",
                        line=item.line,
                    )
                if not (
                    isinstance(host, dict) and ("uuid" in host or "hostname" in host) and "software" in host
                ):
                    raise refuse(
                        display,
                        "not a Fleet host with software: expected 'uuid'/'hostname' and "
                        "'software' (from /hosts/:id or /hosts?populate_software=true)",
                        line=item.line,
                        entry=entry,
                    )
                first = False
            self._host(host, item.line, entry, sink)

    def _host(self, host: Any, line: int, entry: str | None, sink: InventorySink) -> None:
        if not isinstance(host, dict):
            sink.bad("a host must be a JSON object", line=line, entry=entry)
            return
        software = host.get("software")
        n = len(software) if isinstance(software, list) else 0
        key = text_or_none(host.get("uuid")) or text_or_none(host.get("id"))
        if key is None:
            sink.bad(
                f"host without 'uuid' or 'id'; its {n} software items are not imported",
                line=line,
                entry=entry,
                rows=1 + n,
            )
            return
        if not isinstance(software, list):
            sink.bad(
                f"host {key}: no 'software' array (query with populate_software=true); its apps are "
                "unknown, so it is not part of this snapshot",
                line=line,
                entry=entry,
            )
            return
        mapping = host.get("device_mapping")
        email = None
        if isinstance(mapping, list):
            for m in mapping:
                if isinstance(m, dict) and text_or_none(m.get("email")):
                    email = text_or_none(m.get("email"))
                    break
        platform = platform_of(host.get("platform"))
        record = DeviceRecord(
            source_device_id=key,
            name=text_or_none(host.get("display_name"))
            or text_or_none(host.get("computer_name"))
            or text_or_none(host.get("hostname")),
            platform=platform,
            user=email,
            serial_number=text_or_none(host.get("hardware_serial")),
            model=text_or_none(host.get("hardware_model")),
            os_version=text_or_none(host.get("os_version")),
        )
        if not sink.device(record, line=line, entry=entry):
            sink.bad(f"software of the duplicate host {key}", line=line, entry=entry, rows=n)
            return
        plat = platform.value
        for j, sw in enumerate(software):
            where = f"{entry or ''}.software[{j}]"
            if not isinstance(sw, dict):
                sink.bad("a software item must be a JSON object", line=line, entry=where)
                continue
            name = text_or_none(sw.get("name"))
            source = text_or_none(sw.get("source"))
            app_id = text_or_none(sw.get("bundle_identifier")) or text_or_none(sw.get("application_id"))
            versions = sw.get("installed_versions")
            if isinstance(versions, list) and versions:
                for v in versions:
                    if not isinstance(v, dict):
                        sink.bad("an installed_versions item must be a JSON object", line=line, entry=where)
                        continue
                    vid = text_or_none(v.get("bundle_identifier")) or app_id
                    if vid is None and name is None:
                        sink.bad("software without 'name' or 'bundle_identifier'", line=line, entry=where)
                        continue
                    sink.app(key, plat, vid, name, text_or_none(v.get("version")), source)
                continue
            if app_id is None and name is None:
                sink.bad("software without 'name' or 'bundle_identifier'", line=line, entry=where)
                continue
            sink.app(key, plat, app_id, name, text_or_none(sw.get("version")), source)


IMPORTER = FleetImporter()
