"""The result of scanning one input: :class:`ScanRecord`, the one result model of a scan.

A record joins the reader's facts (identity, manifest, components, signers, DEX, native
code, tampering; built by :mod:`appveto.scan.facts`) with what the checks made of them
(``findings``, ``coverage``, ``score``, ``permission_verdicts``, ``trackers``,
``endpoints``) and the provenance of the scan (``datasets``, ``appveto_version``,
``scanned_at``). An input that could not be read is a record with ``error`` set and every
other part empty. ``report/`` serialises records (the JSON document and its schema are
generated from these models, so a field added here is a field of the schema).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from appveto.checks.coverage import Coverage
from appveto.checks.perm import PermissionVerdict
from appveto.findings import CheckId, Finding, Severity
from appveto.kb.model import DatasetInfo
from appveto.scoring import RiskScore


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """A check that raised instead of yielding findings (a bug, recorded, never fatal)."""

    check_id: CheckId
    error: str
    """Exception type and message."""
    where: str
    """The innermost frame of the traceback (file:line in function)."""


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


def error_record(path: str, message: str) -> ScanRecord:
    """The record of an input that could not be read or analysed at all."""
    return ScanRecord(file=path, error=message)
