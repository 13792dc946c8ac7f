"""osquery result logs (filesystem logger, one JSON object per line) of the ``apps`` and
``programs`` tables.

Three line shapes are read, in file order, per host:

* snapshot: ``{"name", "hostIdentifier", "unixTime", "decorations", "action": "snapshot",
  "snapshot": [row, ...]}``: the host's whole result set at that time;
* differential, event format: ``{"name", "hostIdentifier", "counter", "action":
  "added"|"removed", "columns": row}``;
* differential, batch format: ``{"name", "hostIdentifier", "counter", "diffResults":
  {"added": [...], "removed": [...]}}``.

The table is recognised from the row's columns: ``apps`` (macOS) rows have
``bundle_identifier`` (with ``bundle_short_version``/``bundle_version``, ``name``);
``programs`` (Windows) rows have ``name``, ``version`` and ``publisher`` /
``identifying_number`` / ``install_source``. Rows of other queries are counted as skipped.

A host's inventory is complete when the log has a snapshot for it, or its differential
results start at ``counter`` 0 (osquery then logs every row as added). A host with only
later differentials is a bad row: its app set is unknown. The device ID is
``decorations.host_uuid`` when the log is decorated with it, else ``hostIdentifier``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appveto.fleet.importers._base import InventorySink, refuse
from appveto.fleet.importers._common import iter_json, obj, read_text, text_or_none
from appveto.fleet.model import DeviceRecord, Platform

_AppKey = tuple[str | None, str | None, str | None]
_Row = tuple[str | None, str | None, str | None, str]  # app_id, name, version, table


def _kind(row: dict[str, Any]) -> str | None:
    if "bundle_identifier" in row:
        return "apps"
    if "name" in row and (
        "identifying_number" in row or "install_source" in row or ("publisher" in row and "version" in row)
    ):
        return "programs"
    return None


def _parse_row(row: dict[str, Any], kind: str) -> _Row:
    if kind == "apps":
        name = (
            text_or_none(row.get("display_name"))
            or text_or_none(row.get("bundle_name"))
            or text_or_none(row.get("name"))
        )
        version = text_or_none(row.get("bundle_short_version")) or text_or_none(row.get("bundle_version"))
        return text_or_none(row.get("bundle_identifier")), name, version, kind
    return None, text_or_none(row.get("name")), text_or_none(row.get("version")), kind


class _Host:
    """What the log says about one host so far: the result set of each query."""

    __slots__ = ("baseline", "complete", "first_line", "last_time", "name", "platform", "queries")

    def __init__(self, line: int, name: str | None) -> None:
        self.queries: dict[str, dict[_AppKey, _Row]] = {}
        self.baseline: dict[str, Any] = {}  # query -> (epoch, counter) of its last differential line
        self.complete = False
        self.first_line = line
        self.last_time: datetime | None = None
        self.name = name
        self.platform = Platform.UNKNOWN

    def apps(self) -> dict[_AppKey, _Row]:
        merged: dict[_AppKey, _Row] = {}
        for rows in self.queries.values():
            merged.update(rows)
        return merged


class OsqueryImporter:
    name = "osquery"
    title = "osquery result logs (apps, programs)"

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        text = read_text(path, display)
        hosts: dict[str, _Host] = {}
        first = True
        for item in iter_json(text, display, "\0none"):
            if item.error is not None:
                if first:
                    raise refuse(display, f"not an osquery result log: {item.error}", line=item.line)
                sink.bad(item.error, line=item.line)
                continue
            line = item.line
            rec = item.value
            if first:
                if not (isinstance(rec, dict) and "name" in rec and "hostIdentifier" in rec):
                    raise refuse(
                        display,
                        "not an osquery result log: the first line has no 'name' and 'hostIdentifier'",
                        line=line,
                    )
                first = False
            if not isinstance(rec, dict) or text_or_none(rec.get("hostIdentifier")) is None:
                sink.bad("result line without 'hostIdentifier'", line=line)
                continue
            deco = obj(rec.get("decorations"))
            key = text_or_none(deco.get("host_uuid")) or str(text_or_none(rec["hostIdentifier"]))
            host = hosts.get(key)
            if host is None:
                host = hosts[key] = _Host(
                    line, text_or_none(deco.get("hostname")) or str(text_or_none(rec["hostIdentifier"]))
                )
            ts = rec.get("unixTime")
            if isinstance(ts, int | float) and not isinstance(ts, bool) and 0 < ts < 2**33:
                when = datetime.fromtimestamp(ts, UTC)
                if host.last_time is None or when > host.last_time:
                    host.last_time = when
            self._line(rec, host, line, sink)
        for key, host in hosts.items():
            if not host.complete:
                sink.bad(
                    f"host {key}: only differential results without a baseline (a snapshot or "
                    "counter 0); its apps are unknown, so it is not part of this snapshot",
                    line=host.first_line,
                    rows=1 + len(host.apps()),
                )
                continue
            record = DeviceRecord(
                source_device_id=key, name=host.name, platform=host.platform, last_report_at=host.last_time
            )
            sink.device(record, line=host.first_line)
            plat = host.platform.value
            for app_id, name, version, table in host.apps().values():
                sink.app(key, plat, app_id, name, version, table)

    def _rows(self, rows: Any, line: int, sink: InventorySink) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        if not isinstance(rows, list):
            sink.bad("result rows must be an array", line=line)
            return out
        for row in rows:
            if not isinstance(row, dict):
                sink.bad("a result row must be a JSON object", line=line)
                continue
            kind = _kind(row)
            if kind is None:
                sink.skip("not an apps or programs row")
                continue
            out.append((kind, row))
        return out

    def _apply(self, host: _Host, query: str, rows: list[tuple[str, dict[str, Any]]], *, add: bool) -> None:
        apps = host.queries.setdefault(query, {})
        for kind, row in rows:
            parsed = _parse_row(row, kind)
            host.platform = Platform.MACOS if kind == "apps" else Platform.WINDOWS
            k = parsed[:3]
            if add:
                apps[k] = parsed
            else:
                apps.pop(k, None)

    def _line(self, rec: dict[str, Any], host: _Host, line: int, sink: InventorySink) -> None:
        query = str(rec.get("name", ""))
        named_inventory = any(t in query for t in ("apps", "programs"))
        if "snapshot" in rec:
            snap = rec["snapshot"]
            rows = self._rows(snap, line, sink)
            if not isinstance(snap, list) or (snap and not rows):
                return  # reported above, or another query's snapshot
            if not snap and not named_inventory:
                return  # an empty snapshot of some other query
            host.queries[query] = {}  # a snapshot is the query's whole result set
            self._apply(host, query, rows, add=True)
            host.complete = True
            return
        counter = rec.get("counter")
        epoch = rec.get("epoch")
        if counter == 0 and host.baseline.get(query) != (epoch, 0):
            # counter 0 starts a new baseline (first run, or a new epoch): every row of the
            # query's result set follows as "added", so what was known before is dropped.
            host.queries[query] = {}
        host.baseline[query] = (epoch, counter)
        if "diffResults" in rec:
            diff = rec["diffResults"] if isinstance(rec["diffResults"], dict) else {}
            added = self._rows(diff.get("added", []), line, sink)
            removed = self._rows(diff.get("removed", []), line, sink)
            if counter == 0 and (added or named_inventory):
                host.complete = True
            self._apply(host, query, removed, add=False)
            self._apply(host, query, added, add=True)
            return
        action = rec.get("action")
        if action in ("added", "removed") and "columns" in rec:
            rows = self._rows([rec["columns"]], line, sink)
            if action == "added" and counter == 0 and rows:
                host.complete = True
            self._apply(host, query, rows, add=action == "added")
            return
        sink.bad("result line is neither a snapshot nor a differential result", line=line)


IMPORTER = OsqueryImporter()
