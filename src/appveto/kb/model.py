"""Typed reference data: permissions, API maps, trackers, entities, protectors.

Every dataset carries its provenance (:class:`DatasetInfo`). A :class:`KnowledgeBase`
is an immutable bundle of them with lookup indexes built once; checks only read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from appveto.kb.ios import IosKnowledge


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """Where one dataset comes from and which bytes were read."""

    name: str
    source: str
    licence: str
    date: str
    """When the data was written or retrieved (ISO-8601)."""
    sha256: str
    origin: str
    """``baseline`` (ships with appveto), ``downloaded`` (``appveto data update``) or ``user``."""
    records: int = 0


class ProtectionBase(StrEnum):
    NORMAL = "normal"
    DANGEROUS = "dangerous"
    SIGNATURE = "signature"
    INTERNAL = "internal"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PermissionInfo:
    name: str
    protection: str
    """Raw AOSP protection string, e.g. ``dangerous`` or ``signature|privileged``."""
    category: str = "other"

    @property
    def base(self) -> ProtectionBase:
        head = self.protection.split("|", 1)[0].strip()
        try:
            return ProtectionBase(head)
        except ValueError:
            return ProtectionBase.UNKNOWN

    @property
    def dangerous(self) -> bool:
        return self.base is ProtectionBase.DANGEROUS

    @property
    def privileged(self) -> bool:
        """Granted only to platform-signed or privileged system apps."""
        flags = {f.strip() for f in self.protection.split("|")}
        return (
            self.base is ProtectionBase.SIGNATURE
            and "appop" not in flags
            and ("privileged" in flags or flags == {"signature"})
        )


@dataclass(frozen=True, slots=True)
class ApiRule:
    """A framework method that needs one of ``permissions`` (any of them)."""

    class_descriptor: str
    method: str
    permissions: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class FieldRule:
    class_descriptor: str
    field_name: str
    permissions: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class UriRule:
    """A system content-provider URI prefix; reading or writing it needs a permission."""

    prefix: str
    permissions: tuple[str, ...]
    source: str


class IntentVia(StrEnum):
    SEND = "send"
    RECEIVE = "receive"


@dataclass(frozen=True, slots=True)
class IntentRule:
    action: str
    permissions: tuple[str, ...]
    via: IntentVia
    source: str


@dataclass(frozen=True, slots=True)
class FeatureRule:
    feature: str
    permissions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Combination:
    """Permissions that are dangerous together."""

    id: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    severity: str
    """``info``, ``low``, ``medium``, ``high`` or ``critical`` (the findings' severities)."""
    why: str


@dataclass(frozen=True, slots=True)
class Tracker:
    """A tracking or advertising SDK and how to recognise it."""

    id: str
    name: str
    vendor: str | None
    code_signature: str
    """Regex searched in dotted class names (Exodus semantics)."""
    network_signature: str
    """Regex searched in host names; empty when none."""
    categories: tuple[str, ...]
    website: str
    source: str
    _code_re: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _net_re: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @property
    def website_domain(self) -> str | None:
        """Registrable domain of the SDK's website (who publishes it, when no vendor is known)."""
        from urllib.parse import urlsplit

        from appveto.kb.domains import registrable_domain

        host = urlsplit(self.website).hostname if "://" in self.website else None
        return registrable_domain(host) if host else None

    def code_pattern(self) -> re.Pattern[str] | None:
        return self._code_re

    def network_pattern(self) -> re.Pattern[str] | None:
        return self._net_re


def make_tracker(
    *,
    id: str,
    name: str,
    vendor: str | None,
    code_signature: str,
    network_signature: str,
    categories: Iterable[str],
    website: str,
    source: str,
) -> Tracker:
    """Build a :class:`Tracker`, compiling its signatures (invalid regexes become no pattern)."""
    return Tracker(
        id=id,
        name=name,
        vendor=vendor,
        code_signature=code_signature,
        network_signature=network_signature,
        categories=tuple(categories),
        website=website,
        source=source,
        _code_re=_compile(code_signature),
        _net_re=_compile(network_signature),
    )


def _compile(pattern: str) -> re.Pattern[str] | None:
    if len(pattern.strip()) < 3:
        return None
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error:
        return None


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    code: str
    name: str
    eu_eea: bool
    adequacy: bool
    """An EU adequacy decision covers it (personal data may flow without extra safeguards)."""
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    """A company that owns domains or publishes SDKs, with its controlling jurisdiction."""

    name: str
    country: str
    domains: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    infrastructure: tuple[str, ...] = ()
    """Domains that are shared hosting/CDN: the owner runs the pipes, not the service."""
    networks: tuple[str, ...] = ()
    """IP networks (CIDR) the company publishes as its own, for endpoints given as addresses."""
    parent: str | None = None
    note: str | None = None
    source: str = "baseline"


class ProtectorKind(StrEnum):
    PACKER = "packer"
    PROTECTOR = "protector"
    OBFUSCATOR = "obfuscator"


@dataclass(frozen=True, slots=True)
class Protector:
    name: str
    kind: ProtectorKind
    vendor: str | None
    entries: tuple[str, ...]
    """Archive entry markers: an exact base name, a prefix when ending in ``-``/``_``,
    or a directory when ending in ``/``."""
    classes: tuple[str, ...]
    """Dotted class-name prefixes."""
    strings: tuple[str, ...]
    """Substrings of DEX string constants."""


@dataclass(frozen=True, slots=True)
class CompilerMarker:
    """An obfuscating compiler recognised by its ELF ``.comment`` string or by the
    names its passes give to generated functions."""

    name: str
    kind: ProtectorKind
    markers: tuple[str, ...]
    symbols: tuple[str, ...] = ()
    """Prefixes of compiler-generated symbol names (``NativeLib.dot_symbols``), each
    followed in the symbol by decimal digits only (a pass-generated suffix)."""


@dataclass(frozen=True, slots=True)
class Ownership:
    """Who owns a host or an address, and through which recorded name or network."""

    entity: Entity
    matched: str
    """The domain (the host or a parent of it) or the network that is recorded for the entity."""
    infrastructure: bool
    """The matched domain is one of the entity's hosting/CDN domains."""


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Every piece of reference data a scan reads, with provenance. Immutable."""

    datasets: tuple[DatasetInfo, ...]
    permissions: tuple[PermissionInfo, ...]
    api_rules: tuple[ApiRule, ...]
    field_rules: tuple[FieldRule, ...]
    uri_rules: tuple[UriRule, ...]
    intent_rules: tuple[IntentRule, ...]
    feature_rules: tuple[FeatureRule, ...]
    component_rules: tuple[tuple[str, tuple[str, ...]], ...]
    native_reachable: tuple[str, ...]
    combinations: tuple[Combination, ...]
    trackers: tuple[Tracker, ...]
    entities: tuple[Entity, ...]
    jurisdictions: tuple[Jurisdiction, ...]
    protectors: tuple[Protector, ...]
    compiler_markers: tuple[CompilerMarker, ...]
    shared_dependencies: tuple[str, ...] = ()
    """Dotted package prefixes of libraries several tracker SDKs pull in (the advertising-ID
    client, the install-referrer library): their classes alone are no tracker."""
    min_target_sdk: int = 34
    """The lowest targetSdk Google Play accepts for new apps (a public, dated fact)."""
    ios: IosKnowledge = field(default_factory=IosKnowledge)
    """The iOS tables (usage keys, frameworks, SDK signatures, SKAdNetwork IDs)."""
    now: datetime | None = None
    """The evaluation time of a scan, set by ``scan`` through :meth:`at`; checks that
    compare dates (certificate expiry) skip when it is None."""

    _perm: dict[str, PermissionInfo] = field(init=False, repr=False, compare=False)
    _api: dict[tuple[str, str], tuple[ApiRule, ...]] = field(init=False, repr=False, compare=False)
    _api_classes: frozenset[str] = field(init=False, repr=False, compare=False)
    _fields: dict[tuple[str, str], tuple[FieldRule, ...]] = field(init=False, repr=False, compare=False)
    _domain: dict[str, Entity] = field(init=False, repr=False, compare=False)
    _entity: dict[str, Entity] = field(init=False, repr=False, compare=False)
    _jur: dict[str, Jurisdiction] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        perm: dict[str, PermissionInfo] = {}
        for p in self.permissions:
            perm[p.name] = p
        api: dict[tuple[str, str], list[ApiRule]] = {}
        for a in self.api_rules:
            api.setdefault((a.class_descriptor, a.method), []).append(a)
        fields: dict[tuple[str, str], list[FieldRule]] = {}
        for f in self.field_rules:
            fields.setdefault((f.class_descriptor, f.field_name), []).append(f)
        domain: dict[str, Entity] = {}
        entity: dict[str, Entity] = {}
        for e in self.entities:
            entity[e.name.casefold()] = e
            for alias in e.aliases:
                entity.setdefault(alias.casefold(), e)
            for d in e.domains:
                domain[d.casefold()] = e
        object.__setattr__(self, "_perm", perm)
        object.__setattr__(self, "_api", {k: tuple(v) for k, v in api.items()})
        object.__setattr__(self, "_api_classes", frozenset(k[0] for k in api))
        object.__setattr__(self, "_fields", {k: tuple(v) for k, v in fields.items()})
        object.__setattr__(self, "_domain", domain)
        object.__setattr__(self, "_entity", entity)
        object.__setattr__(self, "_jur", {j.code: j for j in self.jurisdictions})

    # ------------------------------------------------------------------ lookups

    def permission(self, name: str) -> PermissionInfo | None:
        return self._perm.get(name)

    def is_dangerous(self, name: str) -> bool:
        p = self._perm.get(name)
        return p is not None and p.dangerous

    def api_rules_for(self, class_descriptor: str, method: str) -> tuple[ApiRule, ...]:
        return self._api.get((class_descriptor, method), ())

    def has_api_class(self, class_descriptor: str) -> bool:
        return class_descriptor in self._api_classes

    def field_rules_for(self, class_descriptor: str, field_name: str) -> tuple[FieldRule, ...]:
        return self._fields.get((class_descriptor, field_name), ())

    def entity_for_domain(self, registrable_domain: str) -> Entity | None:
        return self._domain.get(registrable_domain.casefold())

    def owner_of(self, host: str) -> Ownership | None:
        """The entity that owns ``host``: the most specific recorded name among the host and
        its parents, walking up through private public-suffix entries (``www.googleapis.com``
        -> ``googleapis.com``) to the ICANN registrable domain; for an IP literal, the
        entity whose published networks hold it."""
        import ipaddress

        from appveto.kb.domains import owner_candidates

        h = host.strip().strip("[]").strip(".").casefold()
        try:
            ip = ipaddress.ip_address(h)
        except ValueError:
            for name in owner_candidates(h):
                e = self._domain.get(name)
                if e is not None:
                    return Ownership(e, name, name in e.infrastructure)
            return None
        for e in self.entities:
            for net in e.networks:
                if ip in ipaddress.ip_network(net):
                    return Ownership(e, net, False)
        return None

    def entity_named(self, name: str) -> Entity | None:
        return self._entity.get(name.casefold())

    def jurisdiction(self, code: str) -> Jurisdiction | None:
        return self._jur.get(code)

    def dataset(self, name: str) -> DatasetInfo | None:
        for d in self.datasets:
            if d.name == name:
                return d
        return None

    # --------------------------------------------------------------- derivation

    def at(self, now: datetime) -> KnowledgeBase:
        """The same knowledge evaluated at ``now`` (indexes are rebuilt, data shared)."""
        return replace(self, now=now)
