"""The scan use case: read APKs, run every active check, measure coverage, score.

One result model (:class:`ScanRecord`, in :mod:`appveto.scan.record`) and one batch
engine (:func:`scan_many`). :func:`analyse` never lets one check take the scan down: an
exception in a check is recorded as a :class:`CheckFailure` value. :func:`scan_apk` and
:func:`scan_many` never let one file take the batch down: an input that cannot be read
(or whose worker process dies) is a record with ``error`` set. A scan never makes a
network request.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from appveto import __version__
from appveto.apk.model import Apk
from appveto.checks.coverage import measure
from appveto.checks.endpoints import endpoints
from appveto.checks.facts import release
from appveto.checks.perm import permission_verdicts
from appveto.checks.registry import active_checks, get_check
from appveto.checks.sdk import match_trackers
from appveto.errors import AppvetoError
from appveto.findings import CheckId, Finding
from appveto.kb.model import KnowledgeBase
from appveto.scan.facts import apk_facts
from appveto.scan.record import CheckFailure, EndpointSummary, ScanRecord, TrackerSummary, error_record
from appveto.scoring import CheckWeighting, RiskScore, score

__all__ = [
    "CheckFailure",
    "EndpointSummary",
    "ScanRecord",
    "TrackerSummary",
    "analyse",
    "error_record",
    "run_checks",
    "scan_apk",
    "scan_many",
]


def _weighting(cid: CheckId) -> CheckWeighting | None:
    spec = get_check(cid)
    if spec is None:
        return None
    return CheckWeighting(subscore=str(spec.subscore), absence_claim=spec.absence_claim)


def run_checks(apk: Apk, kb: KnowledgeBase) -> tuple[tuple[Finding, ...], tuple[CheckFailure, ...]]:
    """Every active check on ``apk``; a check that raises becomes a CheckFailure."""
    found: list[Finding] = []
    failures: list[CheckFailure] = []
    for spec in active_checks():
        if spec.func is None:
            continue
        try:
            found.extend(spec.func(apk, kb))
        except Exception as exc:  # a bug in one check must not hide the others' findings
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{os.path.basename(tb[-1].filename)}:{tb[-1].lineno} in {tb[-1].name}" if tb else "?"
            failures.append(CheckFailure(spec.id, f"{type(exc).__name__}: {exc}", where))
    return tuple(sorted(found, key=Finding.sort_key)), tuple(failures)


def analyse(apk: Apk, kb: KnowledgeBase, *, now: datetime, file: str | None = None) -> ScanRecord:
    """The record of an already loaded APK: the reader's facts, then the checks, coverage,
    verdicts and score. ``file`` is the path as the user gave it (default ``apk.path``).

    Raises ``ValidationError`` only on a bug (facts that no longer fit the record)."""
    try:
        data: dict[str, Any] = apk_facts(apk, file=file)
        data.update(_judgement(apk, kb.at(now), now))
    finally:
        release(apk)  # the derived tables of a large app are big: free them now
    return ScanRecord.model_validate(data)


def _judgement(apk: Apk, kb: KnowledgeBase, now: datetime) -> dict[str, Any]:
    found, failures = run_checks(apk, kb)
    cov = measure(apk, kb)
    risk: RiskScore = score(
        found, weighting=_weighting, coverage_cap=cov.cap, readable_share=cov.readable_share
    )
    trackers = []
    for tm in match_trackers(apk, kb):
        ent = kb.entity_named(tm.tracker.vendor) if tm.tracker.vendor else None
        trackers.append(
            TrackerSummary(
                id=tm.tracker.id,
                name=tm.tracker.name,
                vendor=tm.tracker.vendor,
                vendor_country=ent.country if ent else None,
                website_domain=tm.tracker.website_domain,
                categories=tm.tracker.categories,
                class_count=tm.class_count,
                classes_sample=tm.classes,
                hosts=tm.hosts,
                source=tm.tracker.source,
            )
        )
    eps = []
    for ep in endpoints(apk):
        owned = kb.owner_of(ep.host)  # walks up private suffixes; IP literals by published networks
        owner = owned.entity if owned else None
        eps.append(
            EndpointSummary(
                host=ep.host,
                registrable_domain=ep.registrable_domain,
                owner=owner.name if owner else None,
                owner_country=owner.country if owner else None,
                cleartext=ep.cleartext,
                ip_literal=ep.ip_literal,
                schemes=ep.schemes,
                sources=tuple(str(s) for s in ep.sources),
                urls=ep.urls,
            )
        )
    return {
        "findings": found,
        "failures": failures,
        "coverage": cov,
        "coverage_summary": cov.summary(),
        "score": risk,
        "permission_verdicts": permission_verdicts(apk, kb),
        "trackers": tuple(trackers),
        "endpoints": tuple(eps),
        "datasets": kb.datasets,
        "scanned_at": now.isoformat(timespec="seconds"),
        "appveto_version": __version__,
    }


def scan_apk(path: str, kb: KnowledgeBase, *, now: datetime) -> ScanRecord:
    """Read and analyse one APK. An input that cannot be read or analysed is a record with
    ``error`` set (never an exception): one bad file never stops a batch."""
    from appveto.apk import load_apk

    try:
        apk = load_apk(path)
    except AppvetoError as exc:
        return error_record(path, str(exc))
    except OSError as exc:
        return error_record(path, f"{path}: {exc.strerror or exc}")
    except MemoryError:
        return error_record(path, f"{path}: out of memory while reading the APK")
    except Exception as exc:  # a reader bug must not stop a batch: recorded with its type
        return error_record(path, f"{path}: internal error: {type(exc).__name__}: {exc}")
    try:
        return analyse(apk, kb, now=now, file=path)
    except AppvetoError as exc:
        return error_record(path, str(exc))
    except ValidationError as exc:  # the reader's facts changed shape: a bug, reported as one
        return error_record(path, f"{path}: internal error: facts do not fit the scan schema: {exc}")
    except MemoryError:
        return error_record(path, f"{path}: out of memory while analysing the APK")
    except Exception as exc:  # idem, for the analysis
        return error_record(path, f"{path}: internal error: {type(exc).__name__}: {exc}")
    finally:
        close = getattr(apk.archive, "close", None)
        if callable(close):
            close()


# ------------------------------------------------------------ the batch engine

_WORKER_STATE: list[tuple[KnowledgeBase, datetime]] = []
"""The knowledge base and date of a pool worker, sent once by the pool initializer."""


def _init_worker(kb: KnowledgeBase, now: datetime) -> None:
    _WORKER_STATE[:] = [(kb, now)]


def _scan_job(path: str) -> ScanRecord:
    kb, now = _WORKER_STATE[0]
    return scan_apk(path, kb, now=now)


def scan_many(
    paths: Sequence[str], kb: KnowledgeBase, *, now: datetime, workers: int = 1
) -> tuple[ScanRecord, ...]:
    """One record per path, in input order; a bad input never stops the others.

    ``workers > 1`` scans on a process pool (the knowledge base is sent to each worker
    once; the workers die with this process); the output is the same as a serial scan. A
    worker that dies (out of memory, a crash in a C extension) breaks the pool: the files
    it left without a record are retried each alone, so a dying worker costs only its own
    file, which is recorded as an error.
    """
    if workers <= 1 or len(paths) < 2:
        return tuple(scan_apk(p, kb, now=now) for p in paths)
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    from appveto.lifeline import Lifeline

    results: dict[int, ScanRecord] = {}
    # the workers die with this process (kill -9 included) and leave Ctrl-C to it
    with Lifeline(multiprocessing.get_context()) as life:
        pool = life.pool(min(workers, len(paths)), _init_worker, (kb, now))
        try:
            futures = [pool.submit(_scan_job, p) for p in paths]
            for i, fut in enumerate(futures):
                with contextlib.suppress(BrokenProcessPool):
                    results[i] = fut.result()
        finally:  # an interrupted scan does not wait for the files not started
            pool.shutdown(wait=True, cancel_futures=True)
        for i, p in enumerate(paths):
            if i in results:
                continue
            try:
                with life.pool(1, _init_worker, (kb, now)) as solo:
                    results[i] = solo.submit(_scan_job, p).result()
            except BrokenProcessPool:
                died = f"{p}: the process scanning this file died (out of memory or crashed)"
                results[i] = error_record(p, died)
    return tuple(results[i] for i in range(len(paths)))
