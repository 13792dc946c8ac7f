"""iOS reference tables: usage-description keys, system frameworks, SDK signatures and
SKAdNetwork identifiers, each a baseline file with source, licence and date.

Vendors are named as in the entity table (``entities.json``), which gives their
jurisdiction; a test fails when one is not there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kb.model holds an IosKnowledge: no import cycle at run time
    from appveto.kb.model import DatasetInfo


@dataclass(frozen=True, slots=True)
class UsageKey:
    """An ``NS*UsageDescription`` key and the protected resource it unlocks."""

    key: str
    capability: str
    sensitive: bool
    android: tuple[str, ...]
    """The nearest Android permissions (for side-by-side comparison)."""


@dataclass(frozen=True, slots=True)
class SystemFramework:
    name: str
    capability: str
    sensitive: bool


@dataclass(frozen=True, slots=True)
class IosTracker:
    """An iOS SDK, recognised by class-name prefix, framework (module) name or host."""

    id: str
    name: str
    vendor: str
    classes: tuple[str, ...]
    frameworks: tuple[str, ...]
    network: tuple[str, ...]
    categories: tuple[str, ...]
    website: str

    def matches_class(self, name: str) -> bool:
        """``name`` starts with one of the prefixes at a word boundary: the prefix is the
        whole name, or a new CamelCase word follows (after an upper-case prefix such as
        ``GAD``: an upper-case letter then a lower-case one, so ``GADMobileAds`` matches
        and ``GADGETView`` does not; after any other prefix: no lower-case letter)."""
        for p in self.classes:
            if not name.startswith(p):
                continue
            rest = name[len(p) :]
            if not rest:
                return True
            if p[-1].isupper():
                if len(rest) >= 2 and rest[0].isupper() and rest[1].islower():
                    return True
            elif not rest[0].islower():
                return True
        return False

    def matches_host(self, host: str) -> bool:
        return any(host == h or host.endswith("." + h) for h in self.network)


@dataclass(frozen=True, slots=True)
class AdNetwork:
    id: str
    """``<id>.skadnetwork``, lower case."""
    network: str
    vendor: str
    source: str


@dataclass(frozen=True, slots=True)
class IosKnowledge:
    """Every iOS table; empty by default (a knowledge base built without them)."""

    datasets: tuple[DatasetInfo, ...] = ()
    usage_keys: tuple[UsageKey, ...] = ()
    frameworks: tuple[SystemFramework, ...] = ()
    trackers: tuple[IosTracker, ...] = ()
    ad_networks: tuple[AdNetwork, ...] = ()
    _usage: dict[str, UsageKey] = field(default_factory=dict, init=False, repr=False, compare=False)
    _fw: dict[str, SystemFramework] = field(default_factory=dict, init=False, repr=False, compare=False)
    _skan: dict[str, AdNetwork] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_usage", {u.key: u for u in self.usage_keys})
        object.__setattr__(self, "_fw", {f.name: f for f in self.frameworks})
        object.__setattr__(self, "_skan", {a.id: a for a in self.ad_networks})

    def usage(self, key: str) -> UsageKey | None:
        return self._usage.get(key)

    def framework(self, name: str) -> SystemFramework | None:
        return self._fw.get(name)

    def ad_network(self, skadnetwork_id: str) -> AdNetwork | None:
        return self._skan.get(skadnetwork_id.strip().lower())


def parse_ios_tables(files: dict[str, bytes], *, origin: str = "baseline") -> IosKnowledge:
    """The four tables from their bytes (keys: ``ios_usage.json``, ``ios_frameworks.json``,
    ``ios_trackers.json``, ``ios_skadnetwork.json``). Raises :class:`KnowledgeBaseError`
    naming the file and the record."""
    from appveto.kb.load import _about, _bad, _json, _list, _obj, _str, _strs

    datasets: list[DatasetInfo] = []
    usage: list[UsageKey] = []
    frameworks: list[SystemFramework] = []
    trackers: list[IosTracker] = []
    networks: list[AdNetwork] = []
    for file, data in sorted(files.items()):
        doc = _obj(_json(data, file), file, "$")
        base = Path(file).name
        if base == "ios_usage.json":
            for i, raw in enumerate(_list(doc.get("usage", []), file, "usage")):
                w = f"usage[{i}]"
                o = _obj(raw, file, w)
                key = _str(o, "key", file, w)
                if not key.endswith("UsageDescription"):
                    raise _bad(file, f"{w}.key", f"{key!r} is not a usage-description key")
                usage.append(
                    UsageKey(
                        key,
                        _str(o, "capability", file, w),
                        _flag(o, "sensitive", file, w),
                        _strs(o, "android", file, w),
                    )
                )
            records = len(usage)
        elif base == "ios_frameworks.json":
            for i, raw in enumerate(_list(doc.get("frameworks", []), file, "frameworks")):
                w = f"frameworks[{i}]"
                o = _obj(raw, file, w)
                frameworks.append(
                    SystemFramework(
                        _str(o, "name", file, w),
                        _str(o, "capability", file, w),
                        _flag(o, "sensitive", file, w),
                    )
                )
            records = len(frameworks)
        elif base == "ios_trackers.json":
            for i, raw in enumerate(_list(doc.get("trackers", []), file, "trackers")):
                w = f"trackers[{i}]"
                o = _obj(raw, file, w)
                t = IosTracker(
                    id=_str(o, "id", file, w),
                    name=_str(o, "name", file, w),
                    vendor=_str(o, "vendor", file, w),
                    classes=_strs(o, "classes", file, w),
                    frameworks=_strs(o, "frameworks", file, w),
                    network=tuple(h.lower() for h in _strs(o, "network", file, w)),
                    categories=_strs(o, "categories", file, w),
                    website=_str(o, "website", file, w, default=""),
                )
                if any(len(p) < 3 for p in t.classes) or not (t.classes or t.frameworks or t.network):
                    raise _bad(file, w, "needs class prefixes of 3+ characters, frameworks or hosts")
                trackers.append(t)
            records = len(trackers)
        elif base == "ios_skadnetwork.json":
            for i, raw in enumerate(_list(doc.get("networks", []), file, "networks")):
                w = f"networks[{i}]"
                o = _obj(raw, file, w)
                ident = _str(o, "id", file, w).strip().lower()
                if not ident.endswith(".skadnetwork"):
                    raise _bad(file, f"{w}.id", f"{ident!r} is not a SKAdNetwork identifier")
                networks.append(
                    AdNetwork(
                        ident,
                        _str(o, "network", file, w),
                        _str(o, "vendor", file, w),
                        _str(o, "source", file, w),
                    )
                )
            records = len(networks)
        else:
            raise _bad(file, "$", "not one of the iOS tables")
        datasets.append(_about(doc, data, file, origin, records))
    return IosKnowledge(
        datasets=tuple(datasets),
        usage_keys=tuple(usage),
        frameworks=tuple(frameworks),
        trackers=tuple(trackers),
        ad_networks=tuple(networks),
    )


def _flag(o: dict[str, object], key: str, file: str, where: str) -> bool:
    from appveto.kb.load import _bad

    v = o.get(key, False)
    if not isinstance(v, bool):
        raise _bad(file, f"{where}.{key}", "expected true or false")
    return v


IOS_TABLES = ("ios_usage.json", "ios_frameworks.json", "ios_trackers.json", "ios_skadnetwork.json")


def load_ios_baseline() -> IosKnowledge:
    """The iOS tables that ship with appveto."""
    base = resources.files("appveto.kb").joinpath("baseline")
    return parse_ios_tables({f"baseline/{n}": base.joinpath(n).read_bytes() for n in IOS_TABLES})
