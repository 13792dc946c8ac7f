"""Scan APKs: read, run every active check, measure coverage, score.

``scan_apk`` never lets one check take the scan down: an exception in a check is
recorded as a :class:`CheckFailure` value. ``scan_many`` never lets one file take
the batch down: a file that cannot be read is a recorded :class:`ScanError`. A scan
never makes a network request.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from appveto import __version__
from appveto.apk.model import Apk, ApkProblem
from appveto.checks.coverage import Coverage, measure
from appveto.checks.endpoints import endpoints
from appveto.checks.facts import release
from appveto.checks.perm import PermissionVerdict, permission_verdicts
from appveto.checks.registry import active_checks, get_check
from appveto.checks.sdk import match_trackers
from appveto.errors import AppvetoError, Diagnostic
from appveto.findings import CheckId, Finding
from appveto.kb.model import DatasetInfo, KnowledgeBase
from appveto.scoring import CheckWeighting, RiskScore, score


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """A check that raised instead of yielding findings (a bug, recorded, never fatal)."""

    check_id: CheckId
    error: str
    """Exception type and message."""
    where: str
    """The innermost frame of the traceback (file:line in function)."""


@dataclass(frozen=True, slots=True)
class SignerSummary:
    sha256: str
    subject: str
    issuer: str
    schemes: tuple[str, ...]
    not_after: str
    key: str


@dataclass(frozen=True, slots=True)
class TrackerSummary:
    id: str
    name: str
    vendor: str | None
    vendor_country: str | None
    website_domain: str | None
    categories: tuple[str, ...]
    class_count: int
    classes_sample: tuple[str, ...]
    hosts: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class EndpointSummary:
    host: str
    registrable_domain: str | None
    owner: str | None
    owner_country: str | None
    cleartext: bool
    ip_literal: bool
    schemes: tuple[str, ...]
    sources: tuple[str, ...]
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppFacts:
    package: str | None
    version_code: int | None
    version_name: str | None
    label: str | None
    min_sdk: int | None
    target_sdk: int | None
    permissions_requested: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScanResult:
    path: str
    file_name: str
    size: int
    sha256: str
    sha1: str
    md5: str
    app: AppFacts
    signers: tuple[SignerSummary, ...]
    findings: tuple[Finding, ...]
    """Sorted by severity (highest first), check ID, subject."""
    failures: tuple[CheckFailure, ...]
    coverage: Coverage
    permissions: tuple[PermissionVerdict, ...]
    trackers: tuple[TrackerSummary, ...]
    endpoints: tuple[EndpointSummary, ...]
    score: RiskScore
    problems: tuple[ApkProblem, ...]
    datasets: tuple[DatasetInfo, ...]
    scanned_at: str
    appveto_version: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (enums as values, tuples as lists), keys in field order."""
        result: dict[str, Any] = _plain(self)
        cov = self.coverage
        result["coverage"].update(
            summary=cov.summary(),
            obfuscated_class_share=round(cov.obfuscated_class_share, 3),
            obfuscated_method_share=round(cov.obfuscated_method_share, 3),
            obfuscated_field_share=round(cov.obfuscated_field_share, 3),
            native_share=round(cov.native_share, 3),
        )
        return result


@dataclass(frozen=True, slots=True)
class ScanError:
    """A file of a batch that could not be scanned at all."""

    path: str
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class BatchResult:
    results: tuple[ScanResult, ...]
    errors: tuple[ScanError, ...]


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


def analyse(apk: Apk, kb: KnowledgeBase, *, now: datetime) -> ScanResult:
    """Checks, coverage, verdicts and score for an already loaded APK."""
    try:
        return _analyse(apk, kb.at(now), now)
    finally:
        release(apk)  # the derived tables of a large app are big: free them now


def _analyse(apk: Apk, kb: KnowledgeBase, now: datetime) -> ScanResult:
    found, failures = run_checks(apk, kb)
    cov = measure(apk, kb)
    risk: RiskScore = score(found, weighting=_weighting, coverage_cap=cov.cap)
    m = apk.manifest
    app = AppFacts(
        package=m.package if m else None,
        version_code=m.version_code if m else None,
        version_name=m.version_name if m else None,
        label=m.application.label if m else None,
        min_sdk=m.min_sdk if m else None,
        target_sdk=m.effective_target_sdk if m else None,
        permissions_requested=m.permission_names if m else (),
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
        owner = kb.entity_for_domain(ep.registrable_domain) if ep.registrable_domain else None
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
    signers = tuple(
        SignerSummary(
            sha256=c.sha256,
            subject=c.subject.rfc4514,
            issuer=c.issuer.rfc4514,
            schemes=tuple(str(s) for s in c.schemes),
            not_after=c.not_after,
            key=f"{c.key_algorithm} {c.key_size or ''}".strip(),
        )
        for c in apk.signing.signers
    )
    return ScanResult(
        path=apk.path,
        file_name=os.path.basename(apk.path),
        size=apk.size,
        sha256=apk.sha256,
        sha1=apk.sha1,
        md5=apk.md5,
        app=app,
        signers=signers,
        findings=found,
        failures=failures,
        coverage=cov,
        permissions=permission_verdicts(apk, kb),
        trackers=tuple(trackers),
        endpoints=tuple(eps),
        score=risk,
        problems=apk.problems,
        datasets=kb.datasets,
        scanned_at=now.isoformat(timespec="seconds"),
        appveto_version=__version__,
    )


def scan_apk(path: str, kb: KnowledgeBase, *, now: datetime) -> ScanResult:
    """Read ``path`` and analyse it. Raises :class:`AppvetoError` when it cannot be read."""
    from appveto.apk import load_apk

    apk = load_apk(path)
    try:
        return analyse(apk, kb, now=now)
    finally:
        close = getattr(apk.archive, "close", None)
        if callable(close):
            close()


def _scan_one(args: tuple[str, KnowledgeBase, datetime]) -> ScanResult | ScanError:
    path, kb, now = args
    try:
        return scan_apk(path, kb, now=now)
    except AppvetoError as exc:
        return ScanError(path, exc.diagnostics())
    except MemoryError:
        return ScanError(path, (Diagnostic("out of memory while reading the APK", file=path),))
    except Exception as exc:  # a reader bug must not stop the batch; it is recorded with its type
        return ScanError(path, (Diagnostic(f"internal error: {type(exc).__name__}: {exc}", file=path),))


_worker_kb: list[KnowledgeBase] = []
"""The knowledge base of a pool worker process, sent once by the pool initializer."""


def _init_worker(kb: KnowledgeBase) -> None:
    _worker_kb[:] = [kb]


def _scan_in_worker(args: tuple[str, datetime]) -> ScanResult | ScanError:
    path, now = args
    return _scan_one((path, _worker_kb[0], now))


def iter_scan(
    paths: Iterable[str], kb: KnowledgeBase, *, now: datetime, workers: int = 1
) -> Iterator[ScanResult | ScanError]:
    """Scan lazily, in input order; ``workers > 1`` uses a process pool (the knowledge
    base is sent to each worker once)."""
    if workers <= 1:
        for p in paths:
            yield _scan_one((p, kb, now))
        return
    pending = list(paths)
    done = 0
    while done < len(pending):
        with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(kb,)) as pool:
            rest = pending[done:]
            futures = [pool.submit(_scan_in_worker, (p, now)) for p in rest]
            for fut, path in zip(futures, rest, strict=True):
                try:
                    item = fut.result()
                except BrokenProcessPool:
                    # A worker died (killed for memory, or crashed) and took the pool down
                    # with every scan in flight: rescan this file alone to know whether it
                    # is the culprit, then go on with a fresh pool for the others.
                    yield _alone(path, kb, now)
                    done += 1
                    break
                yield item
                done += 1


def _alone(path: str, kb: KnowledgeBase, now: datetime) -> ScanResult | ScanError:
    with ProcessPoolExecutor(max_workers=1, initializer=_init_worker, initargs=(kb,)) as pool:
        try:
            return pool.submit(_scan_in_worker, (path, now)).result()
        except BrokenProcessPool:
            msg = "the worker process scanning this file died (memory limit or crash)"
            return ScanError(path, (Diagnostic(msg, file=path),))


def scan_many(paths: Iterable[str], kb: KnowledgeBase, *, now: datetime, workers: int = 1) -> BatchResult:
    """Scan every path; unreadable files are recorded errors, never an abort."""
    results: list[ScanResult] = []
    errors: list[ScanError] = []
    for item in iter_scan(paths, kb, now=now, workers=workers):
        if isinstance(item, ScanError):
            errors.append(item)
        else:
            results.append(item)
    return BatchResult(tuple(results), tuple(errors))


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if not f.name.startswith("_")}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
