"""The vetting workflow of NIST SP 800-163 Rev. 1, recorded step by step.

1. *Intake*: an uploaded file becomes an app version (one per SHA-256: the same file
   submitted again is the same version and its vetting) and a vetting, with submitter,
   time and reason; a scan job is queued.
2. *Testing*: :mod:`appveto.web.jobs` runs the scan in the background.
3. *Analyst review*: a finding is suppressed or re-graded with a written reason (kept and
   shown, never dropped); notes.
4. *Auditor recommendation*: approve or reject, citing findings.
5. *Approver decision*: approve, reject or reject-and-ban. The approver is never one of
   the vetting's analysts (separation of duties).

Every step is a row with who and when, and one audit entry written in the same
transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from appveto.findings import Severity
from appveto.fleet._schema import app_versions, finding_reviews, scan_jobs, vetting_steps, vettings
from appveto.outputs.files import open_file
from appveto.web import audit
from appveto.web.access import AccessError
from appveto.web.accounts import Principal

CHUNK = 1 << 20
MAX_TEXT = 10_000


class State(StrEnum):
    TESTING = "testing"
    REVIEW = "review"
    RECOMMENDED = "recommended"
    DECIDED = "decided"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.TIMED_OUT})


class ReviewAction(StrEnum):
    SUPPRESS = "suppress"
    REGRADE = "regrade"


class Recommendation(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REJECT_AND_BAN = "reject_and_ban"


def upload_path(uploads: Path, sha256: str) -> Path:
    """Where an app version's file is kept: named by its hash, never by the request."""
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return uploads / f"{sha256}.apk"


def _text(value: str, what: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise AccessError(f"{what} is required")
    if len(value) > MAX_TEXT:
        raise AccessError(f"{what} is longer than {MAX_TEXT} characters")
    return value


@dataclass(frozen=True, slots=True)
class Intake:
    vetting_id: int
    sha256: str
    duplicate: bool


def measure(fh: IO[bytes], max_size: int) -> tuple[str, int]:
    """SHA-256 and size of an uploaded (spooled) file, refusing one over ``max_size``."""
    fh.seek(0)
    h = hashlib.sha256()
    size = 0
    while chunk := fh.read(CHUNK):
        size += len(chunk)
        if size > max_size:
            raise AccessError(f"the file is larger than the limit of {max_size:,} bytes", status=413)
        h.update(chunk)
    if size == 0:
        raise AccessError("the file is empty")
    return h.hexdigest(), size


def intake(
    engine: Engine,
    uploads: Path,
    fh: IO[bytes],
    *,
    filename: str,
    reason: str,
    principal: Principal,
    source: str,
    now: datetime,
    max_size: int,
) -> Intake:
    reason = _text(reason, "a reason")
    shown_name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    sha, size = measure(fh, max_size)
    existing = _existing(engine, sha)
    if existing is not None:
        with engine.begin() as conn:
            audit.append(
                conn,
                actor=principal.username,
                source=source,
                action="intake.duplicate",
                target=f"vetting:{existing}",
                detail={"sha256": sha, "filename": shown_name, "reason": reason},
                now=now,
            )
        return Intake(existing, sha, True)
    target = upload_path(uploads, sha)
    if not target.exists():
        fh.seek(0)
        with open_file(target) as out:
            while chunk := fh.read(CHUNK):
                out.write(chunk)
    try:
        with engine.begin() as conn:
            version_id = conn.execute(
                insert(app_versions)
                .values(sha256=sha, size=size, filename=shown_name, uploaded_at=now)
                .returning(app_versions.c.id)
            ).scalar_one()
            vetting_id = int(
                conn.execute(
                    insert(vettings)
                    .values(
                        app_version_id=version_id,
                        state=State.TESTING.value,
                        submitted_by=principal.username,
                        submitted_at=now,
                        reason=reason,
                    )
                    .returning(vettings.c.id)
                ).scalar_one()
            )
            _step(conn, vetting_id, "intake", None, reason, (), principal.username, now)
            conn.execute(
                insert(scan_jobs).values(
                    vetting_id=vetting_id, status=JobStatus.PENDING.value, attempts=0, created_at=now
                )
            )
            audit.append(
                conn,
                actor=principal.username,
                source=source,
                action="intake.upload",
                target=f"vetting:{vetting_id}",
                detail={"sha256": sha, "size": size, "filename": shown_name, "reason": reason},
                now=now,
            )
    except IntegrityError:  # the same file, submitted at the same moment by someone else
        again = _existing(engine, sha)
        if again is None:
            raise
        return Intake(again, sha, True)
    return Intake(vetting_id, sha, False)


def _existing(engine: Engine, sha: str) -> int | None:
    with engine.connect() as conn:
        vid = conn.execute(
            select(func.max(vettings.c.id))
            .select_from(vettings.join(app_versions, app_versions.c.id == vettings.c.app_version_id))
            .where(app_versions.c.sha256 == sha)
        ).scalar()
    return None if vid is None else int(vid)


def _step(
    conn: Connection,
    vetting_id: int,
    step: str,
    verdict: str | None,
    text: str,
    cited: Sequence[str],
    actor: str,
    now: datetime,
) -> None:
    conn.execute(
        insert(vetting_steps).values(
            vetting_id=vetting_id,
            step=step,
            verdict=verdict,
            text=text,
            cited=json.dumps(list(cited)),
            actor=actor,
            at=now,
        )
    )


def _vetting_row(conn: Connection, vetting_id: int) -> Any:
    row = conn.execute(select(vettings).where(vettings.c.id == vetting_id)).first()
    if row is None:
        raise AccessError(f"no vetting {vetting_id}", status=404)
    return row


def _latest_job(conn: Connection, vetting_id: int) -> Any:
    return conn.execute(
        select(scan_jobs).where(scan_jobs.c.vetting_id == vetting_id).order_by(scan_jobs.c.id.desc()).limit(1)
    ).first()


def finding_keys(result: dict[str, Any] | None) -> list[str]:
    """The keys findings are cited and reviewed by: ``CHECK-ID#n`` (n: its place in the scan)."""
    if not result:
        return []
    return [f"{f.get('check_id', '?')}#{i}" for i, f in enumerate(result.get("findings") or [])]


def _result(conn: Connection, vetting_id: int) -> dict[str, Any] | None:
    job = _latest_job(conn, vetting_id)
    if job is None or job.result is None:
        return None
    data: dict[str, Any] = json.loads(job.result)
    return data


def review_finding(
    engine: Engine,
    vetting_id: int,
    *,
    finding_key: str,
    action: ReviewAction,
    severity: Severity | None,
    reason: str,
    principal: Principal,
    source: str,
    now: datetime,
) -> None:
    reason = _text(reason, "a reason")
    if action is ReviewAction.REGRADE and severity is None:
        raise AccessError("re-grading a finding needs the new severity")
    if action is ReviewAction.SUPPRESS:
        severity = None
    with engine.begin() as conn:
        row = _vetting_row(conn, vetting_id)
        if row.state not in (State.REVIEW, State.TESTING):
            raise AccessError(f"vetting {vetting_id} is {row.state}: its findings can no longer change", 409)
        if finding_key not in finding_keys(_result(conn, vetting_id)):
            raise AccessError(f"vetting {vetting_id} has no finding {finding_key!r}", status=404)
        conn.execute(
            insert(finding_reviews).values(
                vetting_id=vetting_id,
                finding_key=finding_key,
                action=action.value,
                severity=severity.value if severity else None,
                reason=reason,
                actor=principal.username,
                at=now,
            )
        )
        audit.append(
            conn,
            actor=principal.username,
            source=source,
            action=f"review.{action.value}",
            target=f"vetting:{vetting_id}",
            detail={
                "finding": finding_key,
                "severity": severity.value if severity else None,
                "reason": reason,
            },
            now=now,
        )


def add_note(
    engine: Engine, vetting_id: int, *, text: str, principal: Principal, source: str, now: datetime
) -> None:
    text = _text(text, "a note")
    with engine.begin() as conn:
        _vetting_row(conn, vetting_id)
        _step(conn, vetting_id, "note", None, text, (), principal.username, now)
        audit.append(
            conn,
            actor=principal.username,
            source=source,
            action="review.note",
            target=f"vetting:{vetting_id}",
            detail={"text": text},
            now=now,
        )


def _check_cited(conn: Connection, vetting_id: int, cited: Sequence[str]) -> list[str]:
    keys = set(finding_keys(_result(conn, vetting_id)))
    unknown = sorted(set(cited) - keys)
    if unknown:
        raise AccessError(f"vetting {vetting_id} has no finding {', '.join(unknown)}", status=404)
    return sorted(set(cited), key=list(cited).index)


def _advance(
    conn: Connection,
    vetting_id: int,
    step: str,
    to: State,
    detail: dict[str, Any],
    *,
    principal: Principal,
    source: str,
    now: datetime,
) -> None:
    """One workflow step, in the caller's transaction: the step recorded (who, when, verdict,
    reason, cited findings), the vetting moved to its next state, and the audit entry."""
    cited = detail.get("cited", ())
    _step(conn, vetting_id, step, detail["verdict"], detail["reason"], cited, principal.username, now)
    conn.execute(update(vettings).where(vettings.c.id == vetting_id).values(state=to.value))
    audit.append(
        conn,
        actor=principal.username,
        source=source,
        action=step,
        target=f"vetting:{vetting_id}",
        detail=detail,
        now=now,
    )


def recommend(
    engine: Engine,
    vetting_id: int,
    *,
    verdict: Recommendation,
    reason: str,
    cited: Sequence[str],
    principal: Principal,
    source: str,
    now: datetime,
) -> None:
    reason = _text(reason, "a reason")
    with engine.begin() as conn:
        row = _vetting_row(conn, vetting_id)
        if row.state != State.REVIEW:
            raise AccessError(
                f"vetting {vetting_id} is {row.state}: a recommendation follows the finished scan", 409
            )
        cited_ok = _check_cited(conn, vetting_id, cited)
        _advance(
            conn,
            vetting_id,
            "recommendation",
            State.RECOMMENDED,
            {"verdict": verdict.value, "reason": reason, "cited": cited_ok},
            principal=principal,
            source=source,
            now=now,
        )


def decide(
    engine: Engine,
    vetting_id: int,
    *,
    verdict: Decision,
    reason: str,
    principal: Principal,
    source: str,
    now: datetime,
) -> None:
    reason = _text(reason, "a reason")
    with engine.begin() as conn:
        row = _vetting_row(conn, vetting_id)
        if row.state != State.RECOMMENDED:
            raise AccessError(
                f"vetting {vetting_id} is {row.state}: a decision follows a recommendation", 409
            )
        analysts = set(
            conn.execute(
                select(finding_reviews.c.actor).where(finding_reviews.c.vetting_id == vetting_id)
            ).scalars()
        ) | set(
            conn.execute(
                select(vetting_steps.c.actor).where(
                    vetting_steps.c.vetting_id == vetting_id, vetting_steps.c.step == "note"
                )
            ).scalars()
        )
        if principal.username in analysts:
            raise AccessError(
                f"{principal.username} reviewed vetting {vetting_id} as an analyst and may not decide it "
                "(separation of duties)",
                status=403,
            )
        _advance(
            conn,
            vetting_id,
            "decision",
            State.DECIDED,
            {"verdict": verdict.value, "reason": reason},
            principal=principal,
            source=source,
            now=now,
        )


def rescan(engine: Engine, vetting_id: int, *, principal: Principal, source: str, now: datetime) -> None:
    """Queue the scan again (after a failure or a time-out)."""
    with engine.begin() as conn:
        row = _vetting_row(conn, vetting_id)
        job = _latest_job(conn, vetting_id)
        if row.state not in (State.TESTING, State.REVIEW) or (job is not None and job.status not in FINISHED):
            raise AccessError(f"vetting {vetting_id} cannot be scanned again now", status=409)
        conn.execute(
            insert(scan_jobs).values(
                vetting_id=vetting_id, status=JobStatus.PENDING.value, attempts=0, created_at=now
            )
        )
        conn.execute(update(vettings).where(vettings.c.id == vetting_id).values(state=State.TESTING.value))
        audit.append(
            conn,
            actor=principal.username,
            source=source,
            action="scan.requeue",
            target=f"vetting:{vetting_id}",
            now=now,
        )


# ------------------------------------------------------------------ reading


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def list_vettings(engine: Engine, *, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                vettings,
                app_versions.c.sha256,
                app_versions.c.filename,
                app_versions.c.package,
                app_versions.c.version_name,
                app_versions.c.label,
            )
            .join(app_versions, app_versions.c.id == vettings.c.app_version_id)
            .order_by(vettings.c.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        out = []
        for r in rows:
            job = _latest_job(conn, int(r.id))
            out.append(
                {
                    "id": int(r.id),
                    "state": r.state,
                    "scan": job.status if job is not None else None,
                    "sha256": r.sha256,
                    "filename": r.filename,
                    "package": r.package,
                    "version_name": r.version_name,
                    "label": r.label,
                    "submitted_by": r.submitted_by,
                    "submitted_at": _iso(r.submitted_at),
                }
            )
    return out


def vetting_detail(engine: Engine, vetting_id: int) -> dict[str, Any]:
    """Everything about one vetting: the app version, the scan, findings with their
    reviews (the effective severity and who changed it and why), and every step."""
    with engine.connect() as conn:
        row = _vetting_row(conn, vetting_id)
        version = conn.execute(select(app_versions).where(app_versions.c.id == row.app_version_id)).one()
        job = _latest_job(conn, vetting_id)
        result = json.loads(job.result) if job is not None and job.result else None
        reviews = conn.execute(
            select(finding_reviews)
            .where(finding_reviews.c.vetting_id == vetting_id)
            .order_by(finding_reviews.c.id)
        ).all()
        steps = conn.execute(
            select(vetting_steps).where(vetting_steps.c.vetting_id == vetting_id).order_by(vetting_steps.c.id)
        ).all()
    by_key: dict[str, list[dict[str, Any]]] = {}
    for rv in reviews:
        by_key.setdefault(rv.finding_key, []).append(
            {
                "action": rv.action,
                "severity": rv.severity,
                "reason": rv.reason,
                "by": rv.actor,
                "at": _iso(rv.at),
            }
        )
    findings = []
    for key, f in zip(finding_keys(result), (result or {}).get("findings") or [], strict=True):
        history = by_key.get(key, [])
        last = history[-1] if history else None
        findings.append(
            {
                "key": key,
                "check_id": f.get("check_id"),
                "title": f.get("title"),
                "message": f.get("message"),
                "severity": f.get("severity"),
                "confidence": f.get("confidence"),
                "subject": f.get("subject"),
                "effective_severity": (
                    None
                    if last and last["action"] == "suppress"
                    else (last["severity"] if last else f.get("severity"))
                ),
                "suppressed": bool(last and last["action"] == "suppress"),
                "reviews": history,
            }
        )
    scan: dict[str, Any] | None = None
    if job is not None:
        scan = {
            "status": job.status,
            "attempts": int(job.attempts),
            "created_at": _iso(job.created_at),
            "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at),
            "error": job.error,
            "score": (result or {}).get("score"),
            "coverage_summary": (result or {}).get("coverage_summary"),
            "problems": [
                {k: p.get(k) for k in ("part", "entry", "offset", "message")}
                for p in (result or {}).get("problems") or []
                if isinstance(p, dict)
            ],
        }
    return {
        "id": int(row.id),
        "state": row.state,
        "submitted_by": row.submitted_by,
        "submitted_at": _iso(row.submitted_at),
        "reason": row.reason,
        "app": {
            "sha256": version.sha256,
            "size": int(version.size),
            "filename": version.filename,
            "package": version.package,
            "version_code": version.version_code,
            "version_name": version.version_name,
            "label": version.label,
        },
        "scan": scan,
        "findings": findings,
        "steps": [
            {
                "step": s.step,
                "verdict": s.verdict,
                "text": s.text,
                "cited": json.loads(s.cited),
                "by": s.actor,
                "at": _iso(s.at),
            }
            for s in steps
        ],
    }
