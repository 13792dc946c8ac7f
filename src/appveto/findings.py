"""The shared vocabulary of results: severities, confidence, locations and findings.

Findings are frozen values. Their evidence is typed (where in the APK, which string,
which method reference) so that a person can verify every claim by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType

CheckId = NewType("CheckId", str)
"""A stable check identifier such as ``AV-PERM-001``; never reused."""


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Confidence(StrEnum):
    """How sure a finding is, capped by what the scan could see (its coverage)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class EvidenceKind(StrEnum):
    MANIFEST = "manifest"
    ENTRY = "entry"
    CLASS = "class"
    METHOD = "method"
    FIELD = "field"
    STRING = "string"
    CERTIFICATE = "certificate"
    NATIVE = "native"
    ZIP = "zip"
    ENDPOINT = "endpoint"
    METRIC = "metric"


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """Where in the APK a piece of evidence sits. Every part is optional."""

    entry: str | None = None
    """Archive entry path, e.g. ``classes2.dex`` or ``AndroidManifest.xml``."""
    class_name: str | None = None
    """Java class name in dotted form."""
    method: str | None = None
    """Method reference ``name(descriptor)`` within ``class_name``."""
    offset: int | None = None
    """Byte offset in the entry (or in the file for zip-level evidence)."""
    xpath: str | None = None
    """Path of a manifest element, e.g. ``/manifest/application/activity[3]``."""


@dataclass(frozen=True, slots=True, order=True)
class Evidence:
    """One verifiable fact behind a finding."""

    kind: EvidenceKind
    value: str
    """The thing observed: a permission, a string, a method reference, a host name."""
    location: Location = field(default_factory=Location)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A judgement by one check, with the evidence that supports it."""

    check_id: CheckId
    slug: str
    title: str
    severity: Severity
    confidence: Confidence
    message: str
    evidence: tuple[Evidence, ...] = ()
    subject: str | None = None
    """What the finding is about when a check reports per item (a permission, a host)."""

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-self.severity.rank, self.check_id, self.subject or "", self.message)
