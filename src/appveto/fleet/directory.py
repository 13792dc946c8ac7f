"""Directory files -> :class:`~appveto.fleet.model.Directory`: CSV, JSON and SCIM 2.0.

Three formats (documented with examples in ``docs/fleet.md``):

* ``csv``: one row per person; the org unit is a ``/``-separated path of unit names,
  authorities and roles are named in their columns and created as they appear;
* ``json``: ``{"authorities": [...], "org_units": [...], "roles": [...], "people": [...]}``
  with explicit IDs and references, and optionally the administration's ``systems`` and
  ``network_zones`` (``[{"id", "name"}]``, what decisions' scope parts name); a person's
  ``devices`` are keys or ``{"id": KEY, "platform": "ios"}`` objects;
* ``scim``: SCIM 2.0 (RFC 7643) Users and Groups, as a ``ListResponse``, an array of
  resources or ``{"Users": ..., "Groups": ...}``. Users: ``id``, ``userName``, ``name``,
  ``displayName``, ``emails``, ``title``, ``active``, ``roles``, ``groups``, and the
  enterprise extension (``organization`` -> authority, ``division``/``department`` ->
  org unit path under it, ``manager.value``). Groups become roles of their members. The
  devices a user holds can be given in the extension
  ``urn:appveto:params:scim:schemas:extension:2.0:User`` (``{"devices": [...]}``, keys or
  ``{"id", "platform"}`` objects as in the JSON format).

A bad entry (no ID, a duplicate ID) is reported with its line or entry path and left
out; a dangling reference (unknown parent, manager, unit, role) is reported and dropped;
a cycle in the unit tree is reported and broken. A file that is not of the format is
refused with :class:`~appveto.errors.FleetError`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from appveto.errors import Diagnostic, FleetError
from appveto.fleet.importers._platforms import platform_of
from appveto.fleet.model import (
    Authority,
    AuthorityId,
    Directory,
    ImportIssue,
    Network,
    OrgUnit,
    OrgUnitId,
    Person,
    PersonId,
    Platform,
    Role,
    RoleId,
    System,
)
from appveto.jsoncap import MAX_STRING, long_string, may_hold_long_string

DIRECTORY_FORMATS: tuple[str, ...] = ("csv", "json", "scim")
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "user_name",
    "display_name",
    "email",
    "title",
    "org_unit",
    "authority",
    "authority_kind",
    "manager",
    "roles",
    "devices",
    "active",
)
SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCIM_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCIM_APPVETO = "urn:appveto:params:scim:schemas:extension:2.0:User"
_TRUE = {"", "1", "true", "yes", "y", "active"}
_FALSE = {"0", "false", "no", "n", "inactive"}


@dataclass(frozen=True, slots=True)
class DirectoryImport:
    """A parsed directory file: the directory, what was wrong in it, how many rows were dropped."""

    file: str
    format: str
    directory: Directory
    issues: tuple[ImportIssue, ...]
    rows_bad: int


def _refuse(display: str, message: str, *, line: int | None = None, column: int | None = None) -> FleetError:
    diag = Diagnostic(message, file=display, line=line, column=column)
    return FleetError(str(diag), diagnostics=(diag,))


def detect_format(path: Path) -> str:
    """``csv`` by extension; JSON files are ``scim`` when they mention a SCIM schema URN."""
    if path.suffix.lower() == ".csv":
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(65536)
    if b"urn:ietf:params:scim:" in head:
        return "scim"
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "csv"


def read_directory(path: Path, fmt: str | None = None, *, display: str | None = None) -> DirectoryImport:
    """Parse a directory file; ``fmt`` is one of :data:`DIRECTORY_FORMATS` (detected when ``None``)."""
    name = display or str(path)
    try:
        fmt = fmt or detect_format(path)
        if fmt == "csv":
            b = _read_csv(path, name)
        elif fmt == "json":
            b = _read_json(_load_json(path, name), name)
        elif fmt == "scim":
            b = _read_scim(_load_json(path, name), name)
        else:
            raise FleetError(f"unknown directory format {fmt!r}; known: {', '.join(DIRECTORY_FORMATS)}")
    except OSError as exc:
        raise _refuse(name, f"cannot read: {exc.strerror or exc}") from None
    directory = b.finish()
    if not directory.people:
        # An import replaces the stored directory: an empty or entirely unreadable file
        # would silently unlink every device from its holder.
        shown = [Diagnostic(i.message, file=i.file, line=i.line, entry=i.entry) for i in b.issues[:20]]
        last = Diagnostic("no person could be read; the stored directory is left as it is", file=name)
        raise FleetError(str(last), diagnostics=(*shown, last))
    return DirectoryImport(name, fmt, directory, tuple(b.issues), b.rows_bad)


# --------------------------------------------------------------------------- building


@dataclass
class _Builder:
    file: str
    authorities: dict[str, Authority] = field(default_factory=dict)
    units: dict[str, OrgUnit] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    people: dict[str, tuple[Person, int | None, str | None]] = field(default_factory=dict)
    systems: dict[str, System] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    platforms: dict[str, Platform] = field(default_factory=dict)
    """Held device key -> the platform the file gives for it (the first one given)."""
    issues: list[ImportIssue] = field(default_factory=list)
    rows_bad: int = 0
    implicit_roles: bool = False

    def issue(self, message: str, line: int | None = None, entry: str | None = None) -> None:
        self.issues.append(ImportIssue(self.file, line, message, entry))

    def bad(self, message: str, line: int | None = None, entry: str | None = None) -> None:
        self.rows_bad += 1
        self.issue(message, line, entry)

    def add_authority(self, a: Authority, line: int | None = None, entry: str | None = None) -> None:
        if a.id in self.authorities:
            if self.authorities[a.id] != a:
                self.issue(f"authority {a.id!r} is defined twice; the first definition is kept", line, entry)
            return
        self.authorities[a.id] = a

    def add_unit(self, u: OrgUnit, line: int | None = None, entry: str | None = None) -> None:
        if u.id in self.units:
            if self.units[u.id] != u:
                self.issue(f"org unit {u.id!r} is defined twice; the first definition is kept", line, entry)
            return
        self.units[u.id] = u

    def add_person(self, p: Person, line: int | None = None, entry: str | None = None) -> None:
        if p.id in self.people:
            _, first_line, first_entry = self.people[p.id]
            where = f"line {first_line}" if first_line is not None else first_entry or "before"
            self.bad(
                f"duplicate person ID {p.id!r} (first at {where}); this entry is not imported", line, entry
            )
            return
        self.people[p.id] = (p, line, entry)

    def finish(self) -> Directory:
        # Authorities: parents must exist and not loop.
        auths = dict(self.authorities)
        for aid, a in list(auths.items()):
            if a.parent_id is not None and a.parent_id not in auths:
                self.issue(f"authority {aid!r}: unknown parent {a.parent_id!r}; ignored")
                auths[aid] = replace(a, parent_id=None)
        for aid in sorted(auths):
            if _loops(aid, lambda x: auths[x].parent_id):
                self.issue(f"authority {aid!r} is its own ancestor; its parent link is ignored")
                auths[aid] = replace(auths[aid], parent_id=None)
        # Units: parents and authorities must exist; the tree must not loop.
        units = dict(self.units)
        for uid, unit in list(units.items()):
            u = unit
            if u.parent_id is not None and u.parent_id not in units:
                self.issue(f"org unit {uid!r}: unknown parent {u.parent_id!r}; it becomes a root")
                u = units[uid] = replace(u, parent_id=None)
            if u.authority_id is not None and u.authority_id not in auths:
                self.issue(f"org unit {uid!r}: unknown authority {u.authority_id!r}; ignored")
                units[uid] = replace(u, authority_id=None)
        for uid in sorted(units):
            if _loops(uid, lambda x: units[x].parent_id):
                self.issue(f"org unit {uid!r} is its own ancestor; its parent link is ignored")
                units[uid] = replace(units[uid], parent_id=None)
        resolved: dict[str, AuthorityId | None] = {}

        def unit_authority(uid: str) -> AuthorityId | None:
            chain = []
            cur: str | None = uid
            while cur is not None and cur not in resolved:
                chain.append(cur)
                u = units[cur]
                if u.authority_id is not None:
                    resolved[cur] = u.authority_id
                    break
                cur = u.parent_id
            value = resolved.get(cur) if cur is not None else None
            for c in chain:
                resolved.setdefault(c, value)
            return resolved[uid]

        units = {uid: replace(u, authority_id=unit_authority(uid)) for uid, u in units.items()}
        # People: references must resolve.
        people: dict[str, Person] = {}
        holders: dict[str, str] = {}
        for pid, (p, line, entry) in self.people.items():
            # the person is built once at the end (dataclasses.replace per change is slow
            # for directories of hundreds of thousands of people)
            org_unit_id = p.org_unit_id
            authority_id = p.authority_id
            manager_id = p.manager_id
            if org_unit_id is not None and org_unit_id not in units:
                self.issue(f"person {pid!r}: unknown org unit {org_unit_id!r}; ignored", line, entry)
                org_unit_id = None
            if authority_id is not None and authority_id not in auths:
                self.issue(f"person {pid!r}: unknown authority {authority_id!r}; ignored", line, entry)
                authority_id = None
            if authority_id is None and org_unit_id is not None:
                authority_id = units[org_unit_id].authority_id
            if manager_id is not None and manager_id not in self.people:
                self.issue(f"person {pid!r}: unknown manager {manager_id!r}; ignored", line, entry)
                manager_id = None
            roles = []
            for r in dict.fromkeys(p.roles):
                if r not in self.roles:
                    if self.implicit_roles:
                        self.roles[r] = Role(r, r)
                    else:
                        self.issue(f"person {pid!r}: unknown role {r!r}; ignored", line, entry)
                        continue
                roles.append(r)
            devices = []
            for key in dict.fromkeys(p.devices):
                other = holders.get(key)
                if other is not None:
                    self.issue(
                        f"person {pid!r}: device {key!r} is already held by {other!r}; ignored", line, entry
                    )
                    continue
                holders[key] = pid
                devices.append(key)
            people[pid] = Person(
                id=p.id,
                user_name=p.user_name,
                display_name=p.display_name,
                email=p.email,
                title=p.title,
                org_unit_id=org_unit_id,
                authority_id=authority_id,
                manager_id=manager_id,
                active=p.active,
                roles=tuple(sorted(roles)),
                devices=tuple(sorted(devices)),
            )
        return Directory(
            authorities=tuple(auths[k] for k in sorted(auths)),
            org_units=tuple(units[k] for k in sorted(units)),
            roles=tuple(self.roles[k] for k in sorted(self.roles)),
            people=tuple(people[k] for k in sorted(people)),
            systems=tuple(self.systems[k] for k in sorted(self.systems)),
            networks=tuple(self.networks[k] for k in sorted(self.networks)),
            device_platforms=tuple(
                (k, p)
                for k, p in sorted(self.platforms.items())
                if k in holders and p is not Platform.UNKNOWN
            ),
        )

    def devices(self, value: Any, line: int | None = None, entry: str | None = None) -> tuple[str, ...]:
        """A person's held devices: keys (a list, or a ``;``-separated text) or ``{"id", "platform"}``
        objects; the platform given is kept for the key."""
        if not isinstance(value, list):
            return _strs(value)
        keys: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                key = _s(item)
                if key:
                    keys.append(key)
                continue
            where = f"{entry}.devices[{i}]" if entry else None
            key = _s(item.get("id"))
            if key is None:
                self.issue("a held device without 'id'; ignored", line, where)
                continue
            keys.append(key)
            given = item.get("platform")
            if given is None:
                continue
            platform = platform_of(given)
            if platform is Platform.UNKNOWN:
                self.issue(f"device {key!r}: unknown platform {_s(given)!r}; read as unknown", line, where)
            self.platforms.setdefault(key, platform)
        return tuple(keys)


def _loops(start: str, parent: Callable[[str], str | None]) -> bool:
    seen = {start}
    cur = parent(start)
    while cur is not None:
        if cur in seen:
            return cur == start
        seen.add(cur)
        cur = parent(cur)
    return False


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        if not value.isascii():
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(x.strip() for x in value.split(";") if x.strip())
    if isinstance(value, list):
        return tuple(s for s in (_s(v) for v in value) if s)
    return ()


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path, display: str) -> _Builder:
    b = _Builder(display, implicit_roles=True)
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise _refuse(display, "the file is empty (expected a directory CSV)", line=1) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _refuse(display, f"not a CSV file: {exc}", line=1) from None
        if "id" not in header:
            raise _refuse(
                display, f"not a directory CSV: missing column id (columns: {', '.join(CSV_COLUMNS)})", line=1
            )
        ix = {c: header.index(c) for c in CSV_COLUMNS if c in header}
        unit_auth: dict[str, str | None] = {}
        while True:
            try:
                for row in reader:
                    _csv_row(b, row, ix, len(header), reader.line_num, unit_auth)
                break
            except csv.Error as exc:
                b.bad(f"unreadable CSV row: {exc}", reader.line_num)
            except UnicodeDecodeError as exc:
                raise _refuse(display, f"not UTF-8 text ({exc.reason})", line=reader.line_num + 1) from None
        for uid, aid in unit_auth.items():
            if aid is not None:
                b.units[uid] = replace(b.units[uid], authority_id=AuthorityId(aid))
    return b


def _csv_row(
    b: _Builder, row: list[str], ix: dict[str, int], width: int, line: int, unit_auth: dict[str, str | None]
) -> None:
    if not row or (len(row) == 1 and not row[0].strip()):
        return
    if len(row) != width:
        b.bad(f"expected {width} fields, found {len(row)}", line)
        return

    def get(c: str) -> str:
        return row[ix[c]].strip() if c in ix else ""

    pid = get("id")
    if not pid:
        b.bad("empty id", line)
        return
    active_s = get("active").lower()
    if active_s not in _TRUE and active_s not in _FALSE:
        b.issue(f"active {get('active')!r} is not true/false; read as true", line)
    authority = get("authority") or None
    if authority is not None:
        b.add_authority(Authority(AuthorityId(authority), authority, get("authority_kind") or None), line)
    unit_id: OrgUnitId | None = None
    path = [seg.strip() for seg in get("org_unit").split("/") if seg.strip()]
    parent: OrgUnitId | None = None
    for depth in range(len(path)):
        uid = OrgUnitId("/".join(path[: depth + 1]))
        if uid not in b.units:
            b.units[uid] = OrgUnit(uid, path[depth], parent, None)
        parent = unit_id = uid
    if unit_id is not None and authority is not None:
        known = unit_auth.get(unit_id, "")
        if known == "":
            unit_auth[unit_id] = authority
        elif known is not None and known != authority:
            b.issue(
                f"org unit {unit_id!r} has people of authorities {known!r} and {authority!r}; "
                "the unit gets no authority",
                line,
            )
            unit_auth[unit_id] = None
    b.add_person(
        Person(
            id=PersonId(pid),
            user_name=get("user_name") or None,
            display_name=get("display_name") or None,
            email=get("email") or None,
            title=get("title") or None,
            org_unit_id=unit_id,
            authority_id=AuthorityId(authority) if authority else None,
            manager_id=PersonId(get("manager")) if get("manager") else None,
            active=active_s not in _FALSE,
            roles=tuple(RoleId(r) for r in _strs(get("roles"))),
            devices=_strs(get("devices")),
        ),
        line,
    )


# --------------------------------------------------------------------------- JSON


def _load_json(path: Path, display: str) -> Any:
    """The decoded document; one holding a string over the importers' limit
    (:data:`~appveto.fleet.importers._common.MAX_STRING`, as CSV fields) is refused, located."""
    data = path.read_bytes()
    if not data.strip():
        raise _refuse(display, "the file is empty")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
        if may_hold_long_string(data) and (where := long_string(doc)) is not None:
            raise _refuse(display, f"{where}; strings are limited to {MAX_STRING:,} characters")
        return doc
    except UnicodeDecodeError as exc:
        raise _refuse(
            display, f"not UTF-8 text (byte offset {exc.start})", line=data.count(b"\n", 0, exc.start) + 1
        ) from None
    except json.JSONDecodeError as exc:
        what = (
            "truncated JSON: the document ends early"
            if exc.pos >= len(data.rstrip()) - 1
            else f"invalid JSON: {exc.msg}"
        )
        raise _refuse(display, what, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise _refuse(display, "JSON nested too deeply") from None
    except ValueError:  # an integer of more than 4300 digits (not a JSONDecodeError)
        raise _refuse(display, "a number too long to read (more than 4300 digits)") from None


def _items(b: _Builder, doc: dict[str, Any], key: str) -> Iterable[tuple[str, dict[str, Any]]]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        b.bad(f"'{key}' must be an array", entry=key)
        return
    for i, item in enumerate(value):
        entry = f"{key}[{i}]"
        if not isinstance(item, dict):
            b.bad("must be a JSON object", entry=entry)
            continue
        yield entry, item


def _read_json(doc: Any, display: str) -> _Builder:
    keys = ("authorities", "org_units", "roles", "people", "systems", "network_zones")
    if not isinstance(doc, dict) or not any(k in doc for k in keys):
        found = ", ".join(sorted(doc)[:6]) if isinstance(doc, dict) else type(doc).__name__
        raise _refuse(
            display, f"not an appveto directory JSON: expected some of {', '.join(keys)} (found: {found})"
        )
    b = _Builder(display)
    for entry, a in _items(b, doc, "authorities"):
        aid = _s(a.get("id"))
        if aid is None:
            b.bad("authority without 'id'", entry=entry)
            continue
        parent = _s(a.get("parent"))
        b.add_authority(
            Authority(
                AuthorityId(aid),
                _s(a.get("name")) or aid,
                _s(a.get("kind")),
                AuthorityId(parent) if parent else None,
            ),
            entry=entry,
        )
    for entry, u in _items(b, doc, "org_units"):
        uid = _s(u.get("id"))
        if uid is None:
            b.bad("org unit without 'id'", entry=entry)
            continue
        parent, auth = _s(u.get("parent")), _s(u.get("authority"))
        b.add_unit(
            OrgUnit(
                OrgUnitId(uid),
                _s(u.get("name")) or uid,
                OrgUnitId(parent) if parent else None,
                AuthorityId(auth) if auth else None,
            ),
            entry=entry,
        )
    for entry, r in _items(b, doc, "roles"):
        rid = _s(r.get("id"))
        if rid is None:
            b.bad("role without 'id'", entry=entry)
            continue
        b.roles.setdefault(rid, Role(RoleId(rid), _s(r.get("name")) or rid))
    for entry, p in _items(b, doc, "people"):
        pid = _s(p.get("id"))
        if pid is None:
            b.bad("person without 'id'", entry=entry)
            continue
        unit, auth, mgr = _s(p.get("org_unit")), _s(p.get("authority")), _s(p.get("manager"))
        active = p.get("active", True)
        if not isinstance(active, bool):
            b.issue("'active' must be true or false; read as true", entry=entry)
            active = True
        b.add_person(
            Person(
                id=PersonId(pid),
                user_name=_s(p.get("user_name")),
                display_name=_s(p.get("display_name")),
                email=_s(p.get("email")),
                title=_s(p.get("title")),
                org_unit_id=OrgUnitId(unit) if unit else None,
                authority_id=AuthorityId(auth) if auth else None,
                manager_id=PersonId(mgr) if mgr else None,
                active=active,
                roles=tuple(RoleId(r) for r in _strs(p.get("roles"))),
                devices=b.devices(p.get("devices"), entry=entry),
            ),
            entry=entry,
        )
    for key, kind in (("systems", System), ("network_zones", Network)):
        for entry, item in _items(b, doc, key):
            ident = _s(item.get("id"))
            if ident is None:
                b.bad(f"{key.replace('_', ' ')[:-1]} without 'id'", entry=entry)
                continue
            table: dict[str, Any] = b.systems if kind is System else b.networks
            table.setdefault(ident, kind(ident, _s(item.get("name")) or ident))
    return b


# --------------------------------------------------------------------------- SCIM


def _resource_type(r: dict[str, Any]) -> str | None:
    schemas = r.get("schemas")
    meta = r.get("meta")
    if isinstance(schemas, list):
        if SCIM_USER in schemas:
            return "User"
        if SCIM_GROUP in schemas:
            return "Group"
    if isinstance(meta, dict) and meta.get("resourceType") in ("User", "Group"):
        return str(meta["resourceType"])
    return None


def _scim_resources(doc: Any) -> list[tuple[str, Any]]:
    """(entry path, resource) pairs from the accepted SCIM file shapes."""
    if isinstance(doc, list):
        return [(f"[{i}]", r) for i, r in enumerate(doc)]
    if not isinstance(doc, dict):
        return []
    if isinstance(doc.get("Resources"), list):
        return [(f"Resources[{i}]", r) for i, r in enumerate(doc["Resources"])]
    out: list[tuple[str, Any]] = []
    for key in ("Users", "Groups"):
        part = doc.get(key)
        if isinstance(part, dict) and isinstance(part.get("Resources"), list):
            part = part["Resources"]
            out += [(f"{key}.Resources[{i}]", r) for i, r in enumerate(part)]
        elif isinstance(part, list):
            out += [(f"{key}[{i}]", r) for i, r in enumerate(part)]
    if out:
        return out
    if "schemas" in doc:
        return [("", doc)]
    return []


def _primary(values: Any) -> str | None:
    if not isinstance(values, list):
        return None
    best: str | None = None
    for v in values:
        if isinstance(v, dict) and _s(v.get("value")):
            if v.get("primary") is True:
                return _s(v.get("value"))
            if best is None or v.get("type") == "work":
                best = _s(v.get("value"))
    return best


def _read_scim(doc: Any, display: str) -> _Builder:
    resources = _scim_resources(doc)
    typed = [(e, r, _resource_type(r) if isinstance(r, dict) else None) for e, r in resources]
    if not any(t is not None for _, _, t in typed):
        raise _refuse(
            display,
            "not SCIM 2.0 Users/Groups: no resource with the schema "
            f"{SCIM_USER} or {SCIM_GROUP} (expected a ListResponse or an array of resources)",
        )
    b = _Builder(display, implicit_roles=False)
    memberships: dict[str, list[str]] = {}
    for entry, r, kind in typed:
        if kind != "Group":
            continue
        gid = _s(r.get("id"))
        if gid is None:
            b.bad("Group without 'id'", entry=entry)
            continue
        b.roles.setdefault(gid, Role(RoleId(gid), _s(r.get("displayName")) or gid))
        members = r.get("members", [])
        for j, m in enumerate(members if isinstance(members, list) else []):
            if not isinstance(m, dict) or _s(m.get("value")) is None:
                b.issue("member without 'value'; ignored", entry=f"{entry}.members[{j}]")
                continue
            if m.get("type") == "Group":
                b.issue(
                    f"nested group {m.get('value')!r}; its members are not expanded",
                    entry=f"{entry}.members[{j}]",
                )
                continue
            memberships.setdefault(str(_s(m.get("value"))), []).append(gid)
    for entry, r, kind in typed:
        if kind is None:
            b.bad("resource is neither a SCIM User nor a Group", entry=entry or None)
            continue
        if kind != "User":
            continue
        _scim_user(b, r, entry or None, memberships)
    for uid, groups in memberships.items():
        if uid not in b.people:
            b.issue(f"groups {', '.join(sorted(groups))} list the unknown member {uid!r}; ignored")
    return b


def _scim_user(b: _Builder, r: dict[str, Any], entry: str | None, memberships: dict[str, list[str]]) -> None:
    uid = _s(r.get("id"))
    if uid is None:
        b.bad("User without 'id'", entry=entry)
        return
    name = _obj(r.get("name"))
    display = (
        _s(r.get("displayName"))
        or _s(name.get("formatted"))
        or (" ".join(x for x in (_s(name.get("givenName")), _s(name.get("familyName"))) if x) or None)
    )
    ent = _obj(r.get(SCIM_ENTERPRISE))
    org = _s(ent.get("organization"))
    unit_id: OrgUnitId | None = None
    if org is not None:
        b.add_authority(Authority(AuthorityId(org), org), entry=entry)
        parent: OrgUnitId | None = None
        for seg in (org, _s(ent.get("division")), _s(ent.get("department"))):
            if seg is None:
                continue
            uid_path = OrgUnitId(f"{parent}/{seg}" if parent else seg)
            if uid_path not in b.units:
                b.units[uid_path] = OrgUnit(
                    uid_path, seg, parent, AuthorityId(org) if parent is None else None
                )
            parent = unit_id = uid_path
    else:
        dept = _s(ent.get("department"))
        if dept is not None:
            unit_id = OrgUnitId(dept)
            b.units.setdefault(unit_id, OrgUnit(unit_id, dept))
    manager = ent.get("manager")
    mgr = _s(manager.get("value")) if isinstance(manager, dict) else None
    roles = list(memberships.get(uid, []))
    for attr in ("groups", "roles"):
        values = r.get(attr)
        for v in values if isinstance(values, list) else []:
            value = _s(v.get("value")) if isinstance(v, dict) else None
            if value is None:
                continue
            if attr == "roles" and value not in b.roles:
                b.roles[value] = Role(RoleId(value), _s(v.get("display")) or value)
            roles.append(value)
    ext = _obj(r.get(SCIM_APPVETO))
    active = r.get("active", True)
    b.add_person(
        Person(
            id=PersonId(uid),
            user_name=_s(r.get("userName")),
            display_name=display,
            email=_primary(r.get("emails")),
            title=_s(r.get("title")),
            org_unit_id=unit_id,
            authority_id=AuthorityId(org) if org else None,
            manager_id=PersonId(mgr) if mgr else None,
            active=active is not False,
            roles=tuple(RoleId(x) for x in roles),
            devices=b.devices(ext.get("devices"), entry=entry),
        ),
        entry=entry,
    )
