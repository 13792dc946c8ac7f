"""The importers' fast paths give exactly what the general paths gave.

Differential tests: each importer against a copy of its code before the fast paths
(``_Ref*``: every CSV line through the csv module, every AMAPI document through
``iter_json`` and json, every AMAPI application report through the per-report loop, line
numbers by counting), on generated and hostile input: quotes,
delimiters and line breaks in fields, NUL, non-ASCII, lone surrogates (invalid UTF-8),
whitespace-only and empty values, wrong JSON types, REMOVED reports, oversized fields.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.errors import FleetError
from appveto.fleet._parallel import RecordingSink
from appveto.fleet.importers import amapi, generic_csv, intune_csv
from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import (
    _Lines,
    _not_utf8,
    clean,
    iter_json,
    obj,
    parse_time,
    read_text,
    text_or_none,
)
from appveto.fleet.importers._memo import Memo
from appveto.fleet.importers._platforms import platform_of
from appveto.fleet.importers.generic_csv import _enum
from appveto.fleet.model import DeviceRecord, ManagementMode, Ownership, Platform

# ---------------------------------------------------------------- the code before the fast paths


class _RefCsvFile:
    """The CSV reader before the line fast path (every line through the csv module).

    Importers iterate :attr:`reader` directly (a generator in between costs a third of
    the parse time); a row the csv module cannot split (NUL byte, a field over the size
    limit) raises ``csv.Error``, is reported as a bad row, and the loop resumes.
    """

    def __init__(self, path: Path, display: str, required: tuple[str, ...], what: str) -> None:
        self.display = display
        self._path = path
        self._fh = path.open("r", encoding="utf-8-sig", newline="")
        try:
            try:
                first = self._fh.readline()
                self._fh.seek(0)
                # Spreadsheets in many European locales save CSV with semicolons.
                delimiter = ";" if "," not in first and ";" in first else ","
                self._reader = csv.reader(self._fh, delimiter=delimiter)
                header = next(self._reader)
            except StopIteration:
                raise refuse(display, f"the file is empty (expected {what})", line=1) from None
            except UnicodeDecodeError:
                raise _not_utf8(path, display) from None
            except csv.Error as exc:
                raise refuse(display, f"not a CSV file: {exc}", line=1) from None
            self.header = [h.strip() for h in header]
            missing = [c for c in required if c not in self.header]
            if missing:
                found = ", ".join(self.header[:8]) + (", ..." if len(self.header) > 8 else "")
                raise refuse(
                    display,
                    f"not {what}: missing column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(missing)} (found: {found})",
                    line=1,
                )
        except BaseException:
            self._fh.close()
            raise

    @property
    def reader(self) -> Any:
        """The csv reader; iterate it and call :meth:`not_utf8` on ``UnicodeDecodeError``."""
        return self._reader

    @property
    def line(self) -> int:
        """The physical line the current row ends on."""
        return int(self._reader.line_num)

    def not_utf8(self) -> Exception:
        return _not_utf8(self._path, self.display)

    def __enter__(self) -> _RefCsvFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._fh.close()


_DESCRIBED = ("DeviceName", "OSDescription", "OSVersion", "Platform", "UserId", "EmailAddress")


class _RefIntune(intune_csv.IntuneCsvImporter):
    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        csv_file = _RefCsvFile(path, display, intune_csv.COLUMNS, "an Intune AppInvRawData export")
        header = csv_file.header
        ix = {c: header.index(c) for c in intune_csv.COLUMNS}
        width = len(header)
        i_dev, i_name, i_short, i_ver = (
            ix["DeviceId"],
            ix["ApplicationName"],
            ix["ApplicationShortVersion"],
            ix["ApplicationVersion"],
        )
        i_dname, i_user, i_mail = ix["DeviceName"], ix["UserId"], ix["EmailAddress"]
        # device -> (platform, hash of its first description): one small tuple per device
        known: dict[str, tuple[str, int]] = {}
        last_dev: str | None = None
        last_sig = ""
        last_seen: tuple[str, int] | None = None
        app = sink.app
        bad = sink.bad

        def on_error(line: int, message: str) -> None:
            bad(message, line=line)

        reader = csv_file.reader
        with csv_file:
            while True:  # the for loop resumes after a row the csv module cannot split
                try:
                    for row in reader:
                        if len(row) != width:
                            if not row or (len(row) == 1 and not row[0].strip()):
                                continue  # blank line
                            bad(f"expected {width} fields, found {len(row)}", line=csv_file.line)
                            continue
                        dev = row[i_dev].strip()
                        if not dev:
                            bad("empty DeviceId", line=csv_file.line)
                            continue
                        name = row[i_name].strip()
                        if not name:
                            bad("empty ApplicationName", line=csv_file.line)
                            continue
                        # changed on purpose since the copy: every device column counts
                        sig = "\0".join(row[ix[c]] for c in _DESCRIBED)
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
                                platform=platform_of(row[ix["Platform"]]),
                                user=row[i_mail].strip() or row[i_user].strip() or None,
                                model=row[ix["OSDescription"]].strip() or None,
                                os_version=row[ix["OSVersion"]].strip() or None,
                            )
                            sink.device(record, line=csv_file.line, repeat=True)
                            if seen is None:
                                known[dev] = (record.platform.value, hash(sig))
                            seen = known[dev]
                        assert seen is not None
                        last_dev, last_sig, last_seen = dev, sig, seen
                        app(
                            dev, seen[0], None, name, row[i_short].strip() or row[i_ver].strip() or None, None
                        )

                except csv.Error as exc:
                    on_error(reader.line_num, f"unreadable CSV row: {exc}")
                    continue
                except UnicodeDecodeError:
                    raise csv_file.not_utf8() from None
                break


class _RefGeneric(generic_csv.GenericCsvImporter):
    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        csv_file = _RefCsvFile(path, display, generic_csv.REQUIRED, "an appveto generic inventory CSV")
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

        ix = {c: col(c) for c in (*generic_csv.REQUIRED, *generic_csv.OPTIONAL)}
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
        last_dev: str | None = None
        last_sig: tuple[str, ...] = ()
        last_seen: tuple[str, int] | None = None
        app = sink.app
        bad = sink.bad

        def on_error(line: int, message: str) -> None:
            bad(message, line=line)

        reader = csv_file.reader
        with csv_file:
            while True:  # the for loop resumes after a row the csv module cannot split
                try:
                    for row in reader:
                        if len(row) != width:
                            if not row or (len(row) == 1 and not row[0].strip()):
                                continue
                            bad(f"expected {width} fields, found {len(row)}", line=csv_file.line)
                            continue
                        dev = row[i_dev].strip()
                        if not dev:
                            bad("empty device_id", line=csv_file.line)
                            continue
                        sig = device_sig(row)
                        if dev == last_dev and sig == last_sig:
                            seen = last_seen  # the usual case: rows of one device follow each other
                            changed = False
                        else:
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
                                    sink.note(p, line=csv_file.line)
                            sink.device(record, line=csv_file.line, repeat=True)
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
                                    line=csv_file.line,
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
                    on_error(reader.line_num, f"unreadable CSV row: {exc}")
                    continue
                except UnicodeDecodeError:
                    raise csv_file.not_utf8() from None
                break


class _RefAmapi(amapi.AmapiImporter):
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
            if (
                item.entry is None
                and isinstance(value, dict)
                and not amapi._is_device_name(value.get("name"))
            ):
                if not value or set(value) <= {"nextPageToken", "totalSize"}:
                    return  # an empty devices.list page
                keys = ", ".join(sorted(value)[:6])
                raise refuse(
                    display,
                    "not an Android Management API devices.list response: no 'devices' "
                    f"array and not a Device (top-level keys: {keys})",
                    line=item.line,
                )
            if first and not (isinstance(value, dict) and amapi._is_device_name(value.get("name"))):
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
        if not amapi._is_device_name(name):
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
            ownership=amapi._OWNERSHIP.get(str(dev.get("ownership")), Ownership.UNKNOWN),
            management_mode=amapi._MODE.get(str(dev.get("managementMode")), ManagementMode.UNKNOWN),
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


# ---------------------------------------------------------------- harness


def _record(importer: Any, path: Path) -> object:
    """Everything an importer told its sink, or the refusal (or the error json raised)."""
    sink = RecordingSink()
    try:
        importer.read(path, path.name, sink)
    except FleetError as exc:
        return ("refused", [str(d) for d in exc.diagnostics()])
    except (ValueError, RecursionError) as exc:  # an integer too long for json, say
        return ("raised", type(exc), str(exc))
    return (sink.events, sink.device_keys, sink.app_keys, list(sink.rows))


def _same(new: Any, ref: Any, path: Path) -> None:
    got, want = _record(new, path), _record(ref, path)
    assert got == want


# Field values that exercise every branch: CSV syntax in values, line breaks, NUL,
# non-ASCII, a lone surrogate (not encodable: the file becomes invalid UTF-8 when it is
# written with surrogatepass), whitespace around and instead of values, a long field.
_PIECES = st.sampled_from(
    [
        "",
        " ",
        "\t",
        "a",
        "A00000001",
        "A00000002",
        "Meta Platforms, Inc.",
        "x;y",
        '"',
        '""',
        '"quoted, field"',
        '"two\nlines"',
        '"cr\rlf\r\n"',
        "\r",
        "\n",
        "\r\n",
        "\x00",
        "é",
        "\u2028",
        "\x1c",
        "\ud800",
        " pad ",
        "REMOVED",
        "android",
        "Android",
        "ios",
        "company",
        "2024-01-02T03:04:05Z",
        "not a time",
        "y" * 40,
    ]
)
_FIELD = st.lists(_PIECES, max_size=3).map("".join)


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


@st.composite
def _csv_text(draw: st.DrawFn, columns: tuple[str, ...]) -> str:
    cols = list(columns) + draw(st.lists(st.sampled_from(["Extra", "x"]), max_size=1))
    cols = draw(st.one_of(st.just(cols), st.permutations(cols)))  # the export order, or any
    delimiter = draw(st.sampled_from([",", ";"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    devices = draw(st.lists(st.lists(_FIELD, min_size=len(cols), max_size=len(cols)), min_size=1, max_size=3))
    lines = [delimiter.join(cols)]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(_FIELD))  # blank, short or odd line
            continue
        base = list(draw(st.sampled_from(devices)))
        if kind == 2 and len(lines) > 1:
            base = lines[-1].split(delimiter)  # the line before, one value changed below
            if len(base) != len(cols):
                continue
        for i in draw(st.lists(st.integers(0, len(cols) - 1), max_size=2)):
            base[i] = draw(_FIELD)  # a value that differs from the device's other rows
        if kind == 1:
            base = base[: draw(st.integers(0, len(base)))]
        lines.append(delimiter.join(base))
    text = newline.join(lines)
    return text + draw(st.sampled_from(["", newline]))


_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture()
def small_field_limit() -> Iterator[None]:
    old = csv.field_size_limit(30)
    yield
    csv.field_size_limit(old)


# ---------------------------------------------------------------- CSV


@_SETTINGS
@given(text=_csv_text(intune_csv.COLUMNS))
def test_intune_csv_same_as_before(tmp_path: Path, text: str) -> None:
    _same(intune_csv.IMPORTER, _RefIntune(), _write(tmp_path, "i.csv", text))


@_SETTINGS
@given(text=_csv_text((*generic_csv.REQUIRED, *generic_csv.OPTIONAL)))
def test_generic_csv_same_as_before(tmp_path: Path, text: str) -> None:
    _same(generic_csv.IMPORTER, _RefGeneric(), _write(tmp_path, "g.csv", text))


@_SETTINGS
@given(text=_csv_text(("device_id", "app_name", "platform")))
def test_generic_csv_few_columns_same_as_before(tmp_path: Path, text: str) -> None:
    _same(generic_csv.IMPORTER, _RefGeneric(), _write(tmp_path, "g.csv", text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_csv_text(intune_csv.COLUMNS))
def test_csv_fields_over_the_size_limit_same_as_before(
    tmp_path: Path, small_field_limit: None, text: str
) -> None:
    path = _write(tmp_path, "i.csv", text)
    _same(intune_csv.IMPORTER, _RefIntune(), path)
    _same(
        generic_csv.IMPORTER, _RefGeneric(), _write(tmp_path, "g.csv", text.replace("DeviceId", "device_id"))
    )


def test_csv_line_numbers_after_quoted_line_breaks(tmp_path: Path) -> None:
    header = ",".join(intune_csv.COLUMNS)
    row = "k,{name},p,1.0,1.0,{dev},n,Android 14,14,Android,u,e@x,user"
    text = "\r\n".join(
        [
            header,
            row.format(name="A", dev="D1"),
            row.format(name='"multi\nline\r\nname"', dev="D1"),
            row.format(name="", dev="D1"),  # bad: empty ApplicationName, on line 6
            "",
            row.format(name="B", dev="D2").replace(",n,", ',"n2, quoted",'),
            row.format(name="C", dev="D2").replace(",u,", ",u2,"),  # a contradicting description
            "too,few",
        ]
    )
    path = _write(tmp_path, "i.csv", text)
    _same(intune_csv.IMPORTER, _RefIntune(), path)
    events = _record(intune_csv.IMPORTER, path)[0]  # type: ignore[index]
    assert [getattr(e, "line", None) for e in events] == [2, 6, 8, 9, 10]


def test_csv_usual_rows_take_the_split_path(tmp_path: Path) -> None:
    header = ",".join(intune_csv.COLUMNS)
    rows = [f"k{i},App {i},p,1.{i},1.{i},D{i // 3},n,Android 14,14,Android,u,e@x,user" for i in range(9)]
    path = _write(tmp_path, "i.csv", "\n".join([header, *rows]) + "\n")
    _same(intune_csv.IMPORTER, _RefIntune(), path)


# ---------------------------------------------------------------- AMAPI

_JSON_VALUE = st.one_of(
    _FIELD,
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.lists(st.integers(0, 1), max_size=1),
    st.just({}),
)
_REPORT_KEYS = ("packageName", "displayName", "versionName", "applicationSource", "state")


@st.composite
def _report(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 15)) == 0:
        return draw(_JSON_VALUE)  # not an object
    plain = {
        "packageName": f"com.example.app{draw(st.integers(0, 3))}",
        "displayName": draw(st.sampled_from(["Example", "Teams", "App 1"])),
        "versionName": draw(st.sampled_from(["1.0", "2.3.4"])),
        "state": draw(st.sampled_from(["INSTALLED", "INSTALLED", "REMOVED", "PENDING"])),
        "applicationSource": "INSTALLED_FROM_PLAY_STORE",
    }
    for key in draw(st.lists(st.sampled_from(_REPORT_KEYS), max_size=2)):
        if draw(st.booleans()):
            plain[key] = draw(_JSON_VALUE)
        else:
            plain.pop(key, None)
    return plain


@st.composite
def _amapi_text(draw: st.DrawFn) -> str:
    devices = []
    for d in range(draw(st.integers(1, 4))):
        reports = draw(st.lists(_report(), max_size=5))
        dev: dict[str, Any] = {
            "name": f"enterprises/E/devices/D{draw(st.integers(0, 4)) if d else 0}",
            "hardwareInfo": {"model": draw(_FIELD)},
            "applicationReports": reports,
        }
        if d and draw(st.integers(0, 8)) == 0:
            dev = draw(
                st.sampled_from([{"name": "x"}, {k: v for k, v in dev.items() if k != "applicationReports"}])
            )
        devices.append(dev)
    ensure_ascii = draw(st.booleans())  # True writes a lone surrogate as a \\ud800 escape
    indent = draw(st.sampled_from([None, 0, 2]))
    if draw(st.booleans()):
        return json.dumps({"devices": devices}, ensure_ascii=ensure_ascii, indent=indent)
    return "\n".join(json.dumps(d, ensure_ascii=ensure_ascii) for d in devices)


@_SETTINGS
@given(text=_amapi_text())
def test_amapi_same_as_before(tmp_path: Path, text: str) -> None:
    _same(amapi.IMPORTER, _RefAmapi(), _write(tmp_path, "a.json", text))


_DEVICE_KEYS = (
    "state",
    "userName",
    "ownership",
    "managementMode",
    "enrollmentTime",
    "lastStatusReportTime",
    "hardwareInfo",
    "softwareInfo",
)
_DEVICE_VALUES = st.one_of(
    _JSON_VALUE,
    _FIELD,
    st.sampled_from(
        [
            "DELETED",
            "ACTIVE",
            "COMPANY_OWNED",
            "PERSONALLY_OWNED",
            "DEVICE_OWNER",
            "PROFILE_OWNER",
            "2024-01-02T03:04:05.123456789Z",
            "2024-01-02 03:04:05+02:00",
            {"model": "Pixel 8", "serialNumber": " SN1 ", "brand": "Google"},
            {"model": 7, "serialNumber": None},
            {"androidVersion": "14"},
            {"androidVersion": 14},
            {"androidVersion": "\ud800"},
            {"nested": {"deeper": [1, 2.5, None, True, "é"]}},
        ]
    ),
)


@st.composite
def _page_device(draw: st.DrawFn, d: int) -> Any:
    if d and draw(st.integers(0, 12)) == 0:
        return draw(_JSON_VALUE)  # not an object
    dev: dict[str, Any] = {
        "name": draw(
            st.sampled_from(
                [
                    f"enterprises/E/devices/D{draw(st.integers(0, 4)) if d else 0}",
                    f"enterprises/E/devices/é{d} ",
                    f" enterprises/E/devices/D{d}",  # not a name (refused when first)
                    "enterprises/E/devices/\x00",
                ][: 4 if d else 2]
            )
        ),
        "applicationReports": draw(st.lists(_report(), max_size=5)),
    }
    for key in draw(st.lists(st.sampled_from(_DEVICE_KEYS), max_size=4)):
        dev[key] = draw(_DEVICE_VALUES)
    if draw(st.integers(0, 6)) == 0:
        dev["unknownField"] = draw(st.one_of(_DEVICE_VALUES, _FIELD))
    if draw(st.integers(0, 5)) == 0:  # a wrong or missing value where one is needed
        key = draw(st.sampled_from(["name", "applicationReports"]))
        if draw(st.booleans()):
            dev[key] = draw(_JSON_VALUE)
        else:
            dev.pop(key, None)
    return dev


@st.composite
def _page_text(draw: st.DrawFn) -> str:
    """A ``devices.list`` page, usually well formed, laid out in many ways, sometimes broken."""
    devices = [draw(_page_device(d)) for d in range(draw(st.integers(0, 4)))]
    ensure_ascii = draw(st.booleans())
    indent = draw(st.sampled_from([None, None, 0, 2]))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    elements = [
        json.dumps(dev, ensure_ascii=ensure_ascii, indent=indent, separators=separators) for dev in devices
    ]
    for i in draw(st.lists(st.integers(0, 3), max_size=2)):
        if i < len(elements) and elements[i].startswith("{"):  # a duplicate key (json keeps the last)
            dup = draw(
                st.sampled_from(['"name":"enterprises/E/devices/X",', '"applicationReports":7,', '"x":1,'])
            )
            elements[i] = "{" + dup + elements[i][1:]
    ws = st.sampled_from(["", "", " ", "\n", "\r\n", "\t", " \n  "])
    head = draw(st.sampled_from(["", "\ufeff", " \n"])) + "{" + draw(ws) + '"devices"' + draw(ws) + ":"
    head += draw(ws) + "[" + draw(ws)
    # well formed, mostly; else broken in one place (the general reading refuses it, or
    # reads it in its own way: a second devices array, JSON Lines)
    broken = draw(st.integers(0, 5)) == 0
    where = draw(st.sampled_from(["separator", "tail", "after"])) if broken else ""
    seps = [draw(st.sampled_from([",", ",\n", " ,\r\n ", "\t,"])) for _ in elements[1:]]
    if where == "separator" and seps:
        seps[draw(st.integers(0, len(seps) - 1))] = draw(st.sampled_from([",,", ";", "\n", "]", "", ", ]"]))
    body = elements[0] if elements else ""
    for sep, element in zip(seps, elements[1:], strict=True):
        body += sep + element
    tails = ["", ', "nextPageToken": "tok"', ',"totalSize":3,"nextPageToken":"é"', ', "x": [[[{"a": []}]]]']
    if where == "tail":
        tails = [
            ', "devices": []',
            ', "devices": [{"name": "enterprises/E/devices/Z", "applicationReports": []}]',
            ', "dev\\u0069ces": []',
            ', "nextPageToken": NaN',
            ', "nextPageToken": "\\ud800"',
            ",",
            ', "x": }',
            ', "x" 1',
            ", 1: 2",
        ]
    tail = draw(st.sampled_from(tails))
    after = draw(st.sampled_from([" x", "\n{}", "]", "\x00"])) if where == "after" else draw(ws)
    close = draw(ws) + "]" + draw(ws) + tail + draw(ws) + "}" + after
    return head + body + close


@_SETTINGS
@given(text=_page_text())
def test_amapi_pages_same_as_before(tmp_path: Path, text: str) -> None:
    _same(amapi.IMPORTER, _RefAmapi(), _write(tmp_path, "a.json", text))


def _usual_page(n: int) -> str:
    """A page laid out as the generator (and most exporters) write it: a device a line."""
    devices = [
        {
            "name": f"enterprises/LC00demo/devices/A{i:08d}",
            "managementMode": "DEVICE_OWNER",
            "ownership": "COMPANY_OWNED",
            "state": "ACTIVE",
            "userName": f"user.{i}@example.be",
            "enrollmentTime": "2022-09-30T04:51:08Z",
            "lastStatusReportTime": "2023-05-31T00:20:23Z",
            "hardwareInfo": {"brand": "Galaxy", "model": "Galaxy S23", "serialNumber": f"SN{i}"},
            "softwareInfo": {"androidVersion": "15"},
            "applicationReports": [
                {
                    "packageName": f"com.vendor.app{j}",
                    "displayName": f"App {j}",
                    "versionName": f"1.{j}",
                    "state": "INSTALLED",
                    "applicationSource": "INSTALLED_FROM_PLAY_STORE",
                }
                for j in range(i % 4 + 1)
            ],
        }
        for i in range(n)
    ]
    return '{"devices": [\n' + ",\n".join(json.dumps(d, separators=(",", ":")) for d in devices) + "\n]}\n"


def _general_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the general reading fail the test if it runs (the reference has its own copy):
    the file is not read as text, and every device comes decoded by msgspec."""

    def forbidden(*_args: Any) -> None:
        raise AssertionError("the general reading ran")

    device = amapi.AmapiImporter._device

    def decoded_only(self: Any, dev: Any, *args: Any) -> None:
        assert isinstance(dev, amapi._DeviceFields), "a device was decoded by json"
        device(self, dev, *args)

    monkeypatch.setattr(amapi, "read_text", forbidden)
    monkeypatch.setattr(amapi, "iter_json", forbidden)
    monkeypatch.setattr(amapi.AmapiImporter, "_device", decoded_only)


@pytest.mark.parametrize("indent", [None, 2])
def test_amapi_usual_pages_take_the_msgspec_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indent: int | None
) -> None:
    text = _usual_page(50)
    if indent is not None:  # as the API itself writes it
        text = json.dumps(json.loads(text) | {"nextPageToken": "t"}, indent=indent)
    path = _write(tmp_path, "a.json", text)
    want = _record(_RefAmapi(), path)
    devices = amapi._split(path.read_bytes())
    # every report is plain: each device comes with its apps' keys, its reports undecoded
    assert devices is not None and all(type(d) is amapi._RawDevice and k is not None for _, d, k in devices)
    _general_forbidden(monkeypatch)
    got = _record(amapi.IMPORTER, path)
    assert got == want
    assert len(got[3]) == sum(i % 4 + 1 for i in range(50))  # type: ignore[index]


def test_amapi_odd_devices_are_decoded_by_json_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A device msgspec refuses goes the general way; its neighbours stay on the msgspec path."""
    page = json.loads(_usual_page(4))
    page["devices"][1]["userName"] = 5
    page["devices"][2]["hardwareInfo"] = "x"
    path = _write(tmp_path, "a.json", json.dumps(page))
    devices = amapi._split(path.read_bytes())
    assert devices is not None
    assert [type(d) is amapi._RawDevice for _, d, _ in devices] == [True, False, False, True]
    _same(amapi.IMPORTER, _RefAmapi(), path)


@pytest.mark.parametrize(
    "text",
    [
        '{"devices": []}',
        '{"nextPageToken": "t"}',
        "{}",
        '[{"name": "enterprises/E/devices/D", "applicationReports": []}]',
        '{"name": "enterprises/E/devices/D", "applicationReports": []}',
        '{"devices": [{"name": "x", "applicationReports": []}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}]}\n{"a": 1}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}], "devices": []}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [], "n": NaN}]}',
        '{"devices": [{"name": "enterprises/E/devices/D\\ud800", "applicationReports": []}]}',
        '{"devices": [{"name": "enterprises/E/devices/D\\udc00\\ud800", "applicationReports": []}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [], "x": "\\q"}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [], "x": "\t"}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [],}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []} {"a": 1}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []},]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [{"packageName": "p"',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}],}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}]}}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}]\x0b}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}]} \x00',
        '{"devices": [{"n\\u0061me": "enterprises/E/devices/D", "applicationReports": []}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [], "x": 1e999}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [], "x": -0.0}]}',
        '{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": [{"packageName": "p", '
        '"displayName": "\\ud83d\\ude00", "versionName": "1", "state": "INSTALLED", '
        '"applicationSource": "s"}]}]}',
        '\ufeff\ufeff{"devices": [{"name": "enterprises/E/devices/D", "applicationReports": []}]}',
        ' \n{"devices":[{"name":"enterprises/E/devices/D0","applicationReports":[]}]}',  # "line 1"
        '\n\n{"devices": [\n{"name": "enterprises/E/devices/D0", "applicationReports": []}\n]}\n',
        '\ufeff{"devices":[{"name":"enterprises/E/devices/D0","applicationReports":[]}]} \n ',
    ],
)
def test_amapi_odd_documents_same_as_before(tmp_path: Path, text: str) -> None:
    _same(amapi.IMPORTER, _RefAmapi(), _write(tmp_path, "a.json", text))


def test_amapi_invalid_utf8_in_a_skipped_field_is_refused(tmp_path: Path) -> None:
    """msgspec does not check the strings it skips; the file is refused as before."""
    text = _usual_page(3).replace('"brand":"Galaxy"', '"brand":"Gal\ud800axy"')
    path = _write(tmp_path, "a.json", text)
    assert amapi._split(path.read_bytes()) is None
    _same(amapi.IMPORTER, _RefAmapi(), path)
    assert _record(amapi.IMPORTER, path)[0] == "refused"  # type: ignore[index]


@pytest.mark.parametrize("digits", [10, 4299, 4300, 4301, 4302, 9000])
@pytest.mark.parametrize("where", ["skipped", "kept", "tail"])
def test_amapi_long_integers_same_as_before(tmp_path: Path, digits: int, where: str) -> None:
    """json refuses to convert an integer over sys.get_int_max_str_digits(); msgspec skips it."""
    number = "9" * digits
    page = _usual_page(3)
    if where == "skipped":
        page = page.replace('"brand":"Galaxy"', f'"brand":{number}', 2)
    elif where == "kept":
        page = page.replace('"model":"Galaxy S23"', f'"model":{number}', 1)
    else:
        page = page.replace("\n]}", f'\n], "totalSize": {number}}}')
    _same(amapi.IMPORTER, _RefAmapi(), _write(tmp_path, "a.json", page))


@settings(max_examples=500, deadline=None)
@given(
    data=st.binary(max_size=60).map(lambda b: bytes(c % 13 + 46 for c in b)),  # mostly digits
    limit=st.integers(1, 12),
)
def test_long_digit_run_finds_every_run_over_the_limit(data: bytes, limit: int) -> None:
    longest = max(map(len, re.findall(rb"[0-9]+", data)), default=0)
    found = amapi._long_digit_run(data, limit)
    if longest > limit:
        assert found
    if found:
        assert longest > max(1, limit // 2)


@pytest.mark.parametrize("where", ["first", "later", "kept", "tail"])
def test_amapi_deep_nesting_same_as_before(tmp_path: Path, where: str) -> None:
    """Nesting deep enough to exceed the recursion limit somewhere: the same refusal as before."""
    limit = sys.getrecursionlimit()
    for depth in range(limit - 200, limit + 5):
        deep = "[" * depth + "]" * depth
        page = _usual_page(3)
        if where == "first":
            page = page.replace('"brand":"Galaxy"', f'"brand":{deep}', 1)
        elif where == "later":
            page = page.replace('"brand":"Galaxy"', f'"brand":{deep}', 2).replace(
                f'"brand":{deep}', '"brand":"Galaxy"', 1
            )
        elif where == "kept":
            page = page.replace('"model":"Galaxy S23"', f'"model":{deep}', 2)
        else:
            page = page.replace("\n]}", f'\n], "nextPageToken": {deep}}}')
        _same(amapi.IMPORTER, _RefAmapi(), _write(tmp_path, "a.json", page))


def test_amapi_report_keys_only_for_plain_flat_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amapi, "_KEYS", Memo(100))
    plain = {k: f" v{k} " for k in _REPORT_KEYS}
    text = json.dumps(plain).encode()
    want = ("android", "vpackageName", "vdisplayName", "vversionName", "vapplicationSource")
    first = amapi._report_keys([msgspec.Raw(text)])
    again = amapi._report_keys([msgspec.Raw(text), msgspec.Raw(text)])
    assert first == [want] and again is not None and again[0] is again[1] is first[0]
    odd = [
        {**plain, "state": "REMOVED"},
        {**plain, "versionName": " "},
        {**plain, "displayName": "é"},
        {**plain, "displayName": "a\x00"},
        {**plain, "displayName": None},
        {**plain, "displayName": 1},
        {k: v for k, v in plain.items() if k != "packageName"},
        {**plain, "extra": {"nested": 1}},
        {**plain, "extra": []},
        [plain],
        "x",
    ]
    for value in odd:
        assert amapi._report_keys([msgspec.Raw(text), msgspec.Raw(json.dumps(value).encode())]) is None
    assert amapi._report_keys([msgspec.Raw(b'{"packageName": "\\ud800"}')]) is None  # msgspec refuses it
    assert amapi._report_keys([]) == [] and amapi._report_keys(None) is None
    assert set(amapi._KEYS.group(None)) == {text}  # only plain reports are remembered


@pytest.mark.parametrize("size", [1, 3])
def test_amapi_report_keys_memory_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """A small bound (the table starts afresh often) gives the same recording."""
    monkeypatch.setattr(amapi, "_KEYS", Memo(size))
    _same(amapi.IMPORTER, _RefAmapi(), _write(tmp_path, "a.json", _usual_page(30)))
    assert len(amapi._KEYS.group(None)) <= size


def test_amapi_plain_reports_take_the_fast_path() -> None:
    reports = [{k: f" v{i}{k} " for k in _REPORT_KEYS} for i in range(3)]
    flat = amapi._plain_reports(reports)
    assert flat is not None and flat[:5] == [f"v0{k}" for k in _REPORT_KEYS]
    for odd in ("", "  ", "REMOVED", "é", "a\x00", None, 1):
        bad = [dict(r) for r in reports]
        bad[1]["versionName" if odd != "REMOVED" else "state"] = odd
        assert amapi._plain_reports(bad) is None
    assert amapi._plain_reports([*reports, "x"]) is None
    assert amapi._plain_reports([*reports, {"packageName": "p"}]) is None


# ---------------------------------------------------------------- line numbers


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(st.sampled_from("ab\n\r{}"), max_size=60),
    steps=st.lists(st.integers(0, 60), max_size=8),
)
def test_lines_match_a_newline_count(text: str, steps: list[int]) -> None:
    lines = _Lines(text)
    for step in steps:
        pos = min(step, len(text))
        assert lines.at(pos) == text.count("\n", 0, pos) + 1


@pytest.mark.parametrize("text", ["", " ", "\n\t\r ", "\u2028\u3000", "\ufeff ", " x ", "\x00", "\ufeff"])
def test_read_text_refuses_the_files_strip_would_find_empty(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "t.json", text)
    empty = not text.encode("utf-8").decode("utf-8-sig").strip()
    if empty:
        with pytest.raises(FleetError, match="the file is empty"):
            read_text(path, "t.json")
    else:
        assert read_text(path, "t.json") == text.removeprefix("\ufeff")


@pytest.mark.parametrize("column", [*intune_csv.COLUMNS, None])
def test_intune_rows_that_differ_in_one_column(tmp_path: Path, column: str | None) -> None:
    """The device of a row is the one of the row before only if its device columns agree."""
    values = {c: c.lower() for c in intune_csv.COLUMNS} | {"DeviceId": "D1", "Platform": "Android"}
    changed = values | ({column: "other"} if column else {})
    rows = [values, changed, values, changed | {"ApplicationName": " "}, values]
    for order in (intune_csv.COLUMNS, tuple(reversed(intune_csv.COLUMNS))):
        text = "\n".join([",".join(order), *(",".join(r[c] for c in order) for r in rows)])
        path = _write(tmp_path, "i.csv", text + "\n")
        _same(intune_csv.IMPORTER, _RefIntune(), path)
        events = _record(intune_csv.IMPORTER, path)[0]  # type: ignore[index]
        # a changed description is declared again (the writer reports it once); UserId is
        # only the user when EmailAddress is empty, so changing it alone changes nothing
        declared = 2 if column in {"DeviceId", *_DESCRIBED} - {"UserId"} else 1
        assert len(events) == declared + 1  # + the empty ApplicationName
