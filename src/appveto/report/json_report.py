"""The scan document: pydantic models, its JSON Schema, and byte-stable JSON output.

``results[]`` holds one :class:`ScanRecord` per input, in input order. A record joins
the reader's facts (``report.facts``: identity, manifest, components, signers, DEX,
native code, tampering) with what the checks made of them (``findings``, ``coverage``,
``score``, ``permission_verdicts``, ``trackers``, ``endpoints``) and the provenance of
the scan (``datasets``, ``appveto_version``, ``scanned_at``). An input that could not
be read is a record with ``error`` set and every other part empty.

The JSON Schema is generated from these models (``appveto schema scan`` prints it);
the same models read a saved document back (:func:`load_document`), so ``compare``
and ``diff`` accept saved JSON as well as APKs. Output is sorted and carries no clock
but ``--now``: the same input and ``--now`` give the same bytes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appveto import __version__
from appveto.checks.coverage import Coverage
from appveto.checks.perm import PermissionVerdict
from appveto.errors import AppvetoError, Diagnostic, ReportError
from appveto.findings import Finding, Severity
from appveto.kb.model import DatasetInfo, KnowledgeBase
from appveto.scan import CheckFailure, EndpointSummary, TrackerSummary
from appveto.scoring import RiskScore

SCHEMA_VERSION = "1.1"
"""1.0: the reader's facts; 1.1 adds findings, coverage, score, verdicts, trackers,
endpoints, failures and provenance beside them (additive: 1.0 readers keep working)."""

SCHEMA_ID = "https://appveto.org/schema/scan-1.1.json"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UsesPermission(_Frozen):
    name: str
    max_sdk: int | None
    sdk23: bool


class DeclaredPermission(_Frozen):
    name: str
    protection_level: str | None


class Application(_Frozen):
    name: str | None
    debuggable: bool | None
    allow_backup: bool | None
    uses_cleartext_traffic: bool | None
    network_security_config: str | None
    test_only: bool | None
    extract_native_libs: bool | None


class Component(_Frozen):
    type: str
    name: str
    exported: bool | None
    permission: str | None
    authorities: tuple[str, ...]
    intent_actions: tuple[str, ...]


class Signer(_Frozen):
    schemes: tuple[str, ...]
    cert_sha256: str
    cert_sha1: str
    subject: str
    issuer: str
    organization: str | None
    country: str | None
    serial: str | int
    not_before: str
    not_after: str
    key_algorithm: str
    key_size: int | None
    signature_algorithm: str
    self_signed: bool
    min_sdk: int | None
    max_sdk: int | None


class EmbeddedDex(_Frozen):
    entry: str
    location: str
    size: int
    note: str | None


class Dex(_Frozen):
    files: tuple[str, ...]
    classes: int
    methods: int
    strings: int
    embedded: tuple[EmbeddedDex, ...]


class NativeLib(_Frozen):
    entry: str
    abi: str
    name: str
    size: int
    machine: str | None


class Tampering(_Frozen):
    kind: str
    entry: str | None
    offset: int | None
    detail: str


class Problem(_Frozen):
    part: str
    message: str
    entry: str | None
    offset: int | None


class ScanRecord(_Frozen):
    """One input of a scan: the reader's facts and the checks' judgement."""

    file: str = Field(description="The path as given on the command line.")
    error: str | None = Field(description="Why the input could not be read at all; null when it was.")
    sha256: str | None = None
    sha1: str | None = None
    md5: str | None = None
    size: int | None = None
    package: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    min_sdk: int | None = None
    target_sdk: int | None = None
    max_sdk: int | None = None
    label: str | None = None
    permissions: tuple[str, ...] = ()
    uses_permissions: tuple[UsesPermission, ...] = ()
    declared_permissions: tuple[DeclaredPermission, ...] = ()
    application: Application | None = None
    components: tuple[Component, ...] = ()
    signers: tuple[Signer, ...] = ()
    signing_schemes: tuple[str, ...] = ()
    signing_lineage: tuple[str, ...] = ()
    dex: Dex | None = None
    native_libs: tuple[NativeLib, ...] = ()
    tampering: tuple[Tampering, ...] = ()
    problems: tuple[Problem, ...] = ()
    findings: tuple[Finding, ...] = Field(default=(), description="Highest severity first.")
    failures: tuple[CheckFailure, ...] = Field(
        default=(), description="Checks that crashed on this input (their findings are missing)."
    )
    coverage: Coverage | None = Field(default=None, description="What the scan could see.")
    coverage_summary: str | None = None
    score: RiskScore | None = None
    permission_verdicts: tuple[PermissionVerdict, ...] = ()
    trackers: tuple[TrackerSummary, ...] = ()
    endpoints: tuple[EndpointSummary, ...] = ()
    datasets: tuple[DatasetInfo, ...] = Field(default=(), description="Reference data the scan used.")
    scanned_at: str | None = None
    appveto_version: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.score is not None

    @property
    def name(self) -> str:
        """A short human name: label and package when known, else the file."""
        base = self.file.replace("\\", "/").rsplit("/", 1)[-1]
        if self.package:
            return f"{self.label} ({self.package})" if self.label else self.package
        return base

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)


class ScanDocument(_Frozen):
    """The document ``appveto scan --format json`` writes."""

    schema_version: Literal["1.1"] = "1.1"
    appveto_version: str = __version__
    results: tuple[ScanRecord, ...]


# ----------------------------------------------------------------- building


def scan_record(path: str, kb: KnowledgeBase, *, now: datetime) -> ScanRecord:
    """Read and analyse one APK. An unreadable input is a record with ``error`` set."""
    from appveto.apk import load_apk
    from appveto.report.facts import apk_facts
    from appveto.scan import analyse

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
        facts = apk_facts(apk, file=path)
        result = analyse(apk, kb, now=now)
    except AppvetoError as exc:
        return error_record(path, str(exc))
    except Exception as exc:  # idem, for the analysis
        return error_record(path, f"{path}: internal error: {type(exc).__name__}: {exc}")
    finally:
        close = getattr(apk.archive, "close", None)
        if callable(close):
            close()
    data: dict[str, Any] = {**facts}
    data.update(
        findings=result.findings,
        failures=result.failures,
        coverage=result.coverage,
        coverage_summary=result.coverage.summary(),
        score=result.score,
        permission_verdicts=result.permissions,
        trackers=result.trackers,
        endpoints=result.endpoints,
        datasets=result.datasets,
        scanned_at=result.scanned_at,
        appveto_version=result.appveto_version,
    )
    try:
        return ScanRecord.model_validate(data)
    except ValidationError as exc:  # the reader's facts changed shape: a bug, reported as one
        return error_record(path, f"{path}: internal error: facts do not fit the scan schema: {exc}")


def error_record(path: str, message: str) -> ScanRecord:
    return ScanRecord(file=path, error=message)


_WORKER_STATE: list[tuple[KnowledgeBase, datetime]] = []


def _init_worker(kb: KnowledgeBase, now: datetime) -> None:
    _WORKER_STATE[:] = [(kb, now)]


def _scan_job(path: str) -> ScanRecord:
    kb, now = _WORKER_STATE[0]
    return scan_record(path, kb, now=now)


def scan_records(
    paths: Sequence[str], kb: KnowledgeBase, *, now: datetime, workers: int = 1
) -> tuple[ScanRecord, ...]:
    """One record per path, in input order; a bad input never stops the others.

    ``workers > 1`` scans on a process pool (the knowledge base is sent to each worker
    once); the output is the same as a serial scan.
    """
    if workers <= 1 or len(paths) < 2:
        return tuple(scan_record(p, kb, now=now) for p in paths)
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    from appveto.lifeline import Lifeline

    results: dict[int, ScanRecord] = {}
    # the workers die with this process (kill -9 included) and leave Ctrl-C to it
    with Lifeline(multiprocessing.get_context()) as life:
        pool = life.pool(min(workers, len(paths)), _init_worker, (kb, now))
        try:
            futures = [pool.submit(_scan_job, p) for p in paths]
            # a dead worker breaks the pool: what is missing is retried below, each file alone,
            # so a dying worker costs only its own file
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


def document(records: Sequence[ScanRecord]) -> ScanDocument:
    return ScanDocument(results=tuple(records))


# ------------------------------------------------------------------ output


def dumps(value: Any) -> str:
    """Stable JSON: sorted keys, two-space indent, UTF-8 text, trailing newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_json(records: Sequence[ScanRecord]) -> str:
    return dumps(document(records).model_dump(mode="json"))


def scan_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`ScanDocument`."""
    schema = ScanDocument.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def render_schema() -> str:
    return dumps(scan_schema())


def load_document(path: str | Path) -> ScanDocument:
    """Read a saved scan document; errors name the file and the failing field."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ReportError(
            f"{p}: {exc.strerror or exc}", diagnostics=(Diagnostic(str(exc.strerror or exc), file=str(p)),)
        ) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        raise ReportError(
            f"{p}: not JSON",
            diagnostics=(Diagnostic(f"not JSON: {exc}", file=str(p), line=line, column=col),),
        ) from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, dict) else None
        raise ReportError(
            f"{p}: not an appveto scan document",
            diagnostics=(
                Diagnostic(
                    f"expected an appveto scan document with schema_version {SCHEMA_VERSION!r}, "
                    f"found {found!r} (write it with 'appveto scan --format json')",
                    file=str(p),
                ),
            ),
        )
    try:
        return ScanDocument.model_validate(data)
    except ValidationError as exc:
        diags = tuple(
            Diagnostic(f"at {'/'.join(str(x) for x in e['loc'])}: {e['msg']}", file=str(p))
            for e in exc.errors()[:20]
        )
        raise ReportError(f"{p}: does not match the scan schema", diagnostics=diags) from None
