"""Loading reference data: the shipped baseline, downloaded datasets and user files.

Each parser turns bytes into typed records or raises :class:`KnowledgeBaseError`
naming the file and the place (JSON line/column, record index). Every dataset is
recorded with its source, licence, date and SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appveto.errors import Diagnostic, KnowledgeBaseError
from appveto.jsoncap import MAX_STRING, long_string, may_hold_long_string
from appveto.kb.domains import owner_candidates
from appveto.kb.model import (
    ApiRule,
    Combination,
    CompilerMarker,
    DatasetInfo,
    Entity,
    FeatureRule,
    FieldRule,
    IntentRule,
    IntentVia,
    Jurisdiction,
    KnowledgeBase,
    PermissionInfo,
    Protector,
    ProtectorKind,
    Tracker,
    UriRule,
    make_tracker,
)

SEVERITIES = ("info", "low", "medium", "high", "critical")

MANIFEST_NAME = "datasets.json"
"""The file in the data dir that records what ``appveto data update`` downloaded."""


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where downloaded reference data lives (``$APPVETO_DATA_DIR``, else the XDG data dir)."""
    env = os.environ if env is None else env
    if env.get("APPVETO_DATA_DIR"):
        return Path(env["APPVETO_DATA_DIR"])
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "appveto"
    if sys.platform == "darwin":
        return Path(env.get("HOME", "~")).expanduser() / "Library" / "Application Support" / "appveto"
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    return Path(base) / "appveto"


# ----------------------------------------------------------------- JSON helpers


def _json(data: bytes, file: str) -> Any:
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise KnowledgeBaseError(
            f"{file} is not UTF-8",
            diagnostics=(Diagnostic(f"not UTF-8: {exc.reason}", file=file, offset=exc.start),),
        ) from None
    except json.JSONDecodeError as exc:
        raise KnowledgeBaseError(
            f"{file} is not valid JSON",
            diagnostics=(
                Diagnostic(f"invalid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno),
            ),
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer over 4300 digits; deep nesting
        what = "JSON nested too deeply" if isinstance(exc, RecursionError) else "a number too long to read"
        raise KnowledgeBaseError(
            f"{file} is not readable JSON", diagnostics=(Diagnostic(what, file=file),)
        ) from None
    where = long_string(value) if may_hold_long_string(data) else None
    if where is not None:
        raise KnowledgeBaseError(
            f"{file} holds a string over {MAX_STRING:,} characters",
            diagnostics=(
                Diagnostic(f"{where}; strings are limited to {MAX_STRING:,} characters", file=file),
            ),
        )
    return value


def _bad(file: str, where: str, message: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(message, diagnostics=(Diagnostic(f"{where}: {message}", file=file),))


def _obj(value: Any, file: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(file, where, "expected an object")
    return value


def _list(value: Any, file: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(file, where, "expected a list")
    return value


def _str(obj: dict[str, Any], key: str, file: str, where: str, *, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise _bad(file, f"{where}.{key}", "expected a string")
    return value


def _strs(obj: dict[str, Any], key: str, file: str, where: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(file, f"{where}.{key}", "expected a list of strings")
    return tuple(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _about(doc: dict[str, Any], data: bytes, file: str, origin: str, records: int) -> DatasetInfo:
    about = _obj(doc.get("about", {}), file, "about")
    return DatasetInfo(
        name=_str(about, "name", file, "about", default=Path(file).stem),
        source=_str(about, "source", file, "about", default="unknown"),
        licence=_str(about, "licence", file, "about", default="unknown"),
        date=_str(about, "date", file, "about", default="unknown"),
        sha256=sha256_hex(data),
        origin=origin,
        records=records,
    )


# -------------------------------------------------------------- permission data


@dataclass(frozen=True, slots=True)
class PermissionData:
    info: DatasetInfo
    permissions: tuple[PermissionInfo, ...]
    api_rules: tuple[ApiRule, ...]
    field_rules: tuple[FieldRule, ...]
    uri_rules: tuple[UriRule, ...]
    intent_rules: tuple[IntentRule, ...]
    feature_rules: tuple[FeatureRule, ...]
    component_rules: tuple[tuple[str, tuple[str, ...]], ...]
    native_reachable: tuple[str, ...]
    combinations: tuple[Combination, ...]


def parse_permission_tables(data: bytes, file: str, *, origin: str = "baseline") -> PermissionData:
    """Parse appveto's own permission table format (see ``kb/baseline/permissions.json``)."""
    doc = _obj(_json(data, file), file, "$")
    src = Path(file).name
    perms: list[PermissionInfo] = []
    for i, raw in enumerate(_list(doc.get("permissions", []), file, "permissions")):
        o = _obj(raw, file, f"permissions[{i}]")
        w = f"permissions[{i}]"
        perms.append(
            PermissionInfo(
                name=_str(o, "name", file, w),
                protection=_str(o, "protection", file, w),
                category=_str(o, "category", file, w, default="other"),
            )
        )
    api: list[ApiRule] = []
    for i, raw in enumerate(_list(doc.get("api", []), file, "api")):
        o = _obj(raw, file, f"api[{i}]")
        w = f"api[{i}]"
        cls = _str(o, "class", file, w)
        ps = _strs(o, "permissions", file, w)
        api.extend(ApiRule(cls, m, ps, src) for m in _strs(o, "methods", file, w))
    fields: list[FieldRule] = []
    for i, raw in enumerate(_list(doc.get("fields", []), file, "fields")):
        o = _obj(raw, file, f"fields[{i}]")
        w = f"fields[{i}]"
        cls = _str(o, "class", file, w)
        ps = _strs(o, "permissions", file, w)
        fields.extend(FieldRule(cls, f, ps, src) for f in _strs(o, "fields", file, w))
    uris: list[UriRule] = []
    for i, raw in enumerate(_list(doc.get("uris", []), file, "uris")):
        o = _obj(raw, file, f"uris[{i}]")
        w = f"uris[{i}]"
        uris.append(UriRule(_str(o, "prefix", file, w), _strs(o, "permissions", file, w), src))
    intents: list[IntentRule] = []
    for i, raw in enumerate(_list(doc.get("intents", []), file, "intents")):
        o = _obj(raw, file, f"intents[{i}]")
        w = f"intents[{i}]"
        via = _str(o, "via", file, w)
        try:
            v = IntentVia(via)
        except ValueError:
            raise _bad(file, f"{w}.via", f"unknown value {via!r} (send|receive)") from None
        intents.append(IntentRule(_str(o, "action", file, w), _strs(o, "permissions", file, w), v, src))
    features = tuple(
        FeatureRule(
            _str(_obj(raw, file, f"features[{i}]"), "feature", file, f"features[{i}]"),
            _strs(_obj(raw, file, f"features[{i}]"), "permissions", file, f"features[{i}]"),
        )
        for i, raw in enumerate(_list(doc.get("features", []), file, "features"))
    )
    components = tuple(
        (
            _str(_obj(raw, file, f"components[{i}]"), "component_permission", file, f"components[{i}]"),
            _strs(_obj(raw, file, f"components[{i}]"), "permissions", file, f"components[{i}]"),
        )
        for i, raw in enumerate(_list(doc.get("components", []), file, "components"))
    )
    native = tuple(
        v for v in _list(doc.get("native_reachable", []), file, "native_reachable") if isinstance(v, str)
    )
    combos: list[Combination] = []
    for i, raw in enumerate(_list(doc.get("combinations", []), file, "combinations")):
        o = _obj(raw, file, f"combinations[{i}]")
        w = f"combinations[{i}]"
        severity = _str(o, "severity", file, w)
        if severity not in SEVERITIES:
            raise _bad(file, f"{w}.severity", f"unknown severity {severity!r}")
        combos.append(
            Combination(
                id=_str(o, "id", file, w),
                all_of=_strs(o, "all", file, w),
                any_of=_strs(o, "any", file, w),
                severity=severity,
                why=_str(o, "why", file, w),
            )
        )
    records = len(perms) + len(api) + len(fields) + len(uris) + len(intents)
    return PermissionData(
        info=_about(doc, data, file, origin, records),
        permissions=tuple(perms),
        api_rules=tuple(api),
        field_rules=tuple(fields),
        uri_rules=tuple(uris),
        intent_rules=tuple(intents),
        feature_rules=features,
        component_rules=components,
        native_reachable=native,
        combinations=tuple(combos),
    )


def parse_androguard_api_map(data: bytes, file: str) -> tuple[ApiRule, ...]:
    """androguard's ``permissions_<API>.json``: ``{"Lcls;-method-(args)ret": [perm, ...]}``."""
    doc = _obj(_json(data, file), file, "$")
    src = Path(file).name
    rules: list[ApiRule] = []
    for key, perms in doc.items():
        if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
            raise _bad(file, key, "expected a list of permission names")
        # The class descriptor ends at ';-' (method names never contain ';').
        cut = key.find(";-")
        if cut < 0:
            raise _bad(file, key, "expected 'Lclass;-method-(args)ret'")
        cls = key[: cut + 1]
        rest = key[cut + 2 :]
        method = rest.split("-", 1)[0]
        if not method:
            raise _bad(file, key, "empty method name")
        rules.append(ApiRule(cls, method, tuple(perms), src))
    return tuple(rules)


def parse_aosp_permissions(data: bytes, file: str) -> tuple[PermissionInfo, ...]:
    """androguard's AOSP ``permissions_<API>.json`` (name -> protectionLevel)."""
    doc = _obj(_json(data, file), file, "$")
    perms = _obj(doc.get("permissions", {}), file, "permissions")
    out: list[PermissionInfo] = []
    for name, raw in perms.items():
        o = _obj(raw, file, f"permissions.{name}")
        level = o.get("protectionLevel")
        if not isinstance(level, str) or not level:
            level = "normal"
        out.append(PermissionInfo(name=name, protection=level, category="other"))
    return tuple(out)


# ------------------------------------------------------------------- trackers


def parse_baseline_trackers(
    data: bytes, file: str, *, origin: str = "baseline"
) -> tuple[DatasetInfo, tuple[Tracker, ...]]:
    doc = _obj(_json(data, file), file, "$")
    out: list[Tracker] = []
    parse_shared_dependencies(doc, file)  # validated with the rest of the file
    for i, raw in enumerate(_list(doc.get("trackers", []), file, "trackers")):
        o = _obj(raw, file, f"trackers[{i}]")
        w = f"trackers[{i}]"
        code = _strs(o, "code", file, w)
        net = _strs(o, "network", file, w)
        out.append(
            make_tracker(
                id=_str(o, "id", file, w),
                name=_str(o, "name", file, w),
                vendor=o.get("vendor") if isinstance(o.get("vendor"), str) else None,
                code_signature="|".join(_prefix_regex(c) for c in code),
                network_signature="|".join(_host_regex(h) for h in net),
                categories=_strs(o, "categories", file, w),
                website=_str(o, "website", file, w, default=""),
                source=Path(file).name,
            )
        )
    return _about(doc, data, file, origin, len(out)), tuple(out)


def parse_shared_dependencies(doc: dict[str, Any], file: str) -> tuple[str, ...]:
    """``shared_dependencies: [{prefix, why}]`` of the baseline tracker file."""
    out: list[str] = []
    for i, raw in enumerate(_list(doc.get("shared_dependencies", []), file, "shared_dependencies")):
        o = _obj(raw, file, f"shared_dependencies[{i}]")
        prefix = _str(o, "prefix", file, f"shared_dependencies[{i}]")
        _str(o, "why", file, f"shared_dependencies[{i}]")
        out.append(prefix)
    return tuple(out)


def _prefix_regex(prefix: str) -> str:
    return "^" + prefix.replace(".", r"\.") + r"(\.|$|\$)"


def _host_regex(host: str) -> str:
    return r"(^|\.)" + host.replace(".", r"\.") + "$"


def parse_exodus_trackers(
    data: bytes,
    file: str,
    *,
    entities: Iterable[Entity],
    origin: str,
    source: str,
    licence: str,
    date: str,
) -> tuple[DatasetInfo, tuple[Tracker, ...]]:
    """The Exodus Privacy API answer ``GET /api/trackers`` (``{"trackers": {id: {...}}}``).

    Each tracker is tied to a vendor: through the registrable domain of its website
    (the entity table), else through the company named at the start of its name.
    """
    doc = _obj(_json(data, file), file, "$")
    table = doc.get("trackers")
    items: list[tuple[str, Any]]
    if isinstance(table, dict):
        items = list(table.items())
    elif isinstance(table, list):
        items = [(str(i), v) for i, v in enumerate(table)]
    else:
        raise _bad(file, "trackers", "expected an object or a list of trackers")
    ents = tuple(entities)
    by_domain = {d.casefold(): e for e in ents for d in e.domains}
    out: list[Tracker] = []
    for key, raw in items:
        o = _obj(raw, file, f"trackers.{key}")
        w = f"trackers.{key}"
        name = _str(o, "name", file, w)
        website = o.get("website") if isinstance(o.get("website"), str) else ""
        cats = o.get("categories", [])
        categories = tuple(c for c in cats if isinstance(c, str)) if isinstance(cats, list) else ()
        code = o.get("code_signature") or ""
        net = o.get("network_signature") or ""
        if not isinstance(code, str) or not isinstance(net, str):
            raise _bad(file, w, "signatures must be strings")
        out.append(
            make_tracker(
                id=f"exodus-{o.get('id', key)}",
                name=name,
                vendor=_vendor_for(name, str(website), by_domain, ents),
                code_signature=code,
                network_signature=net,
                categories=categories,
                website=str(website),
                source=Path(file).name,
            )
        )
    info = DatasetInfo(
        name="exodus-trackers",
        source=source,
        licence=licence,
        date=date,
        sha256=sha256_hex(data),
        origin=origin,
        records=len(out),
    )
    return info, tuple(out)


def _vendor_for(
    name: str, website: str, by_domain: dict[str, Entity], entities: tuple[Entity, ...]
) -> str | None:
    host = urlsplit(website).hostname if "://" in website else None
    if host:
        for name_ in owner_candidates(host):  # the host, then its parents up to the registrable domain
            if name_ in by_domain:
                return by_domain[name_].name
    first = name.split(" ", 1)[0].casefold()
    if len(first) < 3:
        return None
    for e in entities:
        names = (e.name, *e.aliases)
        if any(n.split(" ", 1)[0].rstrip(",.").casefold() == first for n in names):
            return e.name
    return None


# ------------------------------------------------------------------- entities


_DOMAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN_RE = re.compile(rf"(?=.{{1,253}}$){_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+")
"""A domain name as the knowledge base writes them: lower-case ASCII labels (IDNs in their
``xn--`` form) of letters, digits and inner hyphens, at least two, no trailing dot."""


def _domains(o: dict[str, Any], key: str, file: str, where: str) -> tuple[str, ...]:
    """The domains of an entity, each checked as the baseline's own are (:data:`DOMAIN_RE`):
    ``a b``, ``*.x``, a URL or a line break is an error naming the entry."""
    out = []
    for i, raw in enumerate(_strs(o, key, file, where)):
        d = raw.strip().casefold()
        if DOMAIN_RE.fullmatch(d) is None:
            raise _bad(
                file,
                f"{where}.{key}[{i}]",
                f"{raw!a} is not a domain name (letters, digits and hyphens in dot-separated "
                "labels, such as example.com; no spaces, wildcards, schemes or paths)",
            )
        out.append(d)
    return tuple(out)


def _networks(o: dict[str, Any], file: str, where: str) -> tuple[str, ...]:
    """An entity's IP networks in CIDR form (``8.8.8.0/24``); anything else is an error naming it."""
    import ipaddress

    out = []
    for i, raw in enumerate(_strs(o, "networks", file, where)):
        try:
            out.append(str(ipaddress.ip_network(raw.strip(), strict=True)))
        except ValueError:
            raise _bad(
                file, f"{where}.networks[{i}]", f"{raw!a} is not an IP network (CIDR such as 192.0.2.0/24)"
            ) from None
    return tuple(out)


def parse_entities(
    data: bytes, file: str, *, origin: str = "baseline"
) -> tuple[DatasetInfo, tuple[Entity, ...], tuple[Jurisdiction, ...]]:
    """appveto's entity format: ``{"entities": [{name, country, domains, ...}], "jurisdictions": [...]}``.

    Domains are checked (:func:`_domains`) in the baseline and in the user's files alike."""
    doc = _obj(_json(data, file), file, "$")
    ents: list[Entity] = []
    for i, raw in enumerate(_list(doc.get("entities", []), file, "entities")):
        o = _obj(raw, file, f"entities[{i}]")
        w = f"entities[{i}]"
        country = _str(o, "country", file, w)
        if not (len(country) == 2 and country.isalpha() and country.isupper()):
            raise _bad(file, f"{w}.country", f"expected an ISO 3166 alpha-2 code, got {country!r}")
        ents.append(
            Entity(
                name=_str(o, "name", file, w),
                country=country,
                domains=_domains(o, "domains", file, w),
                aliases=_strs(o, "aliases", file, w),
                infrastructure=_domains(o, "infrastructure", file, w),
                networks=_networks(o, file, w),
                parent=o.get("parent") if isinstance(o.get("parent"), str) else None,
                note=o.get("note") if isinstance(o.get("note"), str) else None,
                source=Path(file).name,
            )
        )
    jurs: list[Jurisdiction] = []
    for i, raw in enumerate(_list(doc.get("jurisdictions", []), file, "jurisdictions")):
        o = _obj(raw, file, f"jurisdictions[{i}]")
        w = f"jurisdictions[{i}]"
        jurs.append(
            Jurisdiction(
                code=_str(o, "code", file, w),
                name=_str(o, "name", file, w),
                eu_eea=bool(o.get("eu_eea", False)),
                adequacy=bool(o.get("adequacy", False)),
                note=o.get("note") if isinstance(o.get("note"), str) else None,
            )
        )
    return _about(doc, data, file, origin, len(ents)), tuple(ents), tuple(jurs)


def parse_tracker_radar_entity(data: bytes, file: str, *, country: str) -> Entity:
    """One DuckDuckGo Tracker Radar ``entities/<name>.json`` file; the country is the caller's."""
    doc = _obj(_json(data, file), file, "$")
    name = _str(doc, "name", file, "$")
    display = doc.get("displayName")
    props = _strs(doc, "properties", file, "$")
    return Entity(
        name=name,
        country=country,
        domains=tuple(p.casefold() for p in props),
        aliases=(display,) if isinstance(display, str) and display != name else (),
        source=Path(file).name,
    )


# ------------------------------------------------------------------ protectors


def parse_protectors(
    data: bytes, file: str, *, origin: str = "baseline"
) -> tuple[DatasetInfo, tuple[Protector, ...], tuple[CompilerMarker, ...]]:
    doc = _obj(_json(data, file), file, "$")
    prots: list[Protector] = []
    for i, raw in enumerate(_list(doc.get("protectors", []), file, "protectors")):
        o = _obj(raw, file, f"protectors[{i}]")
        w = f"protectors[{i}]"
        prots.append(
            Protector(
                name=_str(o, "name", file, w),
                kind=_kind(_str(o, "kind", file, w), file, w),
                vendor=o.get("vendor") if isinstance(o.get("vendor"), str) else None,
                entries=_strs(o, "entries", file, w),
                classes=_strs(o, "classes", file, w),
                strings=_strs(o, "strings", file, w),
            )
        )
    comps: list[CompilerMarker] = []
    for i, raw in enumerate(_list(doc.get("compilers", []), file, "compilers")):
        o = _obj(raw, file, f"compilers[{i}]")
        w = f"compilers[{i}]"
        comps.append(
            CompilerMarker(
                name=_str(o, "name", file, w),
                kind=_kind(_str(o, "kind", file, w), file, w),
                markers=_strs(o, "markers", file, w),
                symbols=_strs(o, "symbols", file, w),
            )
        )
    return _about(doc, data, file, origin, len(prots) + len(comps)), tuple(prots), tuple(comps)


def _kind(value: str, file: str, where: str) -> ProtectorKind:
    try:
        return ProtectorKind(value)
    except ValueError:
        raise _bad(file, f"{where}.kind", f"unknown kind {value!r}") from None


# -------------------------------------------------------------------- assembly


def _baseline_bytes(name: str) -> bytes:
    return resources.files("appveto.kb").joinpath("baseline", name).read_bytes()


SHIPPED_EXODUS_FILE = "kb/exodus/trackers.json"
SHIPPED_EXODUS_SOURCE = (
    "https://reports.exodus-privacy.eu.org/api/trackers (εxodus Privacy / ETIP), snapshot of 432 "
    "trackers, newest 2023-12-05, shipped as kb/exodus/trackers.json (the fields appveto reads) "
    "(provenance and licence: kb/exodus/SOURCE.md)"
)
SHIPPED_EXODUS_DATE = "2023-12-05"
EXODUS_LICENCE = "ODbL-1.0 (database) + DbCL-1.0 (contents), εxodus Privacy / ETIP"


def shipped_exodus_bytes() -> bytes:
    """The Exodus Privacy tracker list that ships with appveto: every published tracker with
    the fields appveto reads (``tools/exodus_extract.py``; ODbL, see kb/exodus/SOURCE.md)."""
    return resources.files("appveto.kb").joinpath("exodus", "trackers.json").read_bytes()


def _own_prefixes(t: Tracker) -> tuple[str, ...]:
    """The package prefixes of a baseline tracker (its signature is built by :func:`_prefix_regex`)."""
    return tuple(m.replace("\\.", ".") for m in re.findall(r"\^([^(|]+)\(", t.code_signature))


def complement_trackers(own: Iterable[Tracker], exodus: Iterable[Tracker]) -> tuple[Tracker, ...]:
    """appveto's own trackers that no Exodus tracker covers. An Exodus code signature that
    matches one of the tracker's packages, or names a package inside one of them, is the
    same SDK: the tracker is left out, so that each SDK is reported once, under Exodus's name."""
    exo = list(exodus)
    pats = [p for t in exo if (p := t.code_pattern()) is not None]
    alts = {
        a.strip().lstrip("^").replace("\\", "").rstrip(".") for t in exo for a in t.code_signature.split("|")
    }
    out: list[Tracker] = []
    for t in own:
        prefixes = _own_prefixes(t)
        inside = any(a == p or a.startswith(p + ".") for p in prefixes for a in alts)
        if not inside and not any(rx.search(f"{p}.A") for rx in pats for p in prefixes):
            out.append(t)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class DownloadedDataset:
    """One row of the data dir's ``datasets.json``."""

    name: str
    file: str
    source: str
    licence: str
    date: str
    sha256: str
    kind: str
    """``exodus-trackers``, ``androguard-api-map`` or ``aosp-permissions``."""


def read_data_manifest(data_dir: Path) -> tuple[DownloadedDataset, ...]:
    path = data_dir / MANIFEST_NAME
    if not path.is_file():
        return ()
    file = str(path)
    doc = _obj(_json(path.read_bytes(), file), file, "$")
    out: list[DownloadedDataset] = []
    for i, raw in enumerate(_list(doc.get("datasets", []), file, "datasets")):
        o = _obj(raw, file, f"datasets[{i}]")
        w = f"datasets[{i}]"
        out.append(
            DownloadedDataset(
                name=_str(o, "name", file, w),
                file=_str(o, "file", file, w),
                source=_str(o, "source", file, w),
                licence=_str(o, "licence", file, w),
                date=_str(o, "date", file, w),
                sha256=_str(o, "sha256", file, w),
                kind=_str(o, "kind", file, w),
            )
        )
    return tuple(out)


def load_kb(
    data_dir: Path | None = None,
    *,
    user_entities: Iterable[Path] = (),
    use_downloaded: bool = True,
) -> KnowledgeBase:
    """The baseline, overlaid with what ``appveto data update`` stored and the user's files.

    A downloaded file whose SHA-256 differs from the one recorded at download time is
    an error (the data dir was altered), not a silent fallback.
    """
    perm = parse_permission_tables(_baseline_bytes("permissions.json"), "baseline/permissions.json")
    ent_info, entities, jurisdictions = parse_entities(
        _baseline_bytes("entities.json"), "baseline/entities.json"
    )
    own_bytes = _baseline_bytes("trackers.json")
    trk_info, own_trackers = parse_baseline_trackers(own_bytes, "baseline/trackers.json")
    shared = parse_shared_dependencies(_obj(_json(own_bytes, "baseline/trackers.json"), "", "$"), "")
    prot_info, protectors, compilers = parse_protectors(
        _baseline_bytes("packers.json"), "baseline/packers.json"
    )
    from appveto.kb.ios import load_ios_baseline

    ios = load_ios_baseline()  # its datasets stay in kb.ios: an APK scan reads none of them
    datasets: list[DatasetInfo] = [perm.info, ent_info, prot_info]
    permissions: dict[str, PermissionInfo] = {p.name: p for p in perm.permissions}
    api_rules = list(perm.api_rules)
    entity_list = list(entities)

    for path in user_entities:
        data = _read(path)
        info, more, jurs = parse_entities(data, str(path), origin="user")
        datasets.append(info)
        entity_list = list(more) + entity_list  # the user's view wins on shared domains
        jurisdictions = tuple({j.code: j for j in (*jurisdictions, *jurs)}.values())

    exo_info, exodus = parse_exodus_trackers(
        shipped_exodus_bytes(),
        SHIPPED_EXODUS_FILE,
        entities=entity_list,
        origin="baseline",
        source=SHIPPED_EXODUS_SOURCE,
        licence=EXODUS_LICENCE,
        date=SHIPPED_EXODUS_DATE,
    )
    if use_downloaded:
        directory = default_data_dir() if data_dir is None else data_dir
        for row in read_data_manifest(directory):
            path = directory / row.file
            data = _read(path)
            if sha256_hex(data) != row.sha256:
                raise KnowledgeBaseError(
                    f"{path} changed since it was downloaded",
                    diagnostics=(
                        Diagnostic(
                            f"SHA-256 {sha256_hex(data)} differs from the recorded {row.sha256}; "
                            "run 'appveto data update' again",
                            file=str(path),
                        ),
                    ),
                )
            info = DatasetInfo(row.name, row.source, row.licence, row.date, row.sha256, "downloaded")
            if row.kind == "exodus-trackers":
                exo_info, exodus = parse_exodus_trackers(
                    data,
                    str(path),
                    entities=entity_list,
                    origin="downloaded",
                    source=row.source,
                    licence=row.licence,
                    date=row.date,
                )  # a newer list replaces the shipped one
                continue
            elif row.kind == "androguard-api-map":
                extra = parse_androguard_api_map(data, str(path))
                api_rules.extend(extra)
                info = DatasetInfo(
                    row.name, row.source, row.licence, row.date, row.sha256, "downloaded", len(extra)
                )
            elif row.kind == "aosp-permissions":
                aosp = parse_aosp_permissions(data, str(path))
                for p in aosp:
                    old = permissions.get(p.name)
                    permissions[p.name] = PermissionInfo(
                        p.name, p.protection, old.category if old else "other"
                    )
                info = DatasetInfo(
                    row.name, row.source, row.licence, row.date, row.sha256, "downloaded", len(aosp)
                )
            else:
                continue
            datasets.append(info)

    own = complement_trackers(own_trackers, exodus)
    datasets[2:2] = [exo_info, replace(trk_info, records=len(own))]
    return KnowledgeBase(
        datasets=tuple(datasets),
        permissions=tuple(sorted(permissions.values(), key=lambda p: p.name)),
        api_rules=tuple(api_rules),
        field_rules=perm.field_rules,
        uri_rules=perm.uri_rules,
        intent_rules=perm.intent_rules,
        feature_rules=perm.feature_rules,
        component_rules=perm.component_rules,
        native_reachable=perm.native_reachable,
        combinations=perm.combinations,
        trackers=(*exodus, *own),
        entities=tuple(entity_list),
        jurisdictions=jurisdictions,
        protectors=protectors,
        compiler_markers=compilers,
        ios=ios,
        shared_dependencies=shared,
    )


def load_baseline() -> KnowledgeBase:
    """Only the data that ships with appveto (no data dir, no user files)."""
    return load_kb(use_downloaded=False)


def with_extra(
    kb: KnowledgeBase,
    *,
    trackers: tuple[Tracker, ...] | None = None,
    api_rules: Iterable[ApiRule] = (),
    permissions: Iterable[PermissionInfo] = (),
    entities: Iterable[Entity] = (),
    datasets: Iterable[DatasetInfo] = (),
) -> KnowledgeBase:
    """A copy of ``kb`` with more data (used by tests and by callers holding their own files)."""
    perms = {p.name: p for p in kb.permissions}
    for p in permissions:
        old = perms.get(p.name)
        perms[p.name] = PermissionInfo(p.name, p.protection, old.category if old else p.category)
    return KnowledgeBase(
        datasets=(*kb.datasets, *datasets),
        permissions=tuple(sorted(perms.values(), key=lambda p: p.name)),
        api_rules=(*kb.api_rules, *api_rules),
        field_rules=kb.field_rules,
        uri_rules=kb.uri_rules,
        intent_rules=kb.intent_rules,
        feature_rules=kb.feature_rules,
        component_rules=kb.component_rules,
        native_reachable=kb.native_reachable,
        combinations=kb.combinations,
        trackers=kb.trackers if trackers is None else trackers,
        entities=(*entities, *kb.entities),
        jurisdictions=kb.jurisdictions,
        protectors=kb.protectors,
        compiler_markers=kb.compiler_markers,
        shared_dependencies=kb.shared_dependencies,
        min_target_sdk=kb.min_target_sdk,
        ios=kb.ios,
        now=kb.now,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KnowledgeBaseError(
            f"cannot read {path}", diagnostics=(Diagnostic(f"cannot read: {exc.strerror}", file=str(path)),)
        ) from None
