"""appveto's generic inventory CSV, for any MDM that can export a table.

One row per app per device; UTF-8, comma-separated, header row required. Columns
(order free, unknown columns ignored; see docs/fleet.md):

* required: ``device_id``, and ``app_id`` or ``app_name`` (at least one non-empty per row);
* optional: ``app_version``, ``install_source``, ``device_name``, ``platform``
  (android, ios, ipados, macos, windows, linux, chromeos), ``ownership`` (company,
  personal), ``management_mode`` (fully_managed, work_profile, supervised,
  user_enrollment, unmanaged), ``user`` (e-mail or user name), ``serial_number``,
  ``model``, ``os_version``, ``enrolled_at`` (ISO 8601).

A device with no apps is one row with ``device_id`` and empty app columns: it is part of
the snapshot with an empty inventory.
"""

from __future__ import annotations

import csv
from operator import itemgetter
from pathlib import Path

from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import CsvFile, parse_time
from appveto.fleet.model import DeviceRecord, ManagementMode, Ownership, Platform

REQUIRED = ("device_id",)
OPTIONAL = (
    "app_id",
    "app_name",
    "app_version",
    "install_source",
    "device_name",
    "platform",
    "ownership",
    "management_mode",
    "user",
    "serial_number",
    "model",
    "os_version",
    "enrolled_at",
)


def _enum(
    value: str, enum: type[Platform] | type[Ownership] | type[ManagementMode], field: str, problems: list[str]
) -> str:
    v = value.strip().lower()
    if not v:
        return "unknown"
    try:
        return enum(v).value
    except ValueError:
        problems.append(
            f"{field} {value!r} is not one of {', '.join(m.value for m in enum)}; read as unknown"
        )
        return "unknown"


class GenericCsvImporter:
    name = "generic-csv"
    title = "appveto generic inventory CSV"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        csv_file = CsvFile(path, display, REQUIRED, "an appveto generic inventory CSV")
        header = csv_file.header
        if "app_id" not in header and "app_name" not in header:
            raise refuse(
                display,
                "not an appveto generic inventory CSV: needs an 'app_id' or 'app_name' column",
                line=1,
            )
        width = len(header)

        def col(name: str) -> int:
            return header.index(name) if name in header else -1

        ix = {c: col(c) for c in (*REQUIRED, *OPTIONAL)}
        i_dev, i_id, i_name, i_ver, i_src = (
            ix["device_id"],
            ix["app_id"],
            ix["app_name"],
            ix["app_version"],
            ix["install_source"],
        )
        device_cols = (
            "device_name",
            "platform",
            "ownership",
            "management_mode",
            "user",
            "serial_number",
            "model",
            "os_version",
            "enrolled_at",
        )
        # the device columns of a row, as one tuple (device_id first, so there are always
        # two items or more and itemgetter always returns a tuple)
        device_sig = itemgetter(i_dev, *(ix[c] for c in device_cols if ix[c] >= 0))

        # device -> (platform, hash of its first description): one small tuple per device
        known: dict[str, tuple[str, int]] = {}
        last_dev = ""
        last_sig: tuple[str, ...] = ()
        last_seen: tuple[str, int] | None = None
        app = sink.app
        bad = sink.bad

        def on_error(line: int, message: str) -> None:
            bad(message, line=line)

        reader = csv_file.reader
        lines, parse, delimiter, limit = csv_file.lines, csv_file.parse, csv_file.delimiter, csv_file.limit
        fast = 0  # lines split here; the row just read ends on line fast + reader.line_num
        with csv_file:
            while True:  # the for loop resumes after a row the csv module cannot split
                try:
                    for line in lines:
                        if '"' in line or len(line) > limit:
                            row = parse(line)
                            if row is None:
                                break
                        else:
                            fast += 1
                            row = line.rstrip("\r\n").split(delimiter)
                        if len(row) != width:
                            if not row or (len(row) == 1 and not row[0].strip()):
                                continue
                            bad(f"expected {width} fields, found {len(row)}", line=fast + reader.line_num)
                            continue
                        sig = device_sig(row)
                        if sig == last_sig:
                            # the usual case: rows of one device follow each other (the same raw
                            # device columns, so the same non-empty device_id)
                            dev, seen, changed = last_dev, last_seen, False
                        else:
                            dev = row[i_dev].strip()
                            if not dev:
                                bad("empty device_id", line=fast + reader.line_num)
                                continue
                            seen = known.get(dev)
                            changed = seen is None or seen[1] != hash(sig)
                        if changed:
                            problems: list[str] = []
                            get = {c: row[ix[c]] if ix[c] >= 0 else "" for c in device_cols}
                            enrolled = parse_time(get["enrolled_at"])
                            if get["enrolled_at"].strip() and enrolled is None:
                                problems.append(
                                    f"enrolled_at {get['enrolled_at']!r} is not an ISO 8601 timestamp; "
                                    "ignored"
                                )
                            record = DeviceRecord(
                                source_device_id=dev,
                                name=get["device_name"].strip() or None,
                                platform=Platform(_enum(get["platform"], Platform, "platform", problems)),
                                ownership=Ownership(
                                    _enum(get["ownership"], Ownership, "ownership", problems)
                                ),
                                management_mode=ManagementMode(
                                    _enum(get["management_mode"], ManagementMode, "management_mode", problems)
                                ),
                                user=get["user"].strip() or None,
                                serial_number=get["serial_number"].strip() or None,
                                model=get["model"].strip() or None,
                                os_version=get["os_version"].strip() or None,
                                enrolled_at=enrolled,
                            )
                            if seen is None:
                                for p in problems:
                                    sink.note(p, line=fast + reader.line_num)
                            sink.device(record, line=fast + reader.line_num, repeat=True)
                            if seen is None:
                                known[dev] = (record.platform.value, hash(sig))
                            seen = known[dev]
                        assert seen is not None
                        last_dev, last_sig, last_seen = dev, sig, seen
                        app_id = row[i_id].strip() if i_id >= 0 else ""
                        name = row[i_name].strip() if i_name >= 0 else ""
                        if not app_id and not name:
                            if any(row[i].strip() for i in (i_ver, i_src) if i >= 0):
                                bad(
                                    "app_version or install_source without app_id or app_name",
                                    line=fast + reader.line_num,
                                )
                            continue  # a device row without apps
                        app(
                            dev,
                            seen[0],
                            app_id or None,
                            name or None,
                            (row[i_ver].strip() or None) if i_ver >= 0 else None,
                            (row[i_src].strip() or None) if i_src >= 0 else None,
                        )

                except csv.Error as exc:
                    on_error(fast + reader.line_num, f"unreadable CSV row: {exc}")
                    continue
                except UnicodeDecodeError:
                    raise csv_file.not_utf8() from None
                break


IMPORTER = GenericCsvImporter()
