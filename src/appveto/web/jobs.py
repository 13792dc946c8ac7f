"""The testing step: scans run in the background, never in a request.

A :class:`Runner` thread takes the oldest pending scan job, marks it running (in the
store, so a server killed mid-scan leaves a trace), and scans the uploaded file with the
batch engine that ``appveto scan`` uses, in a child process of its own: a scan that
takes longer than the time limit is killed (``timed_out``), one whose process dies is
``failed`` with the reason, an unreadable file is ``failed`` with the reader's located
error. The child holds a :class:`~appveto.lifeline.Lifeline`, so it dies with the
server. On start, jobs left ``running`` by a killed server are queued again (a job
interrupted :data:`MAX_ATTEMPTS` times is ``failed``, so a file that kills the server
cannot do it forever).
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from appveto.fleet._schema import app_versions, scan_jobs, vettings
from appveto.web import audit
from appveto.web.workflow import JobStatus, State, upload_path

MAX_ATTEMPTS = 3
DEFAULT_TIMEOUT = 600.0
MAX_ERROR = 4000


def _child(lifeline_args: tuple[Any, ...], path: str, now: datetime, out: Any) -> None:
    """The scan process: the batch engine on one file; the record goes back as JSON."""
    from appveto.lifeline import attach

    attach(*lifeline_args)
    from appveto.kb.load import load_kb
    from appveto.scan import scan_many

    try:
        kb = load_kb()
        (record,) = scan_many([path], kb, now=now)
        out.send_bytes(record.model_dump_json().encode("utf-8"))
    except Exception as exc:  # the knowledge base itself failed: said, not hidden
        out.send_bytes(json.dumps({"file": path, "error": f"{type(exc).__name__}: {exc}"}).encode("utf-8"))
    finally:
        out.close()


@dataclass(frozen=True, slots=True)
class Outcome:
    status: JobStatus
    error: str | None
    record: dict[str, Any] | None


def scan_file(
    path: Path, *, timeout: float, now: datetime, cancel: threading.Event | None = None
) -> Outcome | None:
    """Scan ``path`` in a child process, killed after ``timeout`` seconds; ``None`` when
    ``cancel`` was set meanwhile (the server is stopping)."""
    from appveto.lifeline import Lifeline

    ctx = multiprocessing.get_context("spawn")  # the server has threads: never fork it
    with Lifeline(ctx) as life:
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_child, args=(life.initargs(), str(path), now, sender), name="appveto-scan", daemon=True
        )
        proc.start()
        sender.close()
        try:
            waited = 0.0
            while not receiver.poll(min(0.5, max(timeout - waited, 0.0))):
                waited += 0.5
                if cancel is not None and cancel.is_set():
                    return None
                if waited < timeout:
                    continue
                return Outcome(
                    JobStatus.TIMED_OUT,
                    f"the scan took longer than the limit of {timeout:g} s and was stopped",
                    None,
                )
            try:
                text = receiver.recv_bytes().decode("utf-8")
            except EOFError:
                proc.join(5)
                return Outcome(
                    JobStatus.FAILED,
                    f"the scan process died (exit code {proc.exitcode}: out of memory or crashed)",
                    None,
                )
        finally:
            receiver.close()
            if proc.is_alive():
                proc.kill()
            proc.join()
    record: dict[str, Any] = json.loads(text)
    if record.get("error"):
        return Outcome(JobStatus.FAILED, str(record["error"])[:MAX_ERROR], record)
    return Outcome(JobStatus.DONE, None, record)


class Runner:
    """Runs the store's scan jobs one at a time (:meth:`start` for a thread, or
    :meth:`drain` to run what is pending in the caller's thread)."""

    def __init__(self, engine: Engine, uploads: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.engine = engine
        self.uploads = uploads
        self.timeout = timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._claim_lock = threading.Lock()

    def recover(self) -> int:
        """Queue again the jobs a killed server left running; returns how many."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            rows = conn.execute(select(scan_jobs).where(scan_jobs.c.status == JobStatus.RUNNING.value)).all()
            for r in rows:
                gave_up = int(r.attempts) >= MAX_ATTEMPTS
                status = JobStatus.FAILED if gave_up else JobStatus.PENDING
                conn.execute(
                    update(scan_jobs)
                    .where(scan_jobs.c.id == r.id)
                    .values(
                        status=status.value,
                        error=(
                            f"interrupted {r.attempts} times (the server stopped during the scan)"
                            if gave_up
                            else None
                        ),
                        finished_at=now if gave_up else None,
                    )
                )
                if gave_up:
                    conn.execute(
                        update(vettings).where(vettings.c.id == r.vetting_id).values(state=State.REVIEW.value)
                    )
                audit.append(
                    conn,
                    actor="system",
                    action="scan.gave_up" if gave_up else "scan.retry",
                    target=f"vetting:{r.vetting_id}",
                    detail={"job": int(r.id), "attempts": int(r.attempts)},
                    now=now,
                )
        return len(rows)

    def _claim(self) -> tuple[int, int, str] | None:
        now = datetime.now(UTC)
        with self._claim_lock, self.engine.begin() as conn:
            row = conn.execute(
                select(scan_jobs.c.id, scan_jobs.c.vetting_id, scan_jobs.c.attempts, app_versions.c.sha256)
                .join(vettings, vettings.c.id == scan_jobs.c.vetting_id)
                .join(app_versions, app_versions.c.id == vettings.c.app_version_id)
                .where(scan_jobs.c.status == JobStatus.PENDING.value)
                .order_by(scan_jobs.c.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            conn.execute(
                update(scan_jobs)
                .where(scan_jobs.c.id == row.id)
                .values(status=JobStatus.RUNNING.value, attempts=int(row.attempts) + 1, started_at=now)
            )
        return int(row.id), int(row.vetting_id), str(row.sha256)

    def run_one(self) -> bool:
        """Run the oldest pending job; ``False`` when there was none."""
        claimed = self._claim()
        if claimed is None:
            return False
        job_id, vetting_id, sha = claimed
        path = upload_path(self.uploads, sha)
        started = datetime.now(UTC)
        outcome: Outcome | None
        if not path.is_file():
            outcome = Outcome(
                JobStatus.FAILED, f"the uploaded file {path.name} is missing from uploads/", None
            )
        else:
            outcome = scan_file(path, timeout=self.timeout, now=started, cancel=self._stop)
        if outcome is None:  # stopping: the job waits for the next start, this try not counted
            with self.engine.begin() as conn:
                conn.execute(
                    update(scan_jobs)
                    .where(scan_jobs.c.id == job_id)
                    .values(
                        status=JobStatus.PENDING.value, attempts=scan_jobs.c.attempts - 1, started_at=None
                    )
                )
            return False
        self._finish(job_id, vetting_id, outcome)
        return True

    def _finish(self, job_id: int, vetting_id: int, outcome: Outcome) -> None:
        now = datetime.now(UTC)
        rec = outcome.record or {}
        with self.engine.begin() as conn:
            conn.execute(
                update(scan_jobs)
                .where(scan_jobs.c.id == job_id)
                .values(
                    status=outcome.status.value,
                    finished_at=now,
                    error=outcome.error,
                    result=json.dumps(rec, ensure_ascii=False, sort_keys=True) if outcome.record else None,
                )
            )
            if rec.get("package"):
                version_id = conn.execute(
                    select(vettings.c.app_version_id).where(vettings.c.id == vetting_id)
                ).scalar_one()
                conn.execute(
                    update(app_versions)
                    .where(app_versions.c.id == version_id)
                    .values(
                        package=rec.get("package"),
                        version_code=rec.get("version_code"),
                        version_name=rec.get("version_name"),
                        label=rec.get("label"),
                    )
                )
            conn.execute(
                update(vettings)
                .where(vettings.c.id == vetting_id, vettings.c.state == State.TESTING.value)
                .values(state=State.REVIEW.value)
            )
            audit.append(
                conn,
                actor="system",
                action=f"scan.{outcome.status.value}",
                target=f"vetting:{vetting_id}",
                detail={
                    "job": job_id,
                    "error": outcome.error,
                    "findings": len(rec.get("findings") or []) if outcome.record else None,
                },
                now=now,
            )

    def drain(self) -> int:
        n = 0
        while self.run_one():
            n += 1
        return n

    # ------------------------------------------------------------ the thread

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_one()
            except Exception:  # a store error must not end the runner; the job stays for the next start
                ran = False
                self._stop.wait(5.0)
            if not ran:
                self._wake.wait(2.0)
                self._wake.clear()

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="appveto-scan-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
