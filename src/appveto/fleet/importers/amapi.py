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

The usual file (a well-formed ``devices.list`` page) is read by msgspec: the ``devices``
array split into raw elements, each element decoded into typed structs holding only the
fields read here. Whatever that reading is not sure to give exactly as the general reading
(``iter_json`` and :meth:`AmapiImporter._device`) goes the general way: an element msgspec
refuses (a wrong type, a lone surrogate escape) is decoded by json, and a document of any
other shape, or one msgspec and json may disagree on, is read the general way as a whole.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from itertools import chain
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from appveto.fleet._rows import AppKey
from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import (
    clean,
    iter_json,
    parse_time,
    read_text,
    text_or_none,
)
from appveto.fleet.importers._memo import Memo
from appveto.fleet.model import DeviceRecord, ManagementMode, Ownership, Platform
from appveto.jsoncap import MAX_STRING, may_hold_long_string

_OWNERSHIP = {"COMPANY_OWNED": Ownership.COMPANY, "PERSONALLY_OWNED": Ownership.PERSONAL}
_MODE = {"DEVICE_OWNER": ManagementMode.FULLY_MANAGED, "PROFILE_OWNER": ManagementMode.WORK_PROFILE}


def _is_device_name(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("enterprises/") and "/devices/" in value


_REPORT_FIELDS = itemgetter("packageName", "displayName", "versionName", "applicationSource", "state")
_strip = str.strip


_STRUCT_REPORT_FIELDS = attrgetter("packageName", "displayName", "versionName", "applicationSource", "state")


def _plain_reports(reports: list[Any], fields: Callable[[Any], Any] = _REPORT_FIELDS) -> list[str] | None:
    """The usual device's reports, read with a few C-level passes instead of a loop.

    When every report is an object with the five fields as non-empty (once stripped)
    plain ASCII strings without NUL, and none is ``REMOVED``, the general loop below
    would give each report's stripped fields as they are, in order: this returns them
    flat (five per report, state last). Otherwise ``None``, and the general loop runs.
    ``fields`` reads a report's five fields: from a dict, or (attrgetter) from a struct.
    """
    try:
        flat = list(chain.from_iterable(map(fields, reports)))
        joined = "".join(flat)
    except (KeyError, TypeError):
        # a report that is not an object, lacks a field, or has a non-string (a struct's
        # missing or null field is None: a TypeError too)
        return None
    if not joined.isascii() or "\x00" in joined or "REMOVED" in flat[4::5]:
        return None
    stripped = list(map(_strip, flat))
    return stripped if all(stripped) else None  # an empty value: the general loop


# ---------------------------------------------------------------- the msgspec reading
# (struct fields are named as the API names them)


class _Hardware(msgspec.Struct, gc=False):
    serialNumber: str | None = None
    model: str | None = None


class _Software(msgspec.Struct, gc=False):
    androidVersion: str | None = None


class _Report(msgspec.Struct, gc=False):
    packageName: str | None = None
    displayName: str | None = None
    versionName: str | None = None
    applicationSource: str | None = None
    state: str | None = None


class _DeviceFields(msgspec.Struct, gc=False):
    """The fields :meth:`AmapiImporter._device` reads (absent and ``null`` are both ``None``,
    as ``dict.get`` gives them); a value of another JSON type fails the decoding."""

    name: str | None = None
    state: str | None = None
    userName: str | None = None
    enrollmentTime: str | None = None
    lastStatusReportTime: str | None = None
    ownership: str | None = None
    managementMode: str | None = None
    hardwareInfo: _Hardware | None = None
    softwareInfo: _Software | None = None


class _Device(_DeviceFields, gc=False):
    """A Device with its application reports decoded."""

    applicationReports: list[_Report] | None = None


class _RawDevice(_DeviceFields, gc=False):
    """A Device with its application reports left as raw JSON texts, for the usual
    device whose reports are all known (:func:`_report_keys`)."""

    applicationReports: list[msgspec.Raw] | None = None


class _Page(msgspec.Struct, gc=False):
    devices: list[msgspec.Raw]


_PAGE = msgspec.json.Decoder(_Page)
_DEVICE = msgspec.json.Decoder(_Device)
_RAW_DEVICE = msgspec.json.Decoder(_RawDevice)
_REPORT = msgspec.json.Decoder(_Report)


_KEYS: Memo[bytes, AppKey] = Memo()
"""The app key of each plain application report text seen (the same tuple object each
time: the sink looks it up without hashing its strings again)."""


def _report_key(text: bytes) -> AppKey | None:
    """The key of one report text that :func:`_plain_reports` takes as plain, else ``None``.

    Only a flat object (one ``{``, no ``[``) qualifies: its reading cannot depend on the
    nesting around it. It is decoded with the same struct as inside a device.
    """
    if text.count(b"{") != 1 or b"[" in text:
        return None
    try:
        report = _REPORT.decode(text)
    except msgspec.DecodeError:
        return None
    plain = _plain_reports([report], _STRUCT_REPORT_FIELDS)
    if plain is None:
        return None
    key = ("android", plain[0], plain[1], plain[2], plain[3])
    _KEYS.add(None, text, key, len(text))
    return key


def _report_keys(reports: list[msgspec.Raw] | None) -> list[AppKey] | None:
    """The app keys of a device's reports when every one is plain, else ``None``.

    A report text read before costs one dictionary lookup; a new one is decoded once.
    """
    if reports is None:
        return None
    texts = list(map(bytes, reports))
    keys = list(map(_KEYS.group(None).get, texts))
    if None in keys:
        for i in [i for i, key in enumerate(keys) if key is None]:
            # an earlier position may have added it
            found = _KEYS.group(None).get(texts[i]) or _report_key(texts[i])
            if found is None:
                return None
            keys[i] = found
    return keys  # type: ignore[return-value]  # no None is left


def _field(value: Any, key: str) -> Any:
    """A field of a decoded Device, ApplicationReport or sub-object: the key of a JSON
    object as json decodes it, the attribute of a msgspec struct (absent and ``null`` are
    ``None`` in both); ``None`` for anything else (a sub-object that is not an object)."""
    if value.__class__ is dict:
        return value.get(key)
    if isinstance(value, msgspec.Struct):
        return getattr(value, key)
    return None


_HEAD = re.compile(rb'[ \t\n\r]*\{[ \t\n\r]*"devices"[ \t\n\r]*:[ \t\n\r]*\[[ \t\n\r]*')
_COMMA = re.compile(rb"[ \t\n\r]*,[ \t\n\r]*")
_CLOSE = re.compile(rb"[ \t\n\r]*\][ \t\n\r]*")
_WS = b" \t\n\r"
_BOM = b"\xef\xbb\xbf"
_DIGIT_MAP = bytes(49 if 48 <= b <= 57 else 48 for b in range(256))  # digits -> "1", others -> "0"

# The general reading decodes an element a few Python frames below ``read`` (json counts
# them against the recursion limit, as msgspec does): the msgspec reading runs this many
# frames lower, so that a document nested deeply enough to fail the general reading fails
# it too (and is then read the general way).
_DEPTH_MARGIN = 8

_T = TypeVar("_T")


def _lower(levels: int, fn: Callable[[bytes], _T], arg: bytes) -> _T:
    return fn(arg) if levels <= 0 else _lower(levels - 1, fn, arg)


def _long_digit_run(data: bytes, limit: int) -> bool:
    """Whether ``data`` may hold a run of more than ``limit`` digits (``True`` for every such run).

    msgspec skips an integer in a field it does not keep; json raises ``ValueError`` on one
    of more than ``sys.get_int_max_str_digits()`` digits. A run of more than ``limit`` digits
    holds two consecutive multiples of ``limit // 2`` and the digits between them.
    """
    if not limit:
        return False
    step = max(1, limit // 2)
    marks = data[::step].translate(_DIGIT_MAP)
    i = marks.find(b"11")
    while i != -1:
        if data[i * step : (i + 1) * step + 1].isdigit():
            return True
        i = marks.find(b"11", i + 1)
    return False


def _split(data: bytes) -> list[tuple[int, Any, list[AppKey] | None]] | None:
    """The devices of a well-formed ``devices.list`` page, each with the line it starts on
    and, for the usual device, the keys of its apps.

    The usual device (every report plain, see :func:`_report_keys`) is a :class:`_RawDevice`
    with those keys; any other is a :class:`_Device`, or (when msgspec refuses it) the value
    json gives, without keys. ``None``
    when the document is not such a page, or when msgspec and json may not agree on it: the
    general reading then reads it (and gives its refusal, if any).
    """
    start = 3 if data.startswith(_BOM) else 0
    head = _HEAD.match(data, start)
    if head is None:
        return None
    if data.find(b"\n", start, data.find(b"{", start)) != -1:
        # iter_json says line 1 for all of a one-line document, even after blank lines
        return None
    if not data.isascii():
        try:
            data.decode("utf-8")  # msgspec does not check the strings it skips
        except UnicodeDecodeError:
            return None
    if _long_digit_run(data, sys.get_int_max_str_digits()):
        return None
    body = data[start:] if start else data
    try:
        elements = _PAGE.decode(body).devices
    except (msgspec.DecodeError, RecursionError):
        return None
    if not elements:
        return None
    pos = head.end() - start
    line = 1 + body.count(b"\n", 0, pos)
    last = len(elements) - 1
    out: list[tuple[int, Any, list[AppKey] | None]] = []
    add = out.append
    count = body.count
    find = body.find
    decode = _DEVICE.decode
    decode_raw = _RAW_DEVICE.decode
    for i, raw in enumerate(elements):
        # the elements are the page's, in order: each must start where the one before ends
        if not body.startswith(raw, pos):
            return None
        if len(raw) > MAX_STRING and may_hold_long_string(bytes(raw)):  # the general reading caps them
            return None
        end = pos + len(raw)
        keys = None
        try:
            device: Any = decode_raw(raw)
            keys = _report_keys(device.applicationReports)
        except (msgspec.DecodeError, RecursionError):
            pass
        if keys is None:
            try:
                device = decode(raw)
            except (msgspec.DecodeError, RecursionError):
                try:  # a wrong type, a lone surrogate escape: what json makes of it
                    device = json.loads(bytes(raw).decode("utf-8"))
                except (ValueError, RecursionError):
                    return None
        if i == 0 and not _is_device_name(
            device.name
            if isinstance(device, _DeviceFields)
            else device.get("name")
            if isinstance(device, dict)
            else None
        ):
            return None  # the general reading refuses the file
        add((line, device, keys))
        if i < last:
            sep = _COMMA.match(body, end)
            if sep is None:
                return None
            # the next element's line: find (memchr) skips the usual one-line element
            # much faster than count
            nl = find(b"\n", pos, sep.end())
            pos = sep.end()
            if nl != -1:
                line += 1 + count(b"\n", nl + 1, pos)
            continue
        close = _CLOSE.match(body, end)
        if close is None:
            return None
        rest = body[close.end() :]
        if rest.strip(_WS) == b"}":
            return out
        # other top-level keys after the array (nextPageToken): a JSON object's members, and
        # no second "devices" array (the general reading reads it too)
        if not rest.startswith(b",") or not rest[1:].lstrip(_WS).startswith(b'"'):
            return None
        try:
            members = json.loads(b"{" + rest[1:], object_pairs_hook=list)
        except (ValueError, RecursionError):
            return None
        return None if any(key == "devices" for key, _ in members) else out
    return None


class AmapiImporter:
    name = "amapi"
    title = "Android Management API devices.list JSON"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        devices = _lower(_DEPTH_MARGIN, _split, path.read_bytes())
        if devices is not None:
            self._devices(devices, sink)
            return
        # The general reading: any document iter_json reads, decoded by json (here, not in a
        # method of its own: json must decode at the depth it always did, see _DEPTH_MARGIN).
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

    def _devices(self, devices: list[tuple[int, Any, list[AppKey] | None]], sink: InventorySink) -> None:
        """The devices :func:`_split` found, in order (entry ``devices[i]``)."""
        read = self._device
        for i, (line, device, keys) in enumerate(devices):
            read(device, line, f"devices[{i}]", sink, keys)

    def _device(
        self, dev: Any, line: int, entry: str | None, sink: InventorySink, keys: list[AppKey] | None = None
    ) -> None:
        """One Device: a JSON object as json decodes it, or the :class:`_Device` msgspec
        decoded (then every field read is a string or ``None`` already); for a
        :class:`_RawDevice`, ``keys`` are its reports' app keys."""
        if not isinstance(dev, dict | _DeviceFields):
            sink.bad("a Device must be a JSON object", line=line, entry=entry)
            return
        name = _field(dev, "name")
        reports = _field(dev, "applicationReports")
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
        if _field(dev, "state") == "DELETED":
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
        hw = _field(dev, "hardwareInfo")
        sw = _field(dev, "softwareInfo")
        enrollment = _field(dev, "enrollmentTime")
        enrolled = parse_time(enrollment)
        if enrollment is not None and enrolled is None:
            sink.note(
                f"device {name}: enrollmentTime {enrollment!r} is not an RFC 3339 timestamp; ignored",
                line=line,
                entry=entry,
            )
        record = DeviceRecord(
            source_device_id=name,
            name=name.rsplit("/", 1)[-1],
            platform=Platform.ANDROID,
            ownership=_OWNERSHIP.get(str(_field(dev, "ownership")), Ownership.UNKNOWN),
            management_mode=_MODE.get(str(_field(dev, "managementMode")), ManagementMode.UNKNOWN),
            user=text_or_none(_field(dev, "userName")),
            serial_number=text_or_none(_field(hw, "serialNumber")),
            model=text_or_none(_field(hw, "model")),
            os_version=text_or_none(_field(sw, "androidVersion")),
            enrolled_at=enrolled,
            last_report_at=parse_time(_field(dev, "lastStatusReportTime")),
        )
        if not sink.device(record, line=line, entry=entry):
            sink.bad(
                f"application reports of the duplicate device {name}", line=line, entry=entry, rows=n_apps
            )
            return
        if keys is not None:  # the usual device: its reports' keys are known
            sink.keyed_apps(name, keys)
            return
        app = sink.app
        plain = _plain_reports(reports, _STRUCT_REPORT_FIELDS if dev.__class__ is _Device else _REPORT_FIELDS)
        if plain is not None:  # the usual device: its reports handed over column by column
            sink.apps(name, "android", plain[0::5], plain[1::5], plain[2::5], plain[3::5])
            return
        where = entry or ""
        for i, rep in enumerate(reports):
            if not isinstance(rep, dict | _Report):
                sink.bad(
                    "an ApplicationReport must be a JSON object",
                    line=line,
                    entry=f"{where}.applicationReports[{i}]",
                )
                continue
            pkg = _field(rep, "packageName")
            if type(pkg) is not str or not (pkg := pkg.strip()):
                sink.bad(
                    "ApplicationReport without 'packageName'",
                    line=line,
                    entry=f"{where}.applicationReports[{i}]",
                )
                continue
            if _field(rep, "state") == "REMOVED":
                sink.skip("app reported REMOVED")
                continue
            label = _field(rep, "displayName")
            version = _field(rep, "versionName")
            source = _field(rep, "applicationSource")
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
