"""DNS blocklists for a decision's network zones.

Six resolvers, six syntaxes (see the module's targets): hosts files, dnsmasq,
Unbound, BIND response-policy zones, AdGuard Home and Pi-hole. Each blocks the
domains owned by the banned apps' vendors together with all their subdomains, and
where the resolver can scope a rule to clients, only for the zone's address ranges.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from appveto.errors import ExportError
from appveto.export.base import (
    DNS_CAVEATS,
    Artifact,
    comment_block,
    domain_lines,
    header,
    select_zones,
    slug,
    zone_lines,
)
from appveto.export.target import EnforcementTarget, IPNetwork, Zone


def _suffix(target: EnforcementTarget, zone: str | None) -> str:
    base = slug(target.decision_id)
    return f"{base}.{slug(zone)}" if zone is not None else base


def _ssid_caveat(zones: tuple[Zone, ...]) -> list[str]:
    if any(z.ssids for z in zones):
        return [
            "A resolver sees addresses, not SSIDs: make sure each SSID of the zone hands out "
            "addresses only from the zone's ranges (and this resolver by DHCP)."
        ]
    return []


@dataclass(frozen=True, slots=True)
class HostsExporter:
    name: str = "hosts"
    title: str = "hosts file (0.0.0.0 and :: for each name; exact names only)"
    network: bool = True

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        zones = select_zones(target, zone, "a hosts file")
        caveats = (
            "A hosts file matches exact names only: subdomains are NOT blocked. Each domain is listed "
            "with its www name, but any other host name (api.tiktokv.com, v16.tiktokcdn.com, ...) "
            "still resolves. Prefer a resolver format (dnsmasq, Unbound, RPZ, AdGuard Home, Pi-hole).",
            "A hosts file acts on one machine (or one resolver that reads it), not on a network zone: "
            "deploy it only to the machines or resolver serving the zone.",
            *DNS_CAVEATS,
            *_ssid_caveat(zones),
        )
        text = header(target, "#", caveats, [*zone_lines(zones, target), *domain_lines(target), ""])
        lines = []
        for d in target.domains:
            for host in (d.name, f"www.{d.name}"):
                lines.append(f"0.0.0.0 {host}")
                lines.append(f":: {host}")
        text += "\n".join(lines) + "\n"
        return Artifact(
            self.name,
            f"{_suffix(target, zone)}.hosts",
            text.encode(),
            "/etc/hosts of the machines in the zone, or a hosts file read by the zone's resolver "
            "(dnsmasq addn-hosts=, Pi-hole adlist)",
            caveats,
        )


@dataclass(frozen=True, slots=True)
class DnsmasqExporter:
    name: str = "dnsmasq"
    title: str = "dnsmasq configuration (address=/domain/ answers NXDOMAIN for the domain and subdomains)"
    network: bool = True

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        zones = select_zones(target, zone, "dnsmasq")
        caveats = (
            "dnsmasq has no per-client rules: load this file only into the dnsmasq instance that "
            "serves the zone (listen on the zone's interface or address with interface= or "
            "listen-address=), not into a resolver shared with other networks.",
            *DNS_CAVEATS,
            *_ssid_caveat(zones),
        )
        text = header(target, "#", caveats, [*zone_lines(zones, target), *domain_lines(target), ""])
        text += "".join(f"address=/{d.name}/\n" for d in target.domains)
        return Artifact(
            self.name,
            f"{_suffix(target, zone)}.dnsmasq.conf",
            text.encode(),
            "/etc/dnsmasq.d/ of the dnsmasq serving the zone; check with `dnsmasq --test`, then restart",
            caveats,
        )


def _tag(target: EnforcementTarget, z: Zone) -> str:
    # Unbound tag names: letters, digits, '_' and '-'; one tag per decision and zone so
    # that several decisions' files can be loaded into the same server.
    return "appveto_" + slug(f"{target.decision_id}_{z.name}").replace("-", "_")


_UNBOUND_CAVEATS: tuple[str, ...] = (
    "The local zones only apply to clients whose address matches an access-control-tag "
    "line below; every other client of this Unbound resolves the names normally.",
    "The access-control lines below allow the zone's ranges to query this resolver; "
    "a more specific access-control elsewhere in your configuration wins for its range.",
)


def _unbound_server_clause(entries: Sequence[tuple[EnforcementTarget, tuple[Zone, ...]]]) -> str:
    """One ``server:`` clause for one or several decisions.

    Each (decision, zone) gets its own tag. An address range in several zones gets one
    ``access-control-tag`` line with all their tags, and a domain blocked by several
    decisions one ``local-zone`` whose tags are those of the zones of exactly the
    decisions that block it: Unbound keeps a single definition per local zone and per
    range, so repeating them would silently drop tags.
    """
    all_tags: list[str] = []
    net_tags: dict[IPNetwork, list[str]] = {}
    net_zone: dict[IPNetwork, list[str]] = {}
    domain_tags: dict[str, list[str]] = {}
    domain_info: dict[str, list[str]] = {}
    for target, zones in entries:
        tags = [_tag(target, z) for z in zones]
        all_tags.extend(tags)
        for z, tag in zip(zones, tags, strict=True):
            for net in z.networks:
                net_tags.setdefault(net, []).append(tag)
                net_zone.setdefault(net, []).append(f"{target.decision_id}/{z.name}")
        for d in target.domains:
            domain_tags.setdefault(d.name, []).extend(tags)
            domain_info.setdefault(d.name, []).append(f"{d.owner} ({d.origin.value}, {target.decision_id})")
    out = ["server:", f'    define-tag: "{" ".join(sorted(set(all_tags)))}"']
    for net in sorted(net_tags, key=lambda n: (n.version, n.network_address, n.prefixlen)):
        out.append(f"    # {', '.join(sorted(set(net_zone[net])))}")
        out.append(f"    access-control: {net} allow")
        out.append(f'    access-control-tag: {net} "{" ".join(sorted(set(net_tags[net])))}"')
    for name in sorted(domain_tags):
        out.append(f"    # {name}: {'; '.join(sorted(set(domain_info[name])))}")
        out.append(f'    local-zone: "{name}." always_nxdomain')
        out.append(f'    local-zone-tag: "{name}." "{" ".join(sorted(set(domain_tags[name])))}"')
    return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class UnboundExporter:
    name: str = "unbound"
    title: str = "Unbound server: clause (always_nxdomain local zones, tagged for the zone's ranges)"
    network: bool = True

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        zones = select_zones(target, zone, "Unbound")
        caveats = (
            *_UNBOUND_CAVEATS,
            "Load one appveto file per Unbound server: if two files block the same domain, Unbound "
            "keeps one definition of that local zone (it warns 'duplicate local-zone') and the other "
            "decision's zone tags for it can be lost. For several decisions on one server, use the "
            "combined file of 'appveto export all'.",
            *DNS_CAVEATS,
            *_ssid_caveat(zones),
        )
        text = header(target, "#", caveats, [*zone_lines(zones, target), *domain_lines(target), ""])
        text += _unbound_server_clause([(target, zones)])
        return Artifact(
            self.name,
            f"{_suffix(target, zone)}.unbound.conf",
            text.encode(),
            _UNBOUND_DESTINATION,
            caveats,
        )


_UNBOUND_DESTINATION = (
    "include: it from unbound.conf (e.g. /etc/unbound/unbound.conf.d/); check with "
    "`unbound-checkconf`, then `unbound-control reload`"
)


def combined_unbound(targets: Sequence[EnforcementTarget], *, generator: str) -> Artifact | None:
    """One Unbound file for every decision that has DNS zones and domains (``None`` when
    none has), so that several decisions can share one server."""
    entries: list[tuple[EnforcementTarget, tuple[Zone, ...]]] = []
    for t in sorted(targets, key=lambda t: t.decision_id):
        try:
            entries.append((t, select_zones(t, None, "Unbound")))
        except ExportError:
            continue
    if not entries:
        return None
    caveats = (
        *_UNBOUND_CAVEATS,
        "Load this file instead of the per-decision Unbound files, not with them.",
        *DNS_CAVEATS,
    )
    lines = [f"appveto enforcement export: {len(entries)} decisions combined for one Unbound server"]
    for t, zones in entries:
        expires = t.expires.isoformat() if t.expires else "none"
        lines.append(f"decision {t.decision_id}: {t.title}; {t.authority}; expires {expires}")
        lines.extend(f"  {line}" for line in zone_lines(zones, t))
        lines.extend(f"  {line}" for line in domain_lines(t))
    lines += [f"state on: {entries[0][0].at.isoformat()}", f"generated by: {generator}", "", "caveats:"]
    lines += [f"- {c}" for c in caveats]
    text = "\n".join(comment_block(lines, "#")) + "\n"
    text += _unbound_server_clause(entries)
    return Artifact("unbound", "all-decisions.unbound.conf", text.encode(), _UNBOUND_DESTINATION, caveats)


def rpz_origin(target: EnforcementTarget) -> str:
    return f"rpz.{slug(target.decision_id)}.appveto"


@dataclass(frozen=True, slots=True)
class RpzExporter:
    name: str = "rpz"
    title: str = "BIND response-policy zone (domain CNAME . and *.domain CNAME .), one view per zone"
    network: bool = True

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        zones = select_zones(target, zone, "an RPZ zone")
        origin = rpz_origin(target)
        filename = f"{_suffix(target, zone)}.rpz.zone"
        caveats = (
            "The zone blocks for every client of a view that loads it: load it only in a view whose "
            "match-clients is the zone's ranges (see the named.conf snippet in this header).",
            "A name and its subdomains need two records (d CNAME . and *.d CNAME .); both are here.",
            "The SOA serial is the export date (YYYYMMDD01): export again on a later date before "
            "reloading a changed zone, or secondaries will not transfer it.",
            *DNS_CAVEATS,
            *_ssid_caveat(zones),
        )
        conf = ["named.conf snippet:"]
        for z in zones:
            acl = f"appveto-{slug(target.decision_id)}-{slug(z.name)}"
            nets = " ".join(f"{n};" for n in z.networks)
            conf += [
                f'  acl "{acl}" {{ {nets} }};',
                f'  view "{acl}" {{',
                f'    match-clients {{ "{acl}"; }};',
                f'    response-policy {{ zone "{origin}"; }};',
                f'    zone "{origin}" {{ type primary; file "{filename}"; allow-query {{ none; }}; }};',
                "    // ... the view's other zones and options",
                "  };",
            ]
        text = header(target, ";", caveats, [*zone_lines(zones, target), *conf, *domain_lines(target), ""])
        serial = f"{target.at:%Y%m%d}01"
        out = [
            f"$ORIGIN {origin}.",
            "$TTL 300",
            f"@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 604800 300 )",
            "  IN NS localhost.",
        ]
        for d in target.domains:
            out.append(f"; {d.name}: {d.owner} ({d.origin.value})")
            out.append(f"{d.name} CNAME .")
            out.append(f"*.{d.name} CNAME .")
        text += "\n".join(out) + "\n"
        return Artifact(
            self.name,
            filename,
            text.encode(),
            f"BIND zone file of the response-policy zone '{origin}' (check with "
            "`named-checkzone`), loaded in a view matching the zone's clients",
            caveats,
        )


def _client_spec(zones: tuple[Zone, ...]) -> str:
    nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for z in zones:
        nets.extend(z.networks)
    return "|".join(str(n) for n in nets)


@dataclass(frozen=True, slots=True)
class AdGuardExporter:
    name: str = "adguard"
    title: str = "AdGuard Home custom filtering rules (||domain^$client=ranges)"
    network: bool = True

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        zones = select_zones(target, zone, "AdGuard Home")
        caveats = (
            "Each rule carries $client= with the zone's ranges, so clients outside the zone are not "
            "blocked. AdGuard Home must see the real client addresses (not those of a forwarding "
            "router) for this to work.",
            *DNS_CAVEATS,
            *_ssid_caveat(zones),
        )
        text = header(target, "!", caveats, [*zone_lines(zones, target), *domain_lines(target), ""])
        clients = _client_spec(zones)
        text += "".join(f"||{d.name}^$client={clients}\n" for d in target.domains)
        return Artifact(
            self.name,
            f"{_suffix(target, zone)}.adguard.txt",
            text.encode(),
            "AdGuard Home: Filters > Custom filtering rules (paste), or a local blocklist file added "
            "under Filters > DNS blocklists",
            caveats,
        )


def pihole_regex(domain: str) -> str:
    return r"(\.|^)" + domain.replace(".", r"\.") + "$"


@dataclass(frozen=True, slots=True)
class PiholeExporter:
    name: str = "pihole"
    title: str = "Pi-hole regex deny entries ((\\.|^)domain$), one per line"
    network: bool = True

    def export(self, target: EnforcementTarget, *, zone: str | None = None) -> Artifact:
        zones = select_zones(target, zone, "Pi-hole")
        groups = ", ".join(f"'{slug(z.name)}'" for z in zones)
        caveats = (
            f"Pi-hole scopes rules by group: put these regex entries in group(s) {groups} only, and "
            "add the zone's ranges as clients of that group; left in the Default group they block "
            "every client. Pi-hole keeps one entry per regex: when several decisions block the same "
            "domain, add the existing entry to each decision's group instead of importing it twice.",
            *DNS_CAVEATS,
            *_ssid_caveat(zones),
        )
        text = header(target, "#", caveats, [*zone_lines(zones, target), *domain_lines(target), ""])
        text += "".join(pihole_regex(d.name) + "\n" for d in target.domains)
        return Artifact(
            self.name,
            f"{_suffix(target, zone)}.pihole-regex.txt",
            text.encode(),
            "Pi-hole: Domains > Regex filter, deny (or `pihole --regex` per line), assigned to the "
            "zone's group",
            caveats,
        )
