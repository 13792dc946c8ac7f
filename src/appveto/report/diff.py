"""What an update changed: two scan records of one app -> a :class:`ScanDiff`.

Every change carries a severity so a pipeline can gate on it: a signer that is not
in the new build's rotation lineage is critical (someone else signed it), a large
drop in readable code is high, a new tracker or jurisdiction is medium. The score
change is explained by the findings that appeared, disappeared or changed weight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appveto.findings import Severity
from appveto.outputs import terminal
from appveto.report.registry import renderer
from appveto.scan.record import ScanRecord
from appveto.scoring import Contribution

AUDITABILITY_ORDER = ("low", "medium", "high")
LARGE_READABLE_DROP = 0.25
"""A drop of this share of readable code (or of the auditability level) is high."""


class ChangeKind(StrEnum):
    PACKAGE_CHANGED = "package-changed"
    VERSION_DOWNGRADE = "version-downgrade"
    SIGNER_CHANGED = "signer-changed"
    SIGNER_ROTATED = "signer-rotated"
    PERMISSION_ADDED = "permission-added"
    PERMISSION_REMOVED = "permission-removed"
    TRACKER_ADDED = "tracker-added"
    TRACKER_REMOVED = "tracker-removed"
    ENDPOINT_ADDED = "endpoint-added"
    ENDPOINT_REMOVED = "endpoint-removed"
    OWNER_ADDED = "owner-added"
    JURISDICTION_ADDED = "jurisdiction-added"
    COMPONENT_EXPORTED = "component-exported"
    COMPONENT_UNEXPORTED = "component-unexported"
    AUDITABILITY_DROP = "auditability-drop"
    AUDITABILITY_RISE = "auditability-rise"
    PROTECTOR_ADDED = "protector-added"
    FINDING_NEW = "finding-new"
    FINDING_RESOLVED = "finding-resolved"


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    severity: Severity
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class PointChange:
    """One finding's share of the score, before and after (0 when absent)."""

    subscore: str
    check_id: str
    subject: str | None
    old_points: float
    new_points: float
    message: str

    @property
    def delta(self) -> float:
        return round(self.new_points - self.old_points, 2)


@dataclass(frozen=True, slots=True)
class SubscoreDelta:
    name: str
    old: float
    new: float

    @property
    def delta(self) -> float:
        return round(self.new - self.old, 2)


@dataclass(frozen=True, slots=True)
class ScoreChange:
    old: float
    new: float
    old_level: str
    new_level: str
    subscores: tuple[SubscoreDelta, ...]
    explained_by: tuple[PointChange, ...]
    """Largest absolute change first."""

    @property
    def delta(self) -> float:
        return round(self.new - self.old, 1)


@dataclass(frozen=True, slots=True)
class ScanDiff:
    old: ScanRecord
    new: ScanRecord
    changes: tuple[Change, ...]
    """Highest severity first, then by kind and subject."""
    score: ScoreChange | None
    old_readable: float | None
    new_readable: float | None

    def worst(self) -> Severity | None:
        return self.changes[0].severity if self.changes else None

    def reaches(self, severity: Severity) -> bool:
        """True when a change is at or above ``severity``."""
        return any(c.severity.at_least(severity) for c in self.changes)

    def of_kind(self, kind: ChangeKind) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind is kind)

    def to_dict(self) -> dict[str, Any]:
        sc = self.score
        return {
            "old": _ident(self.old),
            "new": _ident(self.new),
            "changes": [
                {"kind": str(c.kind), "severity": str(c.severity), "subject": c.subject, "detail": c.detail}
                for c in self.changes
            ],
            "readable_share": {"old": self.old_readable, "new": self.new_readable},
            "score": None
            if sc is None
            else {
                "old": sc.old,
                "new": sc.new,
                "delta": sc.delta,
                "old_level": sc.old_level,
                "new_level": sc.new_level,
                "subscores": [
                    {"name": s.name, "old": s.old, "new": s.new, "delta": s.delta} for s in sc.subscores
                ],
                "explained_by": [
                    {
                        "subscore": p.subscore,
                        "check_id": p.check_id,
                        "subject": p.subject,
                        "old_points": p.old_points,
                        "new_points": p.new_points,
                        "delta": p.delta,
                        "message": p.message,
                    }
                    for p in sc.explained_by
                ],
            },
        }


def _ident(r: ScanRecord) -> dict[str, Any]:
    return {
        "file": r.file,
        "sha256": r.sha256,
        "package": r.package,
        "version_code": r.version_code,
        "version_name": r.version_name,
        "score": r.score.total if r.score else None,
        "error": r.error,
    }


def _short(perm: str) -> str:
    return perm.removeprefix("android.permission.")


def _added_removed(old: Iterable[str], new: Iterable[str]) -> tuple[list[str], list[str]]:
    o, n = set(old), set(new)
    return sorted(n - o), sorted(o - n)


def _signers(r: ScanRecord) -> set[str]:
    return {s.cert_sha256 for s in r.signers}


def _signer_changes(old: ScanRecord, new: ScanRecord) -> list[Change]:
    o, n = _signers(old), _signers(new)
    if o == n:
        return []

    def name(r: ScanRecord, certs: set[str]) -> str:
        subjects = sorted({s.subject for s in r.signers if s.cert_sha256 in certs})
        return "; ".join(subjects) or "unsigned"

    detail = (
        f"signed by {name(old, o)} [{', '.join(sorted(c[:16] for c in o)) or '-'}] before, "
        f"by {name(new, n)} [{', '.join(sorted(c[:16] for c in n)) or '-'}] now"
    )
    if o and n and o <= set(new.signing_lineage):
        return [
            Change(
                ChangeKind.SIGNER_ROTATED,
                Severity.MEDIUM,
                "signing certificate",
                detail + " (the old certificate is in the new build's rotation lineage)",
            )
        ]
    if not n:
        return [
            Change(
                ChangeKind.SIGNER_CHANGED,
                Severity.CRITICAL,
                "signing certificate",
                detail + ": the new build is unsigned",
            )
        ]
    return [
        Change(
            ChangeKind.SIGNER_CHANGED,
            Severity.CRITICAL,
            "signing certificate",
            detail + ": a different signer, not a rotation the old key approved; "
            "Android refuses it as an update, and it may not come from the same publisher",
        )
    ]


def _auditability(old: ScanRecord, new: ScanRecord) -> list[Change]:
    if old.coverage is None or new.coverage is None:
        return []
    oc, nc = old.coverage, new.coverage
    ol, nl = AUDITABILITY_ORDER.index(str(oc.auditability)), AUDITABILITY_ORDER.index(str(nc.auditability))
    drop = round(oc.readable_share - nc.readable_share, 3)
    detail = (
        f"readable code {round(oc.readable_share * 100)}% ({oc.auditability}) -> "
        f"{round(nc.readable_share * 100)}% ({nc.auditability})"
    )
    if nc.hidden_reasons:
        detail += "; now hidden: " + "; ".join(nc.hidden_reasons)
    out: list[Change] = []
    if nl < ol or drop >= LARGE_READABLE_DROP:
        out.append(Change(ChangeKind.AUDITABILITY_DROP, Severity.HIGH, "auditability", detail))
    elif drop >= 0.05:
        out.append(Change(ChangeKind.AUDITABILITY_DROP, Severity.LOW, "auditability", detail))
    elif nl > ol or -drop >= 0.05:
        out.append(Change(ChangeKind.AUDITABILITY_RISE, Severity.INFO, "auditability", detail))
    added, _ = _added_removed((p.name for p in oc.protectors), (p.name for p in nc.protectors))
    for name in added:
        out.append(Change(ChangeKind.PROTECTOR_ADDED, Severity.MEDIUM, name, f"{name} now protects the code"))
    return out


def _key(check_id: str, subject: str | None) -> tuple[str, str]:
    return (check_id, subject or "")


def _score(old: ScanRecord, new: ScanRecord) -> ScoreChange | None:
    if old.score is None or new.score is None:
        return None

    def points(r: ScanRecord) -> dict[tuple[str, str, str], tuple[float, Contribution]]:
        out: dict[tuple[str, str, str], tuple[float, Contribution]] = {}
        assert r.score is not None
        for s in r.score.subscores:
            for c in s.contributions:
                k = (s.name, *_key(c.check_id, c.subject))
                prev = out.get(k)
                out[k] = ((prev[0] if prev else 0.0) + c.points, c)
        return out

    op, np_ = points(old), points(new)
    changes: list[PointChange] = []
    for k in sorted(set(op) | set(np_)):
        o = op.get(k)
        n = np_.get(k)
        ov = round(o[0], 2) if o else 0.0
        nv = round(n[0], 2) if n else 0.0
        if ov == nv:
            continue
        ref = n or o
        assert ref is not None
        changes.append(PointChange(k[0], k[1], k[2] or None, ov, nv, ref[1].message))
    changes.sort(key=lambda p: (-abs(p.delta), p.subscore, p.check_id, p.subject or ""))
    subs = tuple(
        SubscoreDelta(s.name, s.points, new.score.subscore(s.name).points) for s in old.score.subscores
    )
    return ScoreChange(
        old.score.total, new.score.total, str(old.score.level), str(new.score.level), subs, tuple(changes)
    )


def diff_records(old: ScanRecord, new: ScanRecord) -> ScanDiff:
    """The changes from ``old`` to ``new`` (both readable scans; an error record gives no changes)."""
    ch: list[Change] = []
    if old.package != new.package:
        ch.append(
            Change(
                ChangeKind.PACKAGE_CHANGED,
                Severity.HIGH,
                "package",
                f"{old.package} -> {new.package}: these are different apps",
            )
        )
    if old.version_code is not None and new.version_code is not None and new.version_code < old.version_code:
        ch.append(
            Change(
                ChangeKind.VERSION_DOWNGRADE,
                Severity.MEDIUM,
                "versionCode",
                f"{old.version_code} -> {new.version_code}",
            )
        )
    ch += _signer_changes(old, new)
    dangerous = {v.permission for v in (*old.permission_verdicts, *new.permission_verdicts) if v.dangerous}
    added, removed = _added_removed(old.permissions, new.permissions)
    verdict = {v.permission: v for v in new.permission_verdicts}
    for p in added:
        v = verdict.get(p)
        use = f"; {v.verdict}" + (f": {v.reason}" if v.reason else "") if v else ""
        ch.append(
            Change(
                ChangeKind.PERMISSION_ADDED,
                Severity.MEDIUM if p in dangerous else Severity.LOW,
                _short(p),
                f"{p} requested{' (dangerous)' if p in dangerous else ''}{use}",
            )
        )
    for p in removed:
        ch.append(Change(ChangeKind.PERMISSION_REMOVED, Severity.INFO, _short(p), f"{p} no longer requested"))
    otrk = {t.id: t for t in old.trackers}
    ntrk = {t.id: t for t in new.trackers}
    for tid in sorted(set(ntrk) - set(otrk)):
        t = ntrk[tid]
        vendor = (
            f" by {t.vendor}" + (f" ({t.vendor_country})" if t.vendor_country else "") if t.vendor else ""
        )
        ch.append(Change(ChangeKind.TRACKER_ADDED, Severity.MEDIUM, t.name, f"tracker {t.name}{vendor}"))
    for tid in sorted(set(otrk) - set(ntrk)):
        ch.append(Change(ChangeKind.TRACKER_REMOVED, Severity.INFO, otrk[tid].name, "tracker removed"))
    oeps = {e.host: e for e in old.endpoints}
    neps = {e.host: e for e in new.endpoints}
    for h in sorted(set(neps) - set(oeps)):
        e = neps[h]
        owner = (
            f" owned by {e.owner}" + (f" ({e.owner_country})" if e.owner_country else "") if e.owner else ""
        )
        sev = Severity.MEDIUM if e.cleartext else Severity.LOW
        ch.append(
            Change(
                ChangeKind.ENDPOINT_ADDED,
                sev,
                h,
                f"new endpoint{owner}{' over cleartext HTTP' if e.cleartext else ''}",
            )
        )
    for h in sorted(set(oeps) - set(neps)):
        ch.append(Change(ChangeKind.ENDPOINT_REMOVED, Severity.INFO, h, "endpoint no longer referenced"))
    owners_added, _ = _added_removed(
        (e.owner for e in old.endpoints if e.owner), (e.owner for e in new.endpoints if e.owner)
    )
    for o in owners_added:
        ch.append(Change(ChangeKind.OWNER_ADDED, Severity.LOW, o, "endpoints of a new owner"))

    def juris(r: ScanRecord) -> set[str]:
        return {e.owner_country for e in r.endpoints if e.owner_country} | {
            t.vendor_country for t in r.trackers if t.vendor_country
        }

    for j in sorted(juris(new) - juris(old)):
        ch.append(
            Change(ChangeKind.JURISDICTION_ADDED, Severity.MEDIUM, j, f"data may now flow to a party in {j}")
        )
    oexp = {c.name: c for c in old.components if c.exported}
    nexp = {c.name: c for c in new.components if c.exported}
    for name in sorted(set(nexp) - set(oexp)):
        c = nexp[name]
        sev = Severity.LOW if c.permission else Severity.MEDIUM
        guard = f" guarded by {c.permission}" if c.permission else " with no permission"
        ch.append(Change(ChangeKind.COMPONENT_EXPORTED, sev, name, f"{c.type} now exported{guard}"))
    for name in sorted(set(oexp) - set(nexp)):
        ch.append(
            Change(
                ChangeKind.COMPONENT_UNEXPORTED, Severity.INFO, name, f"{oexp[name].type} no longer exported"
            )
        )
    ch += _auditability(old, new)
    of = {_key(f.check_id, f.subject): f for f in old.findings}
    nf = {_key(f.check_id, f.subject): f for f in new.findings}
    for k in sorted(set(nf) - set(of)):
        f = nf[k]
        ch.append(
            Change(
                ChangeKind.FINDING_NEW,
                f.severity,
                f"{f.check_id}" + (f" {f.subject}" if f.subject else ""),
                f.message,
            )
        )
    for k in sorted(set(of) - set(nf)):
        f = of[k]
        ch.append(
            Change(
                ChangeKind.FINDING_RESOLVED,
                Severity.INFO,
                f"{f.check_id}" + (f" {f.subject}" if f.subject else ""),
                f"no longer: {f.message}",
            )
        )
    ch.sort(key=lambda c: (-c.severity.rank, c.kind.value, c.subject))
    return ScanDiff(
        old=old,
        new=new,
        changes=tuple(ch),
        score=_score(old, new),
        old_readable=old.coverage.readable_share if old.coverage else None,
        new_readable=new.coverage.readable_share if new.coverage else None,
    )


@renderer("diff", "json", description="the changes as JSON")
def render_diff_json(d: ScanDiff) -> str:
    from appveto.report.json_report import dumps

    return dumps(d.to_dict())


@renderer("diff", "text", description="the changes for a terminal")
def render_diff_text(d: ScanDiff) -> str:
    out = [
        f"old  {d.old.file}  {d.old.package} {d.old.version_name or ''} (versionCode {d.old.version_code})",
        f"new  {d.new.file}  {d.new.package} {d.new.version_name or ''} (versionCode {d.new.version_code})",
        "",
    ]
    if d.score is not None:
        sc = d.score
        sign = "+" if sc.delta >= 0 else ""
        out.append(f"score  {sc.old} ({sc.old_level}) -> {sc.new} ({sc.new_level})  [{sign}{sc.delta}]")
        for s in sc.subscores:
            if s.delta:
                out.append(f"       {s.name:18} {s.old:6} -> {s.new:6}  [{s.delta:+.2f}]")
        if sc.explained_by:
            out.append("  explained by")
            for p in sc.explained_by[:15]:
                out.append(f"    {p.delta:+7.2f}  {p.check_id} {p.subject or ''}  {p.message}")
            if len(sc.explained_by) > 15:
                out.append(f"    ... and {len(sc.explained_by) - 15} smaller changes")
        out.append("")
    if d.old_readable is not None and d.new_readable is not None:
        out.append(f"readable code  {round(d.old_readable * 100)}% -> {round(d.new_readable * 100)}%")
        out.append("")
    if not d.changes:
        out.append("no changes")
    else:
        out.append(f"changes ({len(d.changes)})")
        for c in d.changes:
            out.append(f"  {c.severity.value.upper():8} {c.kind.value:20} {c.subject}: {c.detail}")
    return "".join(terminal.line(line) + "\n" for line in out)
