"""Policy folder -> :class:`PolicySet`, or a :class:`PolicyError` listing every problem.

Layout of a folder (searched recursively, ``*.yaml`` and ``*.yml``, hidden entries skipped):

* one or more files with ``kind: authorities`` listing the deciding bodies and their units;
* one file per decision with ``kind: decision``.

Every problem carries ``file:line:column`` (1-based): YAML syntax, unknown keys, wrong
types and formats (checked by the pydantic model), then the folder-wide checks done
here: duplicate ids, dangling references (authority, unit, decision, network zone),
dates out of order, adoption cycles, blanket exceptions and exceptions outside the
decision's exception rules. All files are read and all problems reported together.
"""

from __future__ import annotations

import difflib
import ipaddress
import types
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from appveto.errors import Diagnostic, PolicyError
from appveto.policy.model import (
    ITEM_NAMES,
    PATTERN_NAMES,
    AuthoritiesFile,
    Authority,
    Decision,
    DeviceRelation,
    InheritPart,
    PolicySet,
    SourceMark,
    SubjectKind,
)
from appveto.policy.resolve import deadline_date

MAX_FILE_BYTES = 1 << 20
MAX_NODES = 100_000
MAX_DEPTH = 40

Path_ = tuple[str | int, ...]

_ITEM_KEYS = ("id", "name", "kind", "handle", "authority", "decided", "title")
_BLANKET_IDS = frozenset({"*", "all", "any", "everyone", "everybody", "all-staff", "agency-wide"})


@dataclass(frozen=True, slots=True)
class _Source:
    """One parsed YAML file: plain data plus the place of every value and key."""

    file: str
    data: object
    values: Mapping[Path_, tuple[int, int]]
    keys: Mapping[Path_, tuple[int, int]]

    def at(self, path: Path_, message: str, *, key: bool = False) -> Diagnostic:
        """A diagnostic at ``path`` (its key when ``key``), or at the closest recorded parent."""
        p = path
        table = self.keys if key else self.values
        while True:
            pos = table.get(p) or self.values.get(p)
            if pos is not None:
                return Diagnostic(message, file=self.file, line=pos[0] + 1, column=pos[1] + 1)
            if not p:
                return Diagnostic(message, file=self.file)
            p = p[:-1]

    def marks(self, owner: str) -> Iterator[tuple[tuple[str, Path_], SourceMark]]:
        for p, (line, col) in self.values.items():
            yield (owner, p), SourceMark(self.file, line + 1, col + 1)


# --------------------------------------------------------------------------- YAML


def _yaml() -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor

    class _Constructor(RoundTripConstructor):
        """Keeps timestamps as text: the model parses dates and says where a bad one is."""

    from ruamel.yaml.composer import Composer, ComposerError
    from ruamel.yaml.events import AliasEvent

    class _Composer(Composer):
        """Stops composing after ``MAX_NODES`` nodes, so a crafted file cannot keep the
        (pure-Python) parser busy for tens of seconds before the size checks run."""

        nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise _TooBig
            event = self.parser.peek_event()
            anchor = getattr(event, "anchor", None)
            if anchor is not None and not isinstance(event, AliasEvent) and anchor in self.anchors:
                # ruamel only warns (on stderr, without the file name); an alias would then
                # silently take the second value: refuse, saying where both are.
                raise ComposerError(
                    "first defined",
                    self.anchors[anchor].start_mark,
                    f"anchor '{anchor}' defined twice",
                    event.start_mark,
                )
            return super().compose_node(parent, index)

    _Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    yaml.Composer = _Composer
    yaml.allow_duplicate_keys = False
    return yaml


class _TooBig(Exception):
    pass


def _plain(
    node: object,
    path: Path_,
    values: dict[Path_, tuple[int, int]],
    keys: dict[Path_, tuple[int, int]],
    budget: list[int],
    problems: list[tuple[Path_, str]],
) -> object:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    budget[0] -= 1
    if budget[0] < 0 or len(path) > MAX_DEPTH:
        raise _TooBig
    if isinstance(node, CommentedMap):
        out: dict[str, object] = {}
        values.setdefault(path, (node.lc.line, node.lc.col))
        for k, v in node.items():
            if not isinstance(k, str):
                pos = node.lc.key(k)
                keys[(*path, f"<{k!r}>")] = pos
                values[(*path, f"<{k!r}>")] = pos
                problems.append(((*path, f"<{k!r}>"), f"key {k!r} must be text"))
                continue
            sub = (*path, k)
            keys[sub] = node.lc.key(k)
            values[sub] = node.lc.value(k)
            out[k] = _plain(v, sub, values, keys, budget, problems)
        return out
    if isinstance(node, CommentedSeq):
        values.setdefault(path, (node.lc.line, node.lc.col))
        items: list[object] = []
        for i, v in enumerate(node):
            sub = (*path, i)
            values[sub] = node.lc.item(i)
            items.append(_plain(v, sub, values, keys, budget, problems))
        return items
    if isinstance(node, TaggedScalar):
        problems.append((path, f"YAML: unsupported tag {node.tag.value!r}"))
        return None
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if node is None:
        return None
    problems.append((path, f"YAML: unsupported value of type {type(node).__name__}"))
    return None


def _flow_depth(text: str) -> int:
    """Deepest ``[``/``{`` nesting outside quotes and comments: a cheap guard run before parsing."""
    depth = deepest = 0
    quote = ""
    comment = False
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch == "\n":
            quote = ""
    return deepest


def _read_bytes(path: Path) -> bytes:
    """At most ``MAX_FILE_BYTES + 1`` bytes of a regular file; OSError for anything else.

    Never opens a FIFO or a device (a FIFO would block, /dev/zero never ends).
    """
    import stat

    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise OSError("not a regular file (a folder, device or pipe)")
    with path.open("rb") as fh:
        return fh.read(MAX_FILE_BYTES + 1)


def _read(path: Path, shown: str, diags: list[Diagnostic]) -> _Source | None:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        raw = _read_bytes(path)
    except OSError as exc:
        diags.append(Diagnostic(f"cannot read: {exc.strerror or exc}", file=shown))
        return None
    if len(raw) > MAX_FILE_BYTES:
        diags.append(Diagnostic(f"file too large (over the limit of {MAX_FILE_BYTES} bytes)", file=shown))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        diags.append(Diagnostic(f"not UTF-8 text (byte offset {exc.start})", file=shown))
        return None
    depth = _flow_depth(text)
    if depth > MAX_DEPTH:
        diags.append(Diagnostic(f"values nested too deeply ({depth} levels, limit {MAX_DEPTH})", file=shown))
        return None
    try:
        tree = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        problem = " ".join(str(problem).split())
        if exc.problem_mark is not None and exc.context_mark is not None and exc.context:
            cm = exc.context_mark
            context = " ".join(str(exc.context).split())
            problem += f" ({context} at line {cm.line + 1}, column {cm.column + 1})"
        if mark is not None:
            diags.append(
                Diagnostic(f"YAML: {problem}", file=shown, line=mark.line + 1, column=mark.column + 1)
            )
        else:
            diags.append(Diagnostic(f"YAML: {problem}", file=shown))
        return None
    except _TooBig:
        diags.append(Diagnostic(f"too many values (limit {MAX_NODES})", file=shown))
        return None
    except (YAMLError, ValueError, RecursionError) as exc:
        diags.append(Diagnostic(f"YAML: {' '.join(str(exc).split())[:300]}", file=shown))
        return None
    except Exception as exc:  # the pure-Python parser fails in its own ways on crafted text
        # (a mapping used as a key: TypeError; "!!int 0x_": IndexError)
        reason = " ".join(str(exc).split())[:200]
        diags.append(Diagnostic(f"YAML: the parser failed ({type(exc).__name__}: {reason})", file=shown))
        return None
    values: dict[Path_, tuple[int, int]] = {}
    keys: dict[Path_, tuple[int, int]] = {}
    problems: list[tuple[Path_, str]] = []
    try:
        data = _plain(tree, (), values, keys, [MAX_NODES], problems)
    except _TooBig:
        diags.append(
            Diagnostic(f"too many or too deeply nested values (limits {MAX_NODES}, {MAX_DEPTH})", file=shown)
        )
        return None
    source = _Source(shown, data, values, keys)
    for p, msg in problems:
        diags.append(source.at(p, msg, key=bool(p) and isinstance(p[-1], str) and p[-1].startswith("<")))
    return None if problems else source


# --------------------------------------------------------------------------- pydantic errors -> words


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        short = value if len(value) <= 60 else value[:57] + "..."
        return f"'{short}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _label(data: object, path: Path_) -> tuple[str, Path_]:
    """What the path is about, for people ("exception 'press-office'"), and the rest of the path."""
    label = ""
    rest_start = 0
    node = data
    for i, seg in enumerate(path):
        if isinstance(seg, int) and i > 0 and isinstance(path[i - 1], str) and path[i - 1] in ITEM_NAMES:
            noun = ITEM_NAMES[str(path[i - 1])]
            name = None
            if isinstance(node, list) and 0 <= seg < len(node) and isinstance(node[seg], dict):
                item = node[seg]
                for k in _ITEM_KEYS:
                    if isinstance(item.get(k), str):
                        name = item[k]
                        break
            label = f"{noun} '{name}'" if name else f"{noun} #{seg + 1}"
            rest_start = i + 1
        if isinstance(node, dict) and isinstance(seg, str):
            node = node.get(seg)
        elif isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node):
            node = node[seg]
        else:
            node = None
    if not label:
        if isinstance(data, dict) and data.get("kind") == "decision" and isinstance(data.get("id"), str):
            label = f"decision '{data['id']}'"
        elif isinstance(data, dict) and data.get("kind") == "authorities":
            label = "authorities file"
        else:
            label = "policy"
    return label, path[rest_start:]


def _field_text(rest: Path_) -> str:
    out = ""
    for seg in rest:
        if isinstance(seg, int):
            out += f"[{seg + 1}]"
        else:
            out += ("." if out else "") + seg
    return out


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X | None``, ``tuple[X, ...]`` or ``Annotated[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap_model(typing.get_args(annotation)[0])
    if origin in (tuple, list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _unwrap_model(arg)
            if found is not None:
                return found
    return None


def _model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for seg in path:
        if model is None:
            return None
        if isinstance(seg, int):
            continue
        info = model.model_fields.get(seg)
        if info is None:
            return None
        model = _unwrap_model(info.annotation)
    return model


_EXPECTED: Mapping[str, str] = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "tuple_type": "a list",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "date_type": "a date such as 2023-03-10",
    "date_parsing": "a date such as 2023-03-10",
    "date_from_datetime_inexact": "a date such as 2023-03-10",
    "date_from_datetime_parsing": "a date such as 2023-03-10",
    "date_only": "a date such as 2023-03-10 (without a time)",
    "date_value": "an existing day (YYYY-MM-DD)",
}


def _translate(source: _Source, root: type[BaseModel], err: Mapping[str, Any]) -> Diagnostic:
    loc: Path_ = tuple(x for x in err["loc"] if isinstance(x, str | int))
    typ: str = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    value = err.get("input")
    if typ == "missing":
        label, rest = _label(source.data, loc[:-1])
        field = _field_text((*rest, loc[-1]))
        return source.at(loc[:-1], f"{label} needs '{field}'")
    label, rest = _label(source.data, loc)
    field = _field_text(rest)
    if not field:
        # the item itself has the wrong type: "scope part #1 must be a mapping, not 'foo'"
        what = _EXPECTED.get(typ)
        if what is not None:
            return source.at(loc, f"{label} must be {what}, not {_describe(value)}")
        field = "value"
    if typ == "extra_forbidden":
        key = str(loc[-1])
        model = _model_at(root, loc[:-1])
        hint = ""
        if model is not None:
            close = difflib.get_close_matches(key, list(model.model_fields), n=1)
            if close:
                hint = f" (did you mean '{close[0]}'?)"
            else:
                hint = f" (known keys: {', '.join(model.model_fields)})"
        where, inside = _label(source.data, loc[:-1])
        place = f" in '{_field_text(inside)}'" if inside else ""
        return source.at(loc, f"{where}: unknown key '{key}'{place}{hint}", key=True)
    if typ in ("enum", "literal_error"):
        return source.at(
            loc, f"{label}: '{field}' must be one of {ctx.get('expected')}, not {_describe(value)}"
        )
    if typ == "string_pattern_mismatch":
        what = PATTERN_NAMES.get(str(ctx.get("pattern")), f"text matching {ctx.get('pattern')}")
        return source.at(loc, f"{label}: '{field}' must be {what}, not {_describe(value)}")
    if typ in ("too_short", "string_too_short"):
        if isinstance(value, str | type(None)) or typ == "string_too_short":
            return source.at(loc, f"{label}: '{field}' must not be empty")
        return source.at(loc, f"{label}: '{field}' needs at least {ctx.get('min_length', 1)} entry")
    if typ in ("too_long", "string_too_long"):
        return source.at(loc, f"{label}: '{field}' is too long (at most {ctx.get('max_length')})")
    if typ in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        word = {
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "greater_than": "more than",
            "less_than": "less than",
        }[typ]
        return source.at(loc, f"{label}: '{field}' must be {word} {bound}, not {_describe(value)}")
    if typ in _EXPECTED:
        return source.at(loc, f"{label}: '{field}' must be {_EXPECTED[typ]}, not {_describe(value)}")
    return source.at(loc, f"{label}: '{field}': {err.get('msg', typ)}")


def _validate(source: _Source, diags: list[Diagnostic]) -> Decision | AuthoritiesFile | None:
    data = source.data
    if not isinstance(data, dict):
        diags.append(source.at((), f"a policy file must be a mapping with 'kind', not {_describe(data)}"))
        return None
    kind = data.get("kind")
    model: type[Decision] | type[AuthoritiesFile]
    if kind == "decision":
        model = Decision
    elif kind == "authorities":
        model = AuthoritiesFile
    elif kind is None:
        diags.append(source.at((), "policy file needs 'kind' (decision or authorities)"))
        return None
    else:
        diags.append(
            source.at(("kind",), f"'kind' must be 'decision' or 'authorities', not {_describe(kind)}")
        )
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # a misspelt required key gives "unknown key 'x' (did you mean 'y'?)": drop "needs 'y'"
        suggested: set[tuple[object, ...]] = set()
        for err in errors:
            if err["type"] == "extra_forbidden":
                parent = tuple(err["loc"][:-1])
                target = _model_at(model, tuple(x for x in parent if isinstance(x, str | int)))
                if target is not None:
                    for close in difflib.get_close_matches(
                        str(err["loc"][-1]), list(target.model_fields), n=1
                    ):
                        suggested.add((*parent, close))
        for err in errors:
            if err["type"] == "missing" and tuple(err["loc"]) in suggested:
                continue
            diags.append(_translate(source, model, err))
        return _without_extra_keys(model, data, errors) if not suggested else None


def _without_extra_keys(
    model: type[Decision] | type[AuthoritiesFile], data: dict[str, Any], errors: Sequence[Any]
) -> Decision | AuthoritiesFile | None:
    """When the only problems are unknown keys that resemble no known one, the rest of the
    file is sound: validate it without them so its cross-references are checked too."""
    import copy

    if any(err["type"] != "extra_forbidden" for err in errors):
        return None
    pruned = copy.deepcopy(data)
    for err in errors:
        node: Any = pruned
        loc = tuple(err["loc"])
        for seg in loc[:-1]:
            node = node[seg]
        node.pop(loc[-1], None)
    try:
        return model.model_validate(pruned)
    except ValidationError:
        return None


# --------------------------------------------------------------------------- folder-wide checks


class _Checker:
    def __init__(self) -> None:
        self.diags: list[Diagnostic] = []
        self.authorities: dict[str, tuple[Authority, _Source, Path_]] = {}
        self.units: dict[str, tuple[str, _Source, Path_]] = {}
        self.decisions: dict[str, tuple[Decision, _Source]] = {}
        self.authorities_incomplete = False
        """An authorities file is broken: unknown-authority errors would only be noise."""
        self.broken_decisions: set[str] = set()
        """Ids of decision files with errors of their own: not reported again as unknown."""

    def err(self, source: _Source, path: Path_, message: str, *, key: bool = False) -> None:
        self.diags.append(source.at(path, message, key=key))

    # -- authorities
    def add_authorities(self, doc: AuthoritiesFile, source: _Source) -> None:
        for i, a in enumerate(doc.authorities):
            p: Path_ = ("authorities", i)
            if a.id in self.authorities:
                first = self.authorities[a.id][1].at(self.authorities[a.id][2], "")
                self.err(source, (*p, "id"), f"authority '{a.id}' is defined twice (first at {_pos(first)})")
                continue
            self.authorities[a.id] = (a, source, p)
            for j, u in enumerate(a.units):
                up: Path_ = (*p, "units", j)
                if u.id in self.units or u.id in self.authorities:
                    self.err(source, (*up, "id"), f"unit '{u.id}' is defined twice")
                    continue
                self.units[u.id] = (a.id, source, up)

    def check_authorities(self) -> None:
        for aid, (a, source, p) in sorted(self.authorities.items()):
            if aid in self.units:
                self.err(source, (*p, "id"), f"authority '{aid}' has the same id as a unit")
            if a.parent is not None:
                if a.parent not in self.authorities:
                    self.err(
                        source,
                        (*p, "parent"),
                        f"authority '{aid}': unknown parent authority '{a.parent}'"
                        f"{_hint(a.parent, self.authorities)}",
                    )
                else:
                    seen = [aid]
                    cur: str | None = a.parent
                    while cur is not None and cur in self.authorities:
                        if cur in seen:
                            if cur == aid:
                                self.err(
                                    source,
                                    (*p, "parent"),
                                    f"authority '{aid}': parent cycle {' -> '.join([*seen, cur])}",
                                )
                            break
                        seen.append(cur)
                        cur = self.authorities[cur][0].parent
            local = {u.id: u for u in a.units}
            for j, u in enumerate(a.units):
                up: Path_ = (*p, "units", j)
                if u.parent is None:
                    continue
                if u.parent not in local:
                    self.err(
                        source,
                        (*up, "parent"),
                        f"unit '{u.id}': unknown parent unit '{u.parent}' in authority '{aid}'"
                        f"{_hint(u.parent, local)}",
                    )
                    continue
                seen_u = [u.id]
                cur_u: str | None = u.parent
                while cur_u is not None and cur_u in local:
                    if cur_u in seen_u:
                        if cur_u == u.id:
                            self.err(
                                source,
                                (*up, "parent"),
                                f"unit '{u.id}': parent cycle {' -> '.join([*seen_u, cur_u])}",
                            )
                        break
                    seen_u.append(cur_u)
                    cur_u = local[cur_u].parent

    # -- decisions
    def add_decision(self, d: Decision, source: _Source) -> None:
        if d.id in self.decisions:
            first = self.decisions[d.id][1].at((), "")
            self.err(source, ("id",), f"decision '{d.id}' is defined twice (also in {first.file})")
            return
        self.decisions[d.id] = (d, source)

    def _authority_ref(self, source: _Source, path: Path_, ref: str, what: str) -> None:
        if ref not in self.authorities and not self.authorities_incomplete:
            self.err(source, path, f"{what}: unknown authority '{ref}'{_hint(ref, self.authorities)}")

    def _unit_ref(self, source: _Source, path: Path_, ref: str, what: str) -> None:
        if ref not in self.units and ref not in self.authorities and not self.authorities_incomplete:
            known = {**self.units, **self.authorities}
            self.err(source, path, f"{what}: unknown unit '{ref}'{_hint(ref, known)}")

    def check_decision(self, d: Decision, s: _Source) -> None:
        label = f"decision '{d.id}'"
        self._authority_ref(s, ("authority",), d.authority, label)
        for i, adv in enumerate(d.advised_by):
            self._authority_ref(s, ("advised_by", i), adv, f"{label}: 'advised_by'")

        # apps
        for i, sel in enumerate(d.apps):
            what = f"app selector '{sel.name}'" if sel.name else f"app selector #{i + 1}"
            if sel.scan is not None and sel.scan.score_at_least is None and sel.scan.finding is None:
                self.err(s, ("apps", i, "scan"), f"{what}: 'scan' needs 'score_at_least' or 'finding'")
            if sel.successors and not sel.vendors:
                self.err(s, ("apps", i, "successors"), f"{what}: 'successors' needs 'vendors'")

        # network zones
        zone_names: set[str] = set()
        for i, z in enumerate(d.network_zones):
            zp: Path_ = ("network_zones", i)
            if z.name in zone_names:
                self.err(s, (*zp, "name"), f"network zone '{z.name}' is defined twice")
            zone_names.add(z.name)
            if not z.cidrs and not z.ssids:
                self.err(s, zp, f"network zone '{z.name}' needs 'cidrs' or 'ssids'")
            for j, c in enumerate(z.cidrs):
                try:
                    ipaddress.ip_network(c, strict=True)
                except ValueError as exc:
                    self.err(
                        s,
                        (*zp, "cidrs", j),
                        f"network zone '{z.name}': '{c}' is not an address range ({exc})",
                    )
        inherited_zones = self._inherited_zones(d)

        # scope
        part_ids: set[str] = set()
        for i, part in enumerate(d.scope):
            pp: Path_ = ("scope", i)
            what = f"scope part '{part.id}'"
            if part.id in part_ids:
                self.err(s, (*pp, "id"), f"{what} is defined twice")
            part_ids.add(part.id)
            for j, u in enumerate(part.units):
                self._unit_ref(s, (*pp, "units", j), u, what)
            both = set(part.roles.include) & set(part.roles.exclude)
            if both:
                self.err(s, (*pp, "roles"), f"{what}: role {sorted(both)[0]!s} is both included and excluded")
            if DeviceRelation.ACCESSES_SYSTEM in part.devices and not part.systems:
                self.err(s, (*pp, "devices"), f"{what}: 'accesses_system' needs 'systems'")
            if part.systems and DeviceRelation.ACCESSES_SYSTEM not in part.devices:
                self.err(s, (*pp, "systems"), f"{what}: 'systems' needs device relation 'accesses_system'")
            for j, n in enumerate(part.networks):
                if n not in zone_names and n not in inherited_zones:
                    self.err(
                        s,
                        (*pp, "networks", j),
                        f"{what}: unknown network zone '{n}'{_hint(n, zone_names | inherited_zones)}",
                    )
            if not part.devices and not part.networks and not part.units and not part.roles.include:
                self.err(s, pp, f"{what} selects no one: give 'units', 'roles', 'devices' or 'networks'")

        # term
        t = d.term
        if t.announced is not None and t.announced > t.effective:
            self.err(
                s,
                ("term", "effective"),
                f"{label}: effective date {t.effective} is before the announcement {t.announced}",
            )
        if t.expires is not None and t.expires <= t.effective:
            self.err(
                s,
                ("term", "expires"),
                f"{label}: expiry {t.expires} is not after the effective date {t.effective}",
            )
        for i, dl in enumerate(t.deadlines):
            dp: Path_ = ("term", "deadlines", i)
            if (dl.date is None) == (dl.days is None):
                self.err(s, dp, f"deadline '{dl.kind}' needs exactly one of 'date' or 'days'")
                continue
            when = deadline_date(t.effective, dl.date, dl.days)
            if when < t.effective:
                self.err(
                    s,
                    (*dp, "date"),
                    f"deadline '{dl.kind}' {when} is before the effective date {t.effective}",
                )
        previous: date | None = t.expires
        last_decided: date | None = None
        for i, r in enumerate(t.renewals):
            rp: Path_ = ("term", "renewals", i)
            if r.by is not None:
                self._authority_ref(s, (*rp, "by"), r.by, f"renewal of {r.decided}")
            if r.decided < t.effective:
                self.err(
                    s, (*rp, "decided"), f"renewal of {r.decided} is before the effective date {t.effective}"
                )
            if last_decided is not None and r.decided < last_decided:
                self.err(
                    s, (*rp, "decided"), f"renewal of {r.decided} is listed after the one of {last_decided}"
                )
            if previous is None:
                self.err(s, rp, f"renewal of {r.decided} renews a ban that does not expire")
            elif r.extends_to is not None and r.extends_to <= previous:
                self.err(
                    s,
                    (*rp, "extends_to"),
                    f"renewal of {r.decided} extends to {r.extends_to}, "
                    f"not after the previous expiry {previous}",
                )
            previous = r.extends_to
            last_decided = r.decided

        # exceptions
        rules = d.exception_rules or self._inherited_rules(d)
        ids: set[str] = set()
        for i, e in enumerate(d.exceptions):
            ep: Path_ = ("exceptions", i)
            what = f"exception '{e.id}'"
            if e.id in ids:
                self.err(s, (*ep, "id"), f"{what} is defined twice")
            ids.add(e.id)
            sid = e.subject.id.strip().lower()
            if sid in _BLANKET_IDS or "*" in sid or "?" in sid:
                self.err(
                    s,
                    (*ep, "subject", "id"),
                    f"{what}: blanket exception (subject '{e.subject.id}'); name one person, device or unit",
                )
            elif e.subject.kind is SubjectKind.UNIT:
                if e.subject.id in self.authorities:
                    self.err(
                        s,
                        (*ep, "subject", "id"),
                        f"{what}: blanket exception (a whole authority '{e.subject.id}'); name a unit",
                    )
                else:
                    self._unit_ref(s, (*ep, "subject", "id"), e.subject.id, what)
            if e.expires <= e.granted:
                self.err(
                    s,
                    (*ep, "expires"),
                    f"{what}: expires {e.expires}, not after it was granted ({e.granted})",
                )
            if rules is not None:
                if e.grounds not in rules.grounds:
                    allowed = ", ".join(str(g) for g in rules.grounds)
                    self.err(
                        s,
                        (*ep, "grounds"),
                        f"{what}: grounds '{e.grounds}' are not allowed by the decision ({allowed})",
                    )
                if rules.max_days is not None and (e.expires - e.granted).days > rules.max_days:
                    self.err(
                        s,
                        (*ep, "expires"),
                        f"{what}: lasts {(e.expires - e.granted).days} days, more than the "
                        f"{rules.max_days} allowed",
                    )

        # adoption
        if d.follows is not None:
            f = d.follows
            if f.decision == d.id:
                self.err(s, ("follows", "decision"), f"{label} follows itself")
            elif f.decision not in self.decisions and f.decision not in self.broken_decisions:
                self.err(
                    s,
                    ("follows", "decision"),
                    f"{label} follows unknown decision '{f.decision}'{_hint(f.decision, self.decisions)}",
                )
        asked: set[str] = set()
        for i, a in enumerate(d.asks):
            ap: Path_ = ("asks", i)
            self._authority_ref(s, (*ap, "authority"), a.authority, f"{label}: adoption request")
            if a.authority in asked:
                self.err(s, (*ap, "authority"), f"adoption request to '{a.authority}' is listed twice")
            asked.add(a.authority)
            if a.status != "pending" and a.date is None:
                self.err(
                    s, (*ap, "status"), f"adoption request '{a.authority}': status '{a.status}' needs 'date'"
                )
            first_day = t.announced or t.effective
            if a.date is not None and a.date < first_day:
                self.err(
                    s,
                    (*ap, "date"),
                    f"adoption request '{a.authority}': {a.date} is before the decision ({first_day})",
                )
            if (
                a.decision is not None
                and a.decision not in self.decisions
                and a.decision not in self.broken_decisions
            ):
                self.err(
                    s,
                    (*ap, "decision"),
                    f"adoption request '{a.authority}': unknown decision '{a.decision}'"
                    f"{_hint(a.decision, self.decisions)}",
                )
        for i, acc in enumerate(d.official_accounts):
            self._unit_ref(
                s, ("official_accounts", i, "owner"), acc.owner, f"official account '{acc.handle}'"
            )

    def _parent(self, d: Decision) -> Decision | None:
        if d.follows is None:
            return None
        found = self.decisions.get(d.follows.decision)
        return found[0] if found else None

    def _inherited_zones(self, d: Decision) -> set[str]:
        out: set[str] = set()
        seen = {d.id}
        cur = d
        while cur.follows is not None and InheritPart.NETWORK_ZONES in cur.follows.inherit:
            parent = self._parent(cur)
            if parent is None or parent.id in seen:
                break
            seen.add(parent.id)
            out |= {z.name for z in parent.network_zones}
            cur = parent
        return out

    def _inherited_rules(self, d: Decision) -> Any:
        seen = {d.id}
        cur = d
        while cur.follows is not None and InheritPart.EXCEPTION_RULES in cur.follows.inherit:
            parent = self._parent(cur)
            if parent is None or parent.id in seen:
                return None
            if parent.exception_rules is not None:
                return parent.exception_rules
            seen.add(parent.id)
            cur = parent
        return None

    def check_cycles(self) -> None:
        for did, (d, s) in sorted(self.decisions.items()):
            chain = [did]
            cur = d
            while cur.follows is not None:
                nxt = cur.follows.decision
                if nxt not in self.decisions or (nxt == cur.id and cur.id != did):
                    break
                if nxt in chain:
                    if nxt == did and len(chain) > 1:
                        self.err(s, ("follows", "decision"), f"adoption cycle: {' -> '.join([*chain, nxt])}")
                    break
                chain.append(nxt)
                cur = self.decisions[nxt][0]


def _guess_kind(path: Path) -> tuple[str | None, str | None]:
    """Kind and id of a file that did not load, read from its top-level lines, if they say."""
    import re

    try:
        text = _read_bytes(path)[:MAX_FILE_BYTES].decode("utf-8", errors="replace")
    except OSError:
        return None, None
    kind = re.search(r"^kind:[ \t]*['\"]?([A-Za-z]+)", text, re.MULTILINE)
    ident = re.search(r"^id:[ \t]*['\"]?([a-z0-9][a-z0-9._-]*)", text, re.MULTILINE)
    return (kind.group(1) if kind else None), (ident.group(1) if ident else None)


def _pos(diag: Diagnostic) -> str:
    return f"{diag.file}:{diag.line}:{diag.column}" if diag.line is not None else str(diag.file)


def _hint(ref: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(ref, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- entry points


def policy_files(directory: Path) -> list[Path]:
    """The policy files of a folder, sorted, hidden entries skipped.

    Every ``*.yaml``/``*.yml`` entry that is not a folder is listed, so a dangling or
    looping symbolic link, a FIFO or a device under a policy name is reported by the
    loader instead of being dropped silently.
    """
    found = [
        p
        for p in directory.rglob("*")
        if p.suffix.lower() in (".yaml", ".yml")
        and not p.is_dir()
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    return sorted(found)


def load_documents(files: Sequence[tuple[Path, str]]) -> PolicySet:
    """Load the given files (path, name to show) as one policy folder."""
    diags: list[Diagnostic] = []
    checker = _Checker()
    decisions: list[tuple[Decision, _Source]] = []
    marks: dict[tuple[str, Path_], SourceMark] = {}
    for path, shown in files:
        source = _read(path, shown, diags)
        doc = _validate(source, diags) if source is not None else None
        if doc is None or source is None:
            kind, ident = _guess_kind(path)
            if kind != "decision":
                checker.authorities_incomplete = True
            if ident is not None:
                checker.broken_decisions.add(ident)
            continue
        if isinstance(doc, AuthoritiesFile):
            checker.add_authorities(doc, source)
            marks.update(source.marks(f"@{shown}"))
        elif isinstance(doc, Decision):
            checker.add_decision(doc, source)
            decisions.append((doc, source))
            marks.update(source.marks(doc.id))
    if not checker.authorities and files and not checker.authorities_incomplete:
        diags.append(
            Diagnostic(
                "no authorities: add a file with 'kind: authorities'",
                file=files[0][1] if len(files) == 1 else None,
            )
        )
    checker.check_authorities()
    for d, s in decisions:
        if checker.decisions.get(d.id, (None, None))[1] is s:
            checker.check_decision(d, s)
    checker.check_cycles()
    diags.extend(checker.diags)
    if diags:
        ordered = sorted(set(diags), key=lambda x: (x.file or "", x.line or 0, x.column or 0, x.message))
        n = len(ordered)
        raise PolicyError(
            f"{n} problem{'s' if n != 1 else ''} in the policy files", diagnostics=tuple(ordered)
        )
    return PolicySet(
        authorities=tuple(sorted((a for a, _, _ in checker.authorities.values()), key=lambda a: a.id)),
        decisions=tuple(sorted((d for d, _ in checker.decisions.values()), key=lambda d: d.id)),
        marks=marks,
    )


def load_policies(directory: str | Path) -> PolicySet:
    """Every policy file of ``directory`` as one cross-checked :class:`PolicySet`.

    Raises :class:`PolicyError` whose diagnostics list every problem of every file,
    each with file, line and column.
    """
    root = Path(directory)
    if not str(directory) or not root.is_dir():
        shown = str(directory) or "''"
        raise PolicyError(f"{shown}: not a folder", diagnostics=(Diagnostic("not a folder", file=shown),))
    # rglob does not enter linked folders: say so rather than leave their files out unseen
    linked = tuple(
        Diagnostic(
            "a linked folder is not read (copy its policy files here)", file=str(Path(directory) / rel)
        )
        for rel in sorted(p.relative_to(root) for p in root.rglob("*") if p.is_symlink() and p.is_dir())
        if not any(part.startswith(".") for part in rel.parts)
    )
    files = policy_files(root)
    if not files:
        raise PolicyError(
            f"{directory}: no policy files",
            diagnostics=(Diagnostic("no *.yaml policy files", file=str(directory)),),
        )
    try:
        policies = load_documents([(p, str(Path(directory) / p.relative_to(root))) for p in files])
    except PolicyError as exc:
        if not linked:
            raise
        diags = (*linked, *exc.diagnostics())
        raise PolicyError(f"{len(diags)} problems in the policy files", diagnostics=diags) from None
    if linked:
        raise PolicyError(f"{directory}: linked folders are not read", diagnostics=linked)
    return policies


def load_policy_text(text: str, *, name: str = "policy.yaml", authorities: str | None = None) -> PolicySet:
    """Load policy documents from strings (tests, the web layer). Each becomes one file."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="appveto-policy-") as tmp:
        base = Path(tmp)
        entries: list[tuple[Path, str]] = []
        if authorities is not None:
            (base / "authorities.yaml").write_text(authorities, encoding="utf-8")
            entries.append((base / "authorities.yaml", "authorities.yaml"))
        (base / "doc.yaml").write_text(text, encoding="utf-8")
        entries.append((base / "doc.yaml", name))
        return load_documents(entries)


def read_policy_data(path: str | Path) -> object:
    """The plain data of one policy file (dates left as text), as JSON Schema validators see it.

    Raises :class:`PolicyError` when the file is not readable YAML.
    """
    diags: list[Diagnostic] = []
    source = _read(Path(path), str(path), diags)
    if source is None or diags:
        raise PolicyError(f"{path}: not readable YAML", diagnostics=tuple(diags))
    return source.data
