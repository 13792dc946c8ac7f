"""From a resolved policy decision to the :class:`EnforcementTarget` the exporters render.

This is the only module of ``export`` that knows the policy model. It decides:

* which apps: the decision's Android packages and iOS bundle IDs, plus the known apps
  of every vendor the decision bans as a family;
* which domains: the decision's own web domains (the user chose them, shared or not),
  plus the domains the vendor table says the banned apps' vendors *own*; domains of
  shared infrastructure are left out and listed with the reason;
* which networks: the zones that a *mandatory* scope part names; zones named only by
  advisory parts are stated, not enforced;
* whether to export at all: a draft or an expired decision is refused (an expiry must
  never be enforced silently past its date, nor a draft before it is decided).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from appveto.errors import AppvetoError, Diagnostic, ExportError
from appveto.export.target import (
    App,
    BlockedDomain,
    DomainOrigin,
    EnforcementTarget,
    LeftOutDomain,
    Zone,
    parse_network,
)
from appveto.kb.domains import registrable_domain
from appveto.kb.model import KnowledgeBase
from appveto.kb.vendors import (
    DomainKind,
    domain_table_source,
    domains_of,
    entity_for_vendor_id,
    lookup_domain,
    product_of_app,
    products,
)
from appveto.policy.model import DecisionStatus, Mode, PolicySet, ResolvedDecision, resolve


def _error(
    decision: ResolvedDecision, source_file: str, message: str, line: int | None = None
) -> ExportError:
    return ExportError(
        f"decision '{decision.id}': {message}",
        diagnostics=(Diagnostic(message, file=source_file or None, line=line, entry=decision.id),),
    )


def _oneline(text: str) -> str:
    """Display text on one line: a YAML block scalar may hold line breaks and tabs."""
    return " ".join(text.split())


def _term(d: ResolvedDecision) -> str:
    parts = [f"effective {d.effective.isoformat()}"]
    if d.expires is not None:
        parts.append(f"expires {d.expires.isoformat()}")
    else:
        parts.append("until further notice")
    for r in d.renewals:
        to = r.extends_to.isoformat() if r.extends_to else "further notice"
        parts.append(f"renewed on {r.decided.isoformat()} by {r.by} to {to}")
    if d.original_expiry is not None and d.original_expiry != d.expires:
        parts.append(f"originally expiring {d.original_expiry.isoformat()}")
    return "; ".join(parts)


def target_from_resolved(
    decision: ResolvedDecision,
    *,
    generator: str,
    source_file: str = "",
    source_line: int | None = None,
    allow_expired: bool = False,
    kb: KnowledgeBase | None = None,
) -> EnforcementTarget:
    """The enforcement view of one resolved decision on ``decision.at``.

    ``kb`` (the knowledge base's entity table) widens vendor-family bans to every domain
    the knowledge base attributes to the vendor, minus what either table marks as shared
    infrastructure, and names the owners of the decision's own web domains.
    """
    if decision.status is DecisionStatus.DRAFT:
        raise _error(
            decision, source_file, f"is a draft on {decision.at.isoformat()}; nothing to enforce", source_line
        )
    if decision.status is DecisionStatus.EXPIRED and not allow_expired:
        expired = decision.expires.isoformat() if decision.expires else "?"
        raise _error(
            decision,
            source_file,
            f"expired on {expired} (state on {decision.at.isoformat()}); renew it, or export with an "
            "earlier --at",
            source_line,
        )
    notes: list[str] = []
    if decision.status is DecisionStatus.ANNOUNCED:
        notes.append(f"not yet in force: effective on {decision.effective.isoformat()}")
    if decision.status is DecisionStatus.EXPIRED:
        notes.append("EXPIRED on this date: exported on request")

    apps, entity_products, unknown_vendors = _apps(decision, kb)
    domains, left_out = _domains(decision, entity_products, kb)
    selected = decision.apps
    unlisted = [
        what
        for what, present in (
            ("signer certificate", selected.signer_sha256),
            ("category", selected.categories),
            ("country of origin", selected.countries_of_origin),
            ("scan result", selected.scan_rules),
        )
        if present
    ]
    if unlisted:
        notes.append(
            f"apps selected by {', '.join(unlisted)} cannot be listed by ID in these files: only the app "
            "IDs the decision names are blocked; find the others in the fleet inventory and name their "
            "IDs in the decision"
        )
    for vendor_id in unknown_vendors:
        notes.append(f"vendor '{vendor_id}' is unknown to the entity tables: none of its domains is blocked")
    zones, zone_notes = _zones(decision, source_file)
    notes.extend(zone_notes)
    for ex in decision.active_exceptions:
        notes.append(
            f"active exception {ex.id}: {ex.subject_kind.value} {ex.subject_id} until "
            f"{ex.expires.isoformat()} (approved by {ex.approver}); exclude it from the MDM assignment"
        )
    rb = decision.remove_by
    if rb is not None:
        notes.append(f"remove by {rb.isoformat()}")
    bt = decision.block_traffic_by
    if bt is not None:
        notes.append(f"block traffic by {bt.isoformat()}")

    authority = decision.authority
    if decision.authority_chain:
        authority = f"{_oneline(decision.authority_chain[0].name)} ({decision.authority})"
    mode = "mandatory" if decision.mandatory_scope else ("advisory" if decision.scope else "unscoped")
    if mode == "advisory":
        notes.append("every scope part of this decision is advisory: these files enforce a recommendation")
    return EnforcementTarget(
        decision_id=decision.id,
        title=_oneline(decision.title),
        authority=authority,
        at=decision.at,
        generator=generator,
        effective=decision.effective,
        expires=decision.expires,
        term=_term(decision),
        apps=apps,
        domains=domains,
        left_out=left_out,
        zones=zones,
        mode=mode,
        source_file=source_file,
        source_line=source_line,
        notes=tuple(_oneline(n) for n in notes),
    )


def _apps(
    decision: ResolvedDecision, kb: KnowledgeBase | None
) -> tuple[tuple[App, ...], dict[str, frozenset[str] | None], list[str]]:
    """Apps to block, per vendor entity the products banned (``None``: the whole vendor
    family), and the vendor ids no table knows."""
    names: dict[tuple[str, str], str] = {}
    for sel in decision.apps.selectors:
        if sel.name:
            for p in sel.android:
                names.setdefault(("android", p), sel.name)
            for b in sel.ios:
                names.setdefault(("ios", b), sel.name)
    apps: dict[tuple[str, str], App] = {}
    entity_products: dict[str, frozenset[str] | None] = {}

    def add(platform: str, app_id: str) -> None:
        product = product_of_app(platform, app_id)
        # The store name of a known product reads better in an MDM console than a selector's label.
        name = (product.name if product else "") or names.get((platform, app_id), "")
        publisher = product.publisher if product else ""
        apps[(platform, app_id)] = App(platform, app_id, name, publisher)
        if product is not None:
            current = entity_products.get(product.entity, frozenset())
            if current is not None:
                entity_products[product.entity] = current | {product.name}

    for p in decision.apps.android_packages:
        add("android", p)
    for b in decision.apps.ios_bundle_ids:
        add("ios", b)
    unknown: list[str] = []
    for vendor_id in sorted(set(decision.apps.vendors) | set(decision.apps.successor_vendors)):
        entity = entity_for_vendor_id(vendor_id)
        if entity is None:
            kb_entity = _kb_entity_for_vendor_id(kb, vendor_id)
            if kb_entity is None:
                unknown.append(vendor_id)
            else:
                entity_products[kb_entity] = None
            continue
        entity_products[entity.name] = None
        for product in products():
            if product.entity != entity.name:
                continue
            for p in product.android:
                add("android", p)
            for b in product.ios:
                add("ios", b)
    return tuple(sorted(apps.values())), entity_products, unknown


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _kb_entity_for_vendor_id(kb: KnowledgeBase | None, vendor_id: str) -> str | None:
    """The knowledge-base entity a policy vendor id names: its slug, or a slug prefix
    ending at a word boundary (``meta`` -> ``Meta Platforms, Inc.``)."""
    if kb is None:
        return None
    key = vendor_id.lower()
    for e in sorted(kb.entities, key=lambda e: e.name):
        for name in (e.name, *e.aliases):
            s = _slug(name)
            if s == key or s.startswith(key + "-"):
                return e.name
    return None


def _owner(name: str, kb: KnowledgeBase | None) -> str:
    entry = lookup_domain(name)
    if entry is not None:
        return entry.entity
    if kb is not None:
        reg = registrable_domain(name)
        found = kb.entity_for_domain(reg) if reg else None
        if found is not None:
            return found.name
    return "unknown"


def _domains(
    decision: ResolvedDecision, entity_products: dict[str, frozenset[str] | None], kb: KnowledgeBase | None
) -> tuple[tuple[BlockedDomain, ...], tuple[LeftOutDomain, ...]]:
    blocked: list[BlockedDomain] = []
    left: list[LeftOutDomain] = []
    for name in decision.apps.web_domains:
        entry = lookup_domain(name)
        owner = _owner(name, kb)
        note = ""
        if entry is not None and entry.kind is DomainKind.SHARED:
            note = f"named in the decision although it is shared infrastructure ({entry.note})"
        blocked.append(
            BlockedDomain(name, owner, DomainOrigin.POLICY, f"decision {decision.id} (apps: web)", note)
        )
    for entity, banned in sorted(entity_products.items()):
        for d in domains_of(entity, banned):
            if d.kind is DomainKind.OWNED:
                why = d.note or "owned by the vendor"
                blocked.append(
                    BlockedDomain(d.domain, d.entity, DomainOrigin.VENDOR, f"{domain_table_source()}: {why}")
                )
            else:
                left.append(LeftOutDomain(d.domain, f"{d.note} (seen with {d.entity}'s apps)"))
        kb_entity = kb.entity_named(entity) if kb is not None and banned is None else None
        if kb_entity is not None:
            shared = set(kb_entity.infrastructure)
            for name in sorted(set(kb_entity.domains)):
                mine = lookup_domain(name)
                if mine is not None and mine.domain == name and mine.kind is DomainKind.SHARED:
                    left.append(LeftOutDomain(name, mine.note))
                    continue
                if mine is not None and mine.domain == name and mine.entity == entity:
                    continue  # the vendor table already blocked it
                if name in shared:
                    reason = f"shared infrastructure run by {kb_entity.name} (knowledge base)"
                    left.append(LeftOutDomain(name, reason))
                else:
                    source = f"knowledge base entity table ({kb_entity.source})"
                    blocked.append(BlockedDomain(name, kb_entity.name, DomainOrigin.VENDOR, source))
    return tuple(blocked), tuple(left)


def _zones(decision: ResolvedDecision, source_file: str) -> tuple[tuple[Zone, ...], list[str]]:
    mandatory = {n for p in decision.scope if p.mode is Mode.MANDATORY for n in p.networks}
    advisory = {n for p in decision.scope if p.mode is Mode.ADVISORY for n in p.networks} - mandatory
    zones: list[Zone] = []
    notes: list[str] = []
    for z in sorted(decision.network_zones, key=lambda z: z.name):
        if z.name in advisory:
            notes.append(f"network zone {z.name} is only advised, not enforced: no DNS rules for it")
            continue
        if z.name not in mandatory:
            notes.append(f"network zone {z.name} is named by no scope part: no DNS rules for it")
            continue
        nets = []
        for cidr in z.cidrs:
            try:
                nets.append(parse_network(cidr))
            except ExportError:
                raise _error(
                    decision, source_file, f"network zone '{z.name}': '{cidr}' is not an IP network"
                ) from None
        zones.append(
            Zone(
                z.name, tuple(sorted(set(nets), key=_net_key)), tuple(z.ssids), _oneline(z.description or "")
            )
        )
    return tuple(zones), notes


def _net_key(n: object) -> tuple[int, str]:
    return (getattr(n, "version", 0), str(n))


def export_date(value: str | None, *, default: date) -> date:
    """Parse ``--at``; the CLI passes today's date as the default, the library never reads a clock."""
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ExportError(f"'{value}' is not a date such as 2023-03-10") from None


def target_for(
    policies: PolicySet, decision_id: str, *, at: date, generator: str, kb: KnowledgeBase | None = None
) -> EnforcementTarget:
    """One decision of a policy set as an enforcement target, or a located ExportError."""
    known = sorted(d.id for d in policies.decisions)
    if policies.decision(decision_id) is None:
        raise ExportError(
            f"no decision '{decision_id}' in the policies (decisions: {', '.join(known) or 'none'})"
        )
    mark = policies.where(decision_id)
    source = mark.file if mark is not None else ""
    line = mark.line if mark is not None else None
    resolved = resolve(policies, decision_id, at=at)
    return target_from_resolved(resolved, generator=generator, source_file=source, source_line=line, kb=kb)


def targets_from_policies(
    policies: PolicySet,
    *,
    at: date,
    generator: str,
    decision_ids: Sequence[str] | None = None,
    kb: KnowledgeBase | None = None,
) -> tuple[tuple[EnforcementTarget, ...], tuple[tuple[str, str], ...]]:
    """Targets for the given decisions (all when None) and, for those that cannot be
    exported on ``at`` (draft, expired, malformed zone), ``(decision id, reason)``.

    An unknown decision id is an error, not a skip: the user named it.
    """
    known = sorted(d.id for d in policies.decisions)
    wanted = list(decision_ids) if decision_ids is not None else known
    for decision_id in wanted:
        if policies.decision(decision_id) is None:
            raise ExportError(
                f"no decision '{decision_id}' in the policies (decisions: {', '.join(known) or 'none'})"
            )
    targets: list[EnforcementTarget] = []
    skipped: list[tuple[str, str]] = []
    for decision_id in wanted:
        try:
            targets.append(target_for(policies, decision_id, at=at, generator=generator, kb=kb))
        except AppvetoError as exc:
            skipped.append((decision_id, "; ".join(d.message for d in exc.diagnostics())))
    return tuple(targets), tuple(skipped)
