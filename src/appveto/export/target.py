"""What an exporter needs to know about one decision, and nothing more.

:class:`EnforcementTarget` is the small, frozen input every exporter renders. It is
built from a resolved policy decision by :mod:`appveto.export.adapter`, or by hand in
tests, so the renderers do not depend on the shape of the policy model.

Every list in it is sorted and de-duplicated at construction, so that the same
decision on the same date always renders to the same bytes.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from appveto.errors import Diagnostic, ExportError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# A DNS name as the exporters accept it: lower-case LDH labels, at least two of them,
# no trailing dot. Underscores are allowed (service names); IDNs must come as punycode.
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(rf"^(?:{_LABEL}\.)+{_LABEL}$")
_PACKAGE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+$")
_BUNDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_ZONE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class DomainOrigin(StrEnum):
    """Why a domain is in the block list."""

    POLICY = "policy"
    """Named in the decision itself (a web-domain selector): the user chose it."""
    VENDOR = "vendor"
    """Owned by the vendor of a banned app, from the entity table."""


@dataclass(frozen=True, slots=True, order=True)
class BlockedDomain:
    """A registrable domain blocked together with all of its subdomains."""

    name: str
    """Lower-case, no trailing dot, e.g. ``tiktok.com``."""
    owner: str
    """The entity that owns it (``ByteDance Ltd.``), or ``unknown`` for a user-named domain."""
    origin: DomainOrigin
    source: str
    """Provenance: the decision file, or the entity table and its source."""
    note: str = ""
    """Set when the user named a domain the entity table marks as shared infrastructure."""


@dataclass(frozen=True, slots=True, order=True)
class LeftOutDomain:
    """A domain tied to the vendor that the export deliberately does not block."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True, order=True)
class App:
    """One banned app on one platform."""

    platform: str
    """``android`` or ``ios``."""
    app_id: str
    """Android package name or iOS bundle ID."""
    name: str = ""
    """Display name when known (Intune's ``appListItem.name`` needs one)."""
    publisher: str = ""


@dataclass(frozen=True, slots=True)
class Zone:
    """A named network where the ban is enforced by DNS."""

    name: str
    networks: tuple[IPNetwork, ...]
    ssids: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class EnforcementTarget:
    """One decision as the enforcement exporters see it, on one date."""

    decision_id: str
    title: str
    authority: str
    at: date
    """The date the export is made for; it is printed, never the wall clock."""
    generator: str
    """``appveto 0.1.0``."""
    effective: date | None = None
    expires: date | None = None
    term: str = ""
    """The term in words, e.g. ``6 months, renewed 2023-09-14``."""
    apps: tuple[App, ...] = ()
    domains: tuple[BlockedDomain, ...] = ()
    left_out: tuple[LeftOutDomain, ...] = ()
    zones: tuple[Zone, ...] = ()
    mode: str = "mandatory"
    source_file: str = ""
    source_line: int | None = None
    """Where the decision starts in its policy file, for located errors."""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        problems = validate_target(self)
        if problems:
            raise ExportError(
                f"decision '{self.decision_id}' cannot be exported",
                diagnostics=tuple(
                    Diagnostic(
                        p, file=self.source_file or None, line=self.source_line, entry=self.decision_id
                    )
                    for p in problems
                ),
            )
        object.__setattr__(self, "apps", tuple(sorted(set(self.apps))))
        # One entry per domain name; a policy-named domain wins over the vendor table.
        by_name: dict[str, BlockedDomain] = {}
        for d in sorted(self.domains, key=lambda d: (d.name, d.origin != DomainOrigin.POLICY)):
            by_name.setdefault(d.name, d)
        object.__setattr__(self, "domains", tuple(by_name[n] for n in sorted(by_name)))
        blocked = set(by_name)
        left = {lo.name: lo for lo in self.left_out if lo.name not in blocked}
        object.__setattr__(self, "left_out", tuple(left[n] for n in sorted(left)))
        object.__setattr__(self, "zones", tuple(sorted(self.zones, key=lambda z: z.name)))

    @property
    def android_packages(self) -> tuple[str, ...]:
        return tuple(sorted({a.app_id for a in self.apps if a.platform == "android"}))

    @property
    def ios_bundle_ids(self) -> tuple[str, ...]:
        return tuple(sorted({a.app_id for a in self.apps if a.platform == "ios"}))

    def zone(self, name: str) -> Zone:
        for z in self.zones:
            if z.name == name:
                return z
        known = ", ".join(z.name for z in self.zones) or "none"
        raise ExportError(
            f"decision '{self.decision_id}' has no network zone '{name}' (zones: {known})",
            diagnostics=(
                Diagnostic(
                    f"no network zone '{name}' (zones: {known})",
                    file=self.source_file or None,
                    line=self.source_line,
                    entry=self.decision_id,
                ),
            ),
        )

    def header_lines(self) -> tuple[str, ...]:
        """The lines every commented format starts with (no comment markers)."""
        lines = [
            f"appveto enforcement export: decision {self.decision_id}",
            f"title: {self.title}",
            f"authority: {self.authority}",
            f"mode: {self.mode}",
            f"effective: {_d(self.effective)}; expires: {_d(self.expires)}",
        ]
        if self.term:
            lines.append(f"term: {self.term}")
        lines.append(f"state on: {self.at.isoformat()}")
        lines.append(f"generated by: {self.generator}")
        lines.extend(f"note: {n}" for n in self.notes)
        return tuple(lines)


def _d(value: date | None) -> str:
    return value.isoformat() if value is not None else "none"


def _has_control(text: str) -> bool:
    """Line breaks would end a comment in a config file (and inject what follows); other
    control characters are not allowed in XML (the Apple profile) at all."""
    return any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text)


def is_domain(name: str) -> bool:
    return len(name) <= 253 and _DOMAIN_RE.match(name) is not None


def validate_target(t: EnforcementTarget) -> list[str]:
    """Everything wrong with a target, so a renderer never writes a broken line.

    Values end up in configuration files: a newline, quote or semicolon in a name
    could inject directives into an Unbound or BIND file, so names are checked here
    against strict grammars rather than escaped later.
    """
    problems: list[str] = []
    if not t.decision_id or _has_control(t.decision_id):
        problems.append("decision id is empty or holds a control character")
    texts = [("title", t.title), ("authority", t.authority), ("term", t.term), ("mode", t.mode)]
    texts += [("note", n) for n in t.notes]
    for label, text in texts:
        if _has_control(text):
            problems.append(f"{label} holds a line break or another control character")
    for app in t.apps:
        if app.platform == "android":
            if not _PACKAGE_RE.match(app.app_id):
                problems.append(f"'{app.app_id}' is not a valid Android package name")
        elif app.platform == "ios":
            if not _BUNDLE_RE.match(app.app_id) or "." not in app.app_id:
                problems.append(f"'{app.app_id}' is not a valid iOS bundle ID")
        else:
            problems.append(f"app '{app.app_id}' has unknown platform '{app.platform}'")
        if _has_control(app.name + app.publisher):
            problems.append(f"app '{app.app_id}' name or publisher holds a control character")
    for d in t.domains:
        if not is_domain(d.name):
            problems.append(f"'{d.name}' is not a valid domain name (lower-case, no trailing dot)")
    for z in t.zones:
        if not _ZONE_NAME_RE.match(z.name):
            problems.append(f"zone name '{z.name}' must be letters, digits, '.', '_' or '-'")
        for s in (*z.ssids, z.description):
            if _has_control(s):
                problems.append(f"zone '{z.name}' SSID or description holds a control character")
    return problems


def parse_network(text: str) -> IPNetwork:
    """A CIDR or a single address; raises ExportError on a malformed one."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise ExportError(f"'{text}' is not an IP network: {exc}") from None
