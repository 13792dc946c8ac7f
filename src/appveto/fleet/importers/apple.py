"""Apple MDM: ``InstalledApplicationList`` command responses (property lists, XML or binary).

A file holds one response dictionary, or an array of them (several devices). Keys are
those of Apple's ``mdm/commands/application.installed.list.yaml`` (``responsekeys``) and
the MDM protocol's response envelope:

* ``UDID`` (device channel) or ``EnrollmentID`` (User Enrollment), ``Status``
  (``Acknowledged``; ``Error``/``NotNow`` responses carry no list), ``CommandUUID``;
* ``InstalledApplicationList[]{Identifier, Name, Version, ShortVersion, ...}``.

``Identifier`` may be missing on macOS: such a row keeps its ``Name``. ``ShortVersion``
(the marketing version) is preferred over ``Version`` (the build number).

The response carries no platform; when the same file also holds a ``DeviceInformation``
response for the device (``QueryResponses{ProductName, OSVersion, SerialNumber,
DeviceName, IsSupervised}``), the device gets its platform, model, serial number and name.
"""

from __future__ import annotations

import plistlib
import re
from collections.abc import Iterable
from itertools import repeat
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import text_or_none
from appveto.fleet.importers._plist import PlistError, loads_binary, loads_xml
from appveto.fleet.model import DeviceRecord, ManagementMode, Platform

_LEAD = re.compile(rb"[\xef\xbb\xbf \t\r\n]*")
"""What may come before a plist's first byte (a BOM, white space)."""


def _platform(product: str | None) -> Platform:
    if product is None:
        return Platform.UNKNOWN
    for prefix, platform in (
        ("iPhone", Platform.IOS),
        ("iPod", Platform.IOS),
        ("iPad", Platform.IPADOS),
        ("Mac", Platform.MACOS),
        ("VirtualMac", Platform.MACOS),
    ):
        if product.startswith(prefix):
            return platform
    return Platform.UNKNOWN


def _plain_columns(apps: list[Any]) -> tuple[list[Any], list[Any], list[Any], Iterable[Any]] | None:
    """Identifiers, names, versions and sources of an app list whose every item is usual.

    Usual: a dictionary whose ``Identifier``, ``Name`` and ``ShortVersion`` are ASCII
    strings without NUL that are not blank, and whose ``Source`` is missing (or ``None``)
    in every item or such a string in every item. Then :func:`text_or_none` of
    each is the string stripped, and whole columns are read at once (C loops, no Python
    per app). Any other list gives ``None`` and takes the general per-item loop.
    """
    if set(map(type, apps)) != {dict}:
        return None
    n = len(apps)
    get = dict.get
    ids: list[Any] = list(map(get, apps, repeat("Identifier", n)))
    names: list[Any] = list(map(get, apps, repeat("Name", n)))
    versions: list[Any] = list(map(get, apps, repeat("ShortVersion", n)))
    sources: list[Any] = list(map(get, apps, repeat("Source", n)))
    plain_sources = sources.count(None) == n
    try:  # join refuses anything but strings (a str subclass strips to the same str)
        joined = "".join(ids) + "".join(names) + "".join(versions)
        if not plain_sources:
            joined += "".join(sources)
    except TypeError:
        return None
    if not joined.isascii() or "\x00" in joined:
        return None
    ids = list(map(str.strip, ids))
    names = list(map(str.strip, names))
    versions = list(map(str.strip, versions))
    if "" in ids or "" in names or "" in versions:
        return None
    if plain_sources:
        return ids, names, versions, repeat(None, n)
    sources = list(map(str.strip, sources))
    if "" in sources:
        return None
    return ids, names, versions, sources


def _device_key(resp: dict[str, Any]) -> str | None:
    return text_or_none(resp.get("UDID")) or text_or_none(resp.get("EnrollmentID"))


class AppleImporter:
    name = "apple"
    title = "Apple MDM InstalledApplicationList responses (plist)"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        data = path.read_bytes()
        if not data or data.isspace():  # not data.strip(), without copying the file
            raise refuse(display, "the file is empty (expected an InstalledApplicationList response plist)")
        head = _LEAD.match(data).end()  # type: ignore[union-attr]  # ("*" always matches)
        if not data.startswith((b"bplist", b"<"), head):
            raise refuse(
                display,
                "not a property list (neither an XML nor a binary plist); expected an "
                "InstalledApplicationList command response",
            )
        try:
            if data.startswith(b"bplist"):
                doc = loads_binary(data)  # bounded: a cycle or a shared-reference bomb is refused
            elif data.startswith(b"bplist", head):
                raise plistlib.InvalidFileException()  # text before a binary plist
            else:
                doc = loads_xml(data)
        except PlistError as exc:
            raise refuse(display, f"broken plist: {exc}", line=exc.line, column=exc.column) from None
        except ExpatError as exc:
            raise refuse(display, f"broken plist: {exc}", line=exc.lineno, column=exc.offset + 1) from None
        except plistlib.InvalidFileException:
            if data.startswith(b"bplist"):
                raise refuse(
                    display, "broken plist: the binary property list is damaged or truncated"
                ) from None
            raise refuse(
                display,
                "not a property list (neither an XML nor a binary plist); expected an "
                "InstalledApplicationList command response",
            ) from None
        except (
            ValueError,
            TypeError,
            OverflowError,
            KeyError,
            IndexError,
            RecursionError,
        ) as exc:
            raise refuse(display, f"broken plist: {exc or type(exc).__name__}") from None
        single = isinstance(doc, dict)
        responses: list[Any] = [doc] if single else doc if isinstance(doc, list) else []
        if not responses:
            raise refuse(
                display,
                "not an MDM command response: the plist is neither a dictionary nor an array of dictionaries",
            )
        info: dict[str, dict[str, Any]] = {}
        has_list = False
        for resp in responses:
            if not isinstance(resp, dict):
                continue
            if isinstance(resp.get("QueryResponses"), dict) and _device_key(resp):
                info.setdefault(_device_key(resp) or "", resp["QueryResponses"])
            if "InstalledApplicationList" in resp:
                has_list = True
        if not has_list:
            keys = ", ".join(
                sorted(
                    str(k)
                    for k in (doc if single else responses[0] if isinstance(responses[0], dict) else {})
                )[:6]
            )
            raise refuse(
                display,
                "not an InstalledApplicationList command response: no "
                f"'InstalledApplicationList' key (keys: {keys or 'none'})",
            )
        for i, resp in enumerate(responses):
            entry = None if single else f"[{i}]"
            if not isinstance(resp, dict):
                sink.bad("a command response must be a dictionary", line=None, entry=entry)
                continue
            if "InstalledApplicationList" not in resp:
                if "QueryResponses" not in resp:
                    sink.bad(
                        f"response without 'InstalledApplicationList' (Status {resp.get('Status')!r})",
                        line=None,
                        entry=entry,
                    )
                continue
            self._response(resp, entry, info, sink)

    def _response(
        self, resp: dict[str, Any], entry: str | None, info: dict[str, dict[str, Any]], sink: InventorySink
    ) -> None:
        apps: Any = resp.get("InstalledApplicationList")
        n_apps = len(apps) if isinstance(apps, list) else 0
        key = _device_key(resp)
        if key is None:
            sink.bad(
                f"response without 'UDID' or 'EnrollmentID'; its {n_apps} apps are not imported",
                line=None,
                entry=entry,
                rows=1 + n_apps,
            )
            return
        status = resp.get("Status", "Acknowledged")
        if status != "Acknowledged":
            sink.bad(f"device {key}: command status {status!r}, no app list", line=None, entry=entry)
            return
        if not isinstance(apps, list):
            sink.bad(f"device {key}: 'InstalledApplicationList' must be an array", line=None, entry=entry)
            return
        q = info.get(key, {})
        platform = _platform(text_or_none(q.get("ProductName")))
        record = DeviceRecord(
            source_device_id=key,
            name=text_or_none(q.get("DeviceName")),
            platform=platform,
            management_mode=(
                ManagementMode.USER_ENROLLMENT
                if "UDID" not in resp
                else ManagementMode.SUPERVISED
                if q.get("IsSupervised") is True
                else ManagementMode.UNKNOWN
            ),
            serial_number=text_or_none(q.get("SerialNumber")),
            model=text_or_none(q.get("ProductName")) or text_or_none(q.get("ModelName")),
            os_version=text_or_none(q.get("OSVersion")),
        )
        if not sink.device(record, line=None, entry=entry):
            sink.bad(f"apps of the duplicate device {key}", line=None, entry=entry, rows=n_apps)
            return
        prefix = f"{entry}." if entry else ""
        plat = platform.value
        app = sink.app
        columns = _plain_columns(apps)
        if columns is not None:  # the usual list: handed over column by column
            sink.apps(key, plat, *columns)
            return
        text = text_or_none
        for j, item in enumerate(apps):
            # the hot loop: one pass per installed app of the fleet
            if item.__class__ is not dict:
                sink.bad(
                    "an InstalledApplicationList item must be a dictionary",
                    line=None,
                    entry=f"{prefix}InstalledApplicationList[{j}]",
                )
                continue
            get = item.get
            ident = text(get("Identifier"))
            name = text(get("Name"))
            if ident is None and name is None:
                sink.bad(
                    "app without 'Identifier' or 'Name'",
                    line=None,
                    entry=f"{prefix}InstalledApplicationList[{j}]",
                )
                continue
            app(
                key, plat, ident, name, text(get("ShortVersion")) or text(get("Version")), text(get("Source"))
            )


IMPORTER = AppleImporter()
