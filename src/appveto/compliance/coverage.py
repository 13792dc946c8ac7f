"""What decisions name that the directory does not have: units, roles, systems, network zones.

A scope part that names a unit the directory lacks covers nobody, and an evaluation that
reads "0 devices in scope, nothing found" there fails open: the officer reads it as
compliant. Each such name is a :class:`~appveto.compliance.model.Limitation` of a
``missing-*`` kind, located in its policy file, so the evaluation prints it first, counts
it and exits non-zero, and ``appveto policy check --workspace`` reports it as an error.

What counts as "in the directory":

* a unit or authority named by a part (or the deciding authority, for a part without
  ``units``): an org unit or authority ID of the directory, or an ancestor that the
  policies' ``authorities.yaml`` gives to a directory unit (the same containers that
  :meth:`appveto.compliance.evaluate.Context.part_covers` matches);
* a role (``include`` or ``exclude``): a directory role whose ID or name reads as that
  policy role (``Member of Parliament`` is ``member_of_parliament``);
* a system or network zone: an entry of the directory's ``systems`` or ``network_zones``;
* an authority that adopted the decision: as for units.

Pure: the directory comes in as :class:`DirectoryNames`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from appveto.compliance.model import Adoption, Limitation, LimitationKind
from appveto.fleet.model import Authority, Network, OrgUnit, System
from appveto.fleet.model import Role as DirectoryRole
from appveto.policy.model import PolicySet, ResolvedDecision, Role, ScopePart


def policy_role(value: str) -> Role | None:
    """A directory role ID or name read as a policy role (case, spaces and hyphens ignored)."""
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    try:
        return Role(key)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class DirectoryNames:
    """The names a directory can answer to, as scope matching reads them."""

    containers: frozenset[str]
    """Org unit and authority IDs, and the policy ancestors of the directory's units."""
    roles: frozenset[Role]
    """Policy roles that some directory role reads as."""
    systems: frozenset[str]
    networks: frozenset[str]

    @classmethod
    def of(
        cls,
        policies: PolicySet,
        *,
        authorities: Iterable[Authority],
        org_units: Iterable[OrgUnit],
        roles: Iterable[DirectoryRole],
        systems: Iterable[System],
        networks: Iterable[Network],
    ) -> DirectoryNames:
        containers: set[str] = {a.id for a in authorities}
        for u in org_units:
            containers.add(u.id)
            containers.update(policies.unit_ancestors(u.id))
            if u.authority_id:
                containers.add(u.authority_id)
        read = {policy_role(x) for r in roles for x in (r.id, r.name)}
        return cls(
            frozenset(containers),
            frozenset(r for r in read if r is not None),
            frozenset(s.id for s in systems),
            frozenset(n.id for n in networks),
        )


def _limitation(
    policies: PolicySet,
    kind: LimitationKind,
    message: str,
    *,
    decision: str,
    source: str,
    part: str | None,
    subject: str,
    path: tuple[str | int, ...],
) -> Limitation:
    mark = policies.where(source, *path)
    return Limitation(
        kind,
        message,
        decision_id=decision,
        part_id=part,
        subject=subject,
        file=mark.file if mark else None,
        line=mark.line if mark else None,
        column=mark.column if mark else None,
    )


def part_gaps(
    policies: PolicySet,
    names: DirectoryNames,
    *,
    decision: str,
    source: str,
    index: int,
    part: ScopePart,
    authority: str,
) -> Iterator[Limitation]:
    """The names of one scope part (``source``'s ``scope[index]``) the directory does not have.

    ``decision``: the decision reported (one in force may inherit the part from ``source``);
    ``authority``: what an empty ``units`` means.
    """
    at = ("scope", index)
    head = f"{decision}: scope part '{part.id}'" + (f" (from {source})" if source != decision else "")

    def gap(kind: LimitationKind, subject: str, what: str, *path: str | int) -> Limitation:
        return _limitation(
            policies,
            kind,
            f"{head} {what}",
            decision=decision,
            source=source,
            part=part.id,
            subject=subject,
            path=(*at, *path),
        )

    if part.devices or not part.networks:
        if not part.units and authority not in names.containers:
            yield gap(
                LimitationKind.MISSING_UNIT,
                authority,
                f"covers its authority '{authority}' (no units named), which the directory does not have: "
                "nobody can be in scope through it",
            )
        for j, unit in enumerate(part.units):
            if unit not in names.containers:
                yield gap(
                    LimitationKind.MISSING_UNIT,
                    unit,
                    f"names unit '{unit}', which the directory does not have: nobody can be in scope "
                    "through it",
                    "units",
                    j,
                )
        for key, roles, effect in (
            ("include", part.roles.include, "nobody holding it is recognised"),
            ("exclude", part.roles.exclude, "nobody is excluded for it"),
        ):
            for j, role in enumerate(roles):
                if role not in names.roles:
                    yield gap(
                        LimitationKind.MISSING_ROLE,
                        role.value,
                        f"{'is for' if key == 'include' else 'excludes'} role '{role.value}', which no "
                        f"role of the directory reads as: {effect}",
                        "roles",
                        key,
                        j,
                    )
    for j, system in enumerate(part.systems):
        if system not in names.systems:
            yield gap(
                LimitationKind.MISSING_SYSTEM,
                system,
                f"names system '{system}', which the directory does not list: which devices reach it "
                "cannot be told (every device enrolled in the MDM is read as reaching it)",
                "systems",
                j,
            )
    for j, zone in enumerate(part.networks):
        if zone not in names.networks:
            yield gap(
                LimitationKind.MISSING_ZONE,
                zone,
                f"names network zone '{zone}', which the directory does not list: the ban there is "
                "enforced by the network export only, on a network nobody confirmed",
                "networks",
                j,
            )


def _raw_index(policies: PolicySet, source: str, part_id: str) -> tuple[int, ScopePart] | None:
    raw = policies.decision(source)
    if raw is None:
        return None
    for i, p in enumerate(raw.scope):
        if p.id == part_id:
            return i, p
    return None


def decision_gaps(
    policies: PolicySet,
    names: DirectoryNames,
    decisions: Iterable[ResolvedDecision],
    adoptions: Iterable[Adoption] = (),
) -> list[Limitation]:
    """What the decisions (resolved, with inherited parts) and their binding adoptions name that
    the directory does not have (one limitation per name and part)."""
    out: list[Limitation] = []
    for d in decisions:
        for p in d.scope:
            found = _raw_index(policies, p.source_decision, p.id)
            if found is None:  # pragma: no cover - a resolved part always comes from a loaded file
                continue
            index, raw = found
            out += part_gaps(
                policies,
                names,
                decision=d.id,
                source=p.source_decision,
                index=index,
                part=raw,
                authority=p.authority,
            )
    for a in adoptions:
        if not a.binding or a.authority_id in names.containers:
            continue
        raw_d = policies.decision(a.decision_id)
        index = (
            next((i for i, ask in enumerate(raw_d.asks) if ask.authority == a.authority_id), 0)
            if raw_d
            else 0
        )
        out.append(
            _limitation(
                policies,
                LimitationKind.MISSING_UNIT,
                f"{a.decision_id}: adopted by '{a.authority_id}', which the directory does not have: nobody "
                "can be in scope through the adoption",
                decision=a.decision_id,
                source=a.decision_id,
                part=None,
                subject=a.authority_id,
                path=("asks", index, "authority"),
            )
        )
    return out


def policy_gaps(policies: PolicySet, names: DirectoryNames) -> list[Limitation]:
    """Every name of every decision's own scope parts and adopted ``asks`` (whatever its date;
    an adoption through the adopter's own decision binds nobody and is left out) that the
    directory does not have, for ``appveto policy check --workspace``."""
    out: list[Limitation] = []
    local = {d.id for d in policies.decisions}
    for d in policies.decisions:
        for index, part in enumerate(d.scope):
            out += part_gaps(
                policies, names, decision=d.id, source=d.id, index=index, part=part, authority=d.authority
            )
        for index, ask in enumerate(d.asks):
            own = ask.decision in local
            if ask.status.value == "adopted" and not own and ask.authority not in names.containers:
                out.append(
                    _limitation(
                        policies,
                        LimitationKind.MISSING_UNIT,
                        f"{d.id}: adopted by '{ask.authority}', which the directory does not have: nobody "
                        "can be in scope through the adoption",
                        decision=d.id,
                        source=d.id,
                        part=None,
                        subject=ask.authority,
                        path=("asks", index, "authority"),
                    )
                )
    return out
