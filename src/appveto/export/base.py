"""The exporter protocol, the artifact it returns, and helpers shared by the targets."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from appveto.errors import Diagnostic, ExportError
from appveto.export.target import EnforcementTarget, Zone

# Stable UUIDs: uuid5 of the decision id in a namespace of our own, so the same
# decision always yields the same PayloadUUID (an MDM replaces, never duplicates).
APPVETO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "export.appveto.invalid")


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file an exporter produced, with what a person must know to deploy it."""

    target: str
    filename: str
    """A suggested file name, e.g. ``be-fed-2023.mobileconfig``."""
    content: bytes
    destination: str
    """Where the file goes (which console, API call or config directory)."""
    caveats: tuple[str, ...]
    """The traps of this target, also written into the file where the format has comments."""


class Exporter(Protocol):
    """A target: renders one decision into the file its tool takes."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str:
        """One line for help texts and the README."""
        ...

    @property
    def network(self) -> bool:
        """A DNS target: needs the decision's zones and domains."""
        ...

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact: ...


def slug(text: str) -> str:
    """A lower-case name safe in file names, tags and DNS labels."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "decision"


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(APPVETO_NAMESPACE, "\x1f".join(parts))).upper()


def dump_json(value: Any) -> bytes:
    """Canonical JSON: sorted keys, two-space indent, UTF-8, trailing newline."""
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def comment_block(lines: Iterable[str], marker: str) -> list[str]:
    out = []
    for line in lines:
        out.append(f"{marker} {line}".rstrip() if line else marker)
    return out


def fail(target: EnforcementTarget, message: str) -> ExportError:
    return ExportError(
        f"decision '{target.decision_id}': {message}",
        diagnostics=(
            Diagnostic(
                message, file=target.source_file or None, line=target.source_line, entry=target.decision_id
            ),
        ),
    )


def require_android(target: EnforcementTarget, name: str) -> tuple[str, ...]:
    pkgs = target.android_packages
    if not pkgs:
        raise fail(target, f"bans no Android package, so there is nothing to export for {name}")
    return pkgs


def require_ios(target: EnforcementTarget, name: str) -> tuple[str, ...]:
    ids = target.ios_bundle_ids
    if not ids:
        raise fail(target, f"bans no iOS bundle ID, so there is nothing to export for {name}")
    return ids


def select_zones(target: EnforcementTarget, zone: str | None, name: str) -> tuple[Zone, ...]:
    """The zones a DNS export covers: the one asked for, or all of the decision's.

    A decision without a network zone has no network scope: the DNS exports fail
    closed rather than block for every client of a resolver.
    """
    if not target.domains:
        raise fail(
            target, "has no domain to block (no web domain and no known vendor domain) for a DNS export"
        )
    if zone is not None:
        chosen = target.zone(zone)
        if not chosen.networks:
            raise fail(target, f"network zone '{zone}' has no address range: {name} cannot scope to SSIDs")
        return (chosen,)
    zones = tuple(z for z in target.zones if z.networks)
    if not zones:
        raise fail(
            target,
            "names no network zone with address ranges, so a DNS export would block for every client "
            "of the resolver; add a mandatory network zone with CIDRs to the decision's scope",
        )
    return zones


def unscoped_zone_lines(target: EnforcementTarget) -> list[str]:
    """Zones the DNS files cannot cover (SSIDs only), stated rather than dropped."""
    return [
        f"zone {z.name} is NOT covered: it has no address range (a resolver cannot see SSIDs)"
        for z in target.zones
        if not z.networks
    ]


DNS_CAVEATS: tuple[str, ...] = (
    "DNS blocking works only while a device uses this resolver: mobile data, a VPN, "
    "DNS-over-HTTPS/TLS in the app or the browser, or hard-coded IP addresses bypass it.",
    "Besides the domains the decision names itself, only domains owned by the banned apps' vendors "
    "are blocked; shared CDNs and third-party services are left out (listed above with the reason) "
    "because blocking them breaks unrelated services.",
)


def domain_lines(target: EnforcementTarget) -> list[str]:
    """The provenance of each blocked domain and the list of what was left out, as text."""
    out = ["blocked domains (each with all its subdomains), with provenance:"]
    for d in target.domains:
        text = f"  {d.name}: owner {d.owner}; {d.origin.value}: {d.source}"
        if d.note:
            text += f"; NOTE {d.note}"
        out.append(text)
    if target.left_out:
        out.append("left out on purpose (not blocked):")
        for lo in target.left_out:
            out.append(f"  {lo.name}: {lo.reason}")
    return out


def zone_lines(zones: tuple[Zone, ...], target: EnforcementTarget | None = None) -> list[str]:
    out = unscoped_zone_lines(target) if target is not None else []
    for z in zones:
        nets = ", ".join(str(n) for n in z.networks)
        text = f"zone {z.name}: {nets}"
        if z.ssids:
            text += f" (SSIDs: {', '.join(z.ssids)})"
        out.append(text)
    return out


def header(target: EnforcementTarget, marker: str, caveats: Iterable[str], extra: Iterable[str] = ()) -> str:
    lines: list[str] = list(target.header_lines())
    lines.append("")
    lines.extend(extra)
    caveat_list = list(caveats)
    if caveat_list:
        lines.append("caveats:")
        lines.extend(f"- {c}" for c in caveat_list)
    return "\n".join(comment_block(lines, marker)) + "\n"
