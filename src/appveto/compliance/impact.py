"""What a draft decision would touch before it is adopted: ``appveto fleet impact POLICY``.

The draft file is loaded together with the workspace's policy folder (so that its
authorities, units and any decision it follows resolve), then evaluated on ``at`` as if it
were in force, whatever its ``draft`` flag or term says. The result lists the people,
devices and units in its scope, and those of them that carry a selected app now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from appveto.compliance.evaluate import evaluate
from appveto.compliance.model import (
    PRESENT_STATUSES,
    DeviceResult,
    FleetView,
    Limitation,
    ScanFacts,
    Status,
    StatusCount,
    UnknownReason,
)
from appveto.errors import Diagnostic, PolicyError
from appveto.policy.load import load_documents, policy_files, read_policy_data
from appveto.policy.model import PolicySet


@dataclass(frozen=True, slots=True)
class UnitImpact:
    unit_id: str
    """An org unit (or the authority, for people without a unit)."""
    people: int
    devices: int
    """Devices carrying a selected app."""


@dataclass(frozen=True, slots=True)
class Impact:
    decision_id: str
    title: str
    at: date
    devices_in_scope: int
    people_in_scope: int
    counts: tuple[StatusCount, ...]
    affected: tuple[DeviceResult, ...]
    """Devices in scope that carry a selected app (sorted by person, device, app)."""
    unknown: tuple[DeviceResult, ...]
    """Devices in scope without a recent inventory (also those only the directory lists), and
    people in scope who hold no known device (``reason`` no-device, no device key)."""
    units: tuple[UnitImpact, ...]
    network_only_parts: tuple[str, ...]
    limitations: tuple[Limitation, ...]
    """The evaluation's limitations about this decision (or about no decision in particular);
    names the directory lacks first."""

    @property
    def people(self) -> tuple[str, ...]:
        return tuple(sorted({r.person_id for r in self.affected if r.person_id}))

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(sorted({r.device_key for r in self.affected}))

    @property
    def unknown_devices(self) -> tuple[str, ...]:
        """Keys of the devices in scope without a recent inventory."""
        return tuple(sorted({r.device_key for r in self.unknown if r.device_key}))

    @property
    def people_without_devices(self) -> tuple[str, ...]:
        return tuple(
            sorted({r.person_id for r in self.unknown if r.reason is UnknownReason.NO_DEVICE and r.person_id})
        )


def load_with_draft(draft: Path, policies_dir: Path | None) -> tuple[PolicySet, str]:
    """The policy folder plus the draft file, and the draft's decision ID.

    A folder file with the same decision ID is replaced by the draft (a draft amendment).
    """
    data = read_policy_data(draft)
    ident = data.get("id") if isinstance(data, dict) and data.get("kind") == "decision" else None
    if not isinstance(ident, str):
        raise PolicyError(
            f"{draft}: not a decision",
            diagnostics=(Diagnostic("expected a file with 'kind: decision' and an 'id'", file=str(draft)),),
        )
    entries: list[tuple[Path, str]] = []
    if policies_dir is not None and policies_dir.is_dir():
        for p in policy_files(policies_dir):
            if p.resolve() == draft.resolve():
                continue
            other = read_policy_data(p)
            if isinstance(other, dict) and other.get("kind") == "decision" and other.get("id") == ident:
                continue
            entries.append((p, str(policies_dir / p.relative_to(policies_dir))))
    entries.append((draft, str(draft)))
    return load_documents(entries), ident


def impact(
    draft: Path,
    fleet: FleetView,
    *,
    at: date,
    policies_dir: Path | None = None,
    scans: Sequence[ScanFacts] = (),
) -> Impact:
    """Evaluate the draft decision in ``draft`` on ``at`` as if it were in force."""
    policies, decision_id = load_with_draft(draft, policies_dir)
    return impact_of(policies, decision_id, fleet, at=at, scans=scans)


def impact_of(
    policies: PolicySet, decision_id: str, fleet: FleetView, *, at: date, scans: Sequence[ScanFacts] = ()
) -> Impact:
    """The impact of one decision of ``policies`` (forced in force on ``at``)."""
    if policies.decision(decision_id) is None:
        raise PolicyError(f"unknown decision '{decision_id}'")
    ev = evaluate(policies, fleet, scans, at=at, changes=False, force=(decision_id,))
    summary = ev.decision(decision_id)
    assert summary is not None
    mine = [r for r in ev.results if r.decision_id == decision_id]
    affected = tuple(r for r in mine if r.status in PRESENT_STATUSES)
    unknown = tuple(r for r in mine if r.status is Status.UNKNOWN)
    people: dict[str, set[str]] = defaultdict(set)
    devices: dict[str, set[str]] = defaultdict(set)
    for r in affected:
        unit = r.org_unit_id or r.authority_id or "-"
        devices[unit].add(r.device_key)
        if r.person_id:
            people[unit].add(r.person_id)
    units = tuple(
        UnitImpact(u, len(people[u]), len(devices[u]))
        for u in sorted(devices, key=lambda u: (-len(devices[u]), u))
    )
    limits = tuple(x for x in ev.limitations if x.decision_id in (None, decision_id))
    return Impact(
        decision_id=decision_id,
        title=summary.title,
        at=at,
        devices_in_scope=summary.devices_in_scope,
        people_in_scope=summary.people_in_scope,
        counts=summary.counts,
        affected=affected,
        unknown=unknown,
        units=units,
        network_only_parts=summary.network_only_parts,
        limitations=limits,
    )
