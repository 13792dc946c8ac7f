"""Microsoft Intune "Discovered apps" export, report ``AppInvRawData`` (CSV).

The export job (``POST /beta/deviceManagement/reports/exportJobs`` with
``reportName: AppInvRawData``) and the portal's *Discovered apps > Export* give one row
per app per device with exactly these columns (extra columns, such as the localized
ones, are allowed): ``ApplicationKey, ApplicationName, ApplicationPublisher,
ApplicationShortVersion, ApplicationVersion, DeviceId, DeviceName, OSDescription,
OSVersion, Platform, UserId, EmailAddress, UserName``.

The report has no bundle or package ID, so rows have ``app_id = None`` and are matched
by name. ``ApplicationShortVersion`` is preferred over ``ApplicationVersion``.
"""

from __future__ import annotations

import csv
from operator import itemgetter
from pathlib import Path

from appveto.fleet.importers._base import InventorySink
from appveto.fleet.importers._common import CsvFile
from appveto.fleet.importers._platforms import platform_of
from appveto.fleet.model import DeviceRecord

COLUMNS = (
    "ApplicationKey",
    "ApplicationName",
    "ApplicationPublisher",
    "ApplicationShortVersion",
    "ApplicationVersion",
    "DeviceId",
    "DeviceName",
    "OSDescription",
    "OSVersion",
    "Platform",
    "UserId",
    "EmailAddress",
    "UserName",
)


class IntuneCsvImporter:
    name = "intune-csv"
    title = "Intune discovered apps export (AppInvRawData CSV)"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        csv_file = CsvFile(path, display, COLUMNS, "an Intune AppInvRawData export")
        header = csv_file.header
        ix = {c: header.index(c) for c in COLUMNS}
        width = len(header)
        i_dev, i_name, i_short, i_ver = (
            ix["DeviceId"],
            ix["ApplicationName"],
            ix["ApplicationShortVersion"],
            ix["ApplicationVersion"],
        )
        i_dname, i_user, i_mail = ix["DeviceName"], ix["UserId"], ix["EmailAddress"]
        i_plat, i_desc, i_osv = ix["Platform"], ix["OSDescription"], ix["OSVersion"]
        # the columns that describe the device, after DeviceId: a row that changes any of
        # them describes its device differently (reported once by the sink)
        described = (i_dname, i_desc, i_osv, i_plat, i_user, i_mail)
        signature_of = itemgetter(*described)
        # device -> (platform, hash of its first description): one small tuple per device
        known: dict[str, tuple[str, int]] = {}
        last_dev = ""
        last_sig = ""
        last_seen: tuple[str, int] | None = None
        # the raw DeviceId and description of the last row that declared or used its device:
        # a row with the same is the same device with the same description
        key_of = itemgetter(i_dev, *described)
        last_key: tuple[str, ...] = ()
        last_platform = ""
        # When the device columns all come after the app columns (as in the export), the
        # text of a line after its k-th delimiter holds every device column and at least one
        # delimiter: a line whose tail equals the last one's (``last_tail``, from a line with
        # the key ``last_key`` and the right width, split here) has that key and that width,
        # and only its first k fields need splitting.
        k = min(i_dev, *described)
        by_tail = max(i_name, i_short, i_ver) < k <= width - 2
        last_tail: str | None = None
        app = sink.app
        bad = sink.bad

        def on_error(line: int, message: str) -> None:
            bad(message, line=line)

        reader = csv_file.reader
        lines, parse, delimiter, limit = csv_file.lines, csv_file.parse, csv_file.delimiter, csv_file.limit

        def tail_of(line: str) -> str | None:
            """``line``'s tail, if the row was split here (not by the csv module)."""
            if not by_tail or '"' in line or len(line) > limit:
                return None
            return line.split(delimiter, k)[-1]

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
                            if by_tail:
                                head = line.split(delimiter, k)
                                if head[-1] == last_tail:
                                    name = head[i_name].strip()
                                    if not name:
                                        bad("empty ApplicationName", line=fast + reader.line_num)
                                        continue
                                    app(
                                        last_dev,
                                        last_platform,
                                        None,
                                        name,
                                        head[i_short].strip() or head[i_ver].strip() or None,
                                        None,
                                    )
                                    continue
                            row = line.rstrip("\r\n").split(delimiter)
                        if len(row) != width:
                            if not row or (len(row) == 1 and not row[0].strip()):
                                continue  # blank line
                            bad(f"expected {width} fields, found {len(row)}", line=fast + reader.line_num)
                            continue
                        if key_of(row) == last_key:
                            # the usual case: the next app of the device of the row before
                            name = row[i_name].strip()
                            if not name:
                                bad("empty ApplicationName", line=fast + reader.line_num)
                                continue
                            app(
                                last_dev,
                                last_platform,
                                None,
                                name,
                                row[i_short].strip() or row[i_ver].strip() or None,
                                None,
                            )
                            last_tail = tail_of(line)
                            continue
                        dev = row[i_dev].strip()
                        if not dev:
                            bad("empty DeviceId", line=fast + reader.line_num)
                            continue
                        name = row[i_name].strip()
                        if not name:
                            bad("empty ApplicationName", line=fast + reader.line_num)
                            continue
                        sig = "\0".join(signature_of(row))
                        if dev == last_dev and sig == last_sig:
                            seen = last_seen  # the usual case: rows of one device follow each other
                            changed = False
                        else:
                            seen = known.get(dev)
                            changed = seen is None or seen[1] != hash(sig)
                        if changed:
                            record = DeviceRecord(
                                source_device_id=dev,
                                name=row[i_dname].strip() or None,
                                platform=platform_of(row[i_plat]),
                                user=row[i_mail].strip() or row[i_user].strip() or None,
                                model=row[i_desc].strip() or None,
                                os_version=row[i_osv].strip() or None,
                            )
                            sink.device(record, line=fast + reader.line_num, repeat=True)
                            if seen is None:
                                known[dev] = (record.platform.value, hash(sig))
                            seen = known[dev]
                        assert seen is not None
                        last_dev, last_sig, last_seen = dev, sig, seen
                        last_key, last_platform = key_of(row), seen[0]
                        last_tail = tail_of(line)
                        app(
                            dev, seen[0], None, name, row[i_short].strip() or row[i_ver].strip() or None, None
                        )

                except csv.Error as exc:
                    on_error(fast + reader.line_num, f"unreadable CSV row: {exc}")
                    continue
                except UnicodeDecodeError:
                    raise csv_file.not_utf8() from None
                break


IMPORTER = IntuneCsvImporter()
