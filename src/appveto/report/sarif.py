"""SARIF 2.1.0: one run per scanned APK, rules from the check registry.

Each rule carries the check's ID, slug (as ``name``), title, summary, its whole
documentation as help text, a URI to its doc page (``<docs_base><ID>.md``), the
GitHub code-scanning properties ``security-severity`` and ``tags``.
A result points at the APK (``artifactLocation.uri``) and, through
``logicalLocations``, at the archive entry, class and method of its evidence; the
evidence itself is in ``properties.evidence``. Retired checks stay in the rule list
(deprecated) so old baselines still resolve.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from appveto import __version__
from appveto.checks.registry import Check, Status, all_checks
from appveto.findings import Evidence, Finding, Location, Severity
from appveto.report.json_report import dumps
from appveto.report.registry import renderer
from appveto.scan.record import ScanRecord

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
DOCS_BASE = "https://appveto.org/docs/checks/"
INFORMATION_URI = "https://appveto.org/"

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
"""GitHub maps >9.0 to critical, 7.0-8.9 to high, 4.0-6.9 to medium, 0.1-3.9 to low."""

LEVEL: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_MAX_RELATED = 20


def artifact_uri(path: str) -> str:
    """A URI reference for an input path: ``file:`` URI when absolute, relative otherwise."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return posix.as_uri()
    return quote(posix.as_posix(), safe="/._-~")


def _rule(c: Check, docs_base: str) -> dict[str, Any]:
    sec = c.sections()
    summary = sec.get("Summary") or c.title
    what = sec.get("What it checks") or summary
    help_md = "\n\n".join(
        f"## {h}\n\n{sec[h]}"
        for h in ("What it checks", "Why it matters", "Example", "Remediation", "References")
        if sec.get(h)
    )
    tags = ["security", "android", c.family.value.lower(), str(c.subscore), c.slug]
    rule: dict[str, Any] = {
        "id": c.id,
        "name": c.slug,
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": f"{summary}\n\n{what}" if what != summary else summary},
        "help": {"text": help_md or c.doc, "markdown": help_md or c.doc},
        "helpUri": f"{docs_base}{c.id}.md",
        "defaultConfiguration": {
            "level": LEVEL[c.severity] if c.status is Status.ACTIVE else "none",
            "enabled": c.status is Status.ACTIVE,
        },
        "properties": {
            "security-severity": SECURITY_SEVERITY[c.severity],
            "problem.severity": {"error": "error", "warning": "warning"}.get(
                LEVEL[c.severity], "recommendation"
            ),
            "tags": tags,
            "appveto/family": c.family.value,
            "appveto/subscore": str(c.subscore),
            "appveto/status": str(c.status),
            "appveto/absenceClaim": c.absence_claim,
        },
    }
    if c.status is Status.REMOVED:
        rule["deprecatedNames"] = [c.slug]
        rule["properties"]["appveto/removedReason"] = c.removed_reason or ""
    return rule


def _logical(loc: Location) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if loc.entry:
        out.append({"name": loc.entry, "fullyQualifiedName": loc.entry, "kind": "module"})
    if loc.xpath:
        fq = f"{loc.entry or 'AndroidManifest.xml'}!{loc.xpath}"
        out.append({"name": loc.xpath.rsplit("/", 1)[-1], "fullyQualifiedName": fq, "kind": "element"})
    if loc.class_name:
        out.append(
            {"name": loc.class_name.rsplit(".", 1)[-1], "fullyQualifiedName": loc.class_name, "kind": "type"}
        )
        if loc.method:
            out.append(
                {
                    "name": loc.method.split("(", 1)[0],
                    "fullyQualifiedName": f"{loc.class_name}.{loc.method}",
                    "decoratedName": loc.method,
                    "kind": "function",
                }
            )
    elif loc.method:
        out.append(
            {"name": loc.method.split("(", 1)[0], "fullyQualifiedName": loc.method, "kind": "function"}
        )
    return out


def _location(uri: str, ev: Evidence | None) -> dict[str, Any]:
    phys: dict[str, Any] = {"artifactLocation": {"uri": uri, "index": 0}}
    loc: dict[str, Any] = {"physicalLocation": phys}
    if ev is None:
        return loc
    lo = ev.location
    if lo.offset is not None and lo.entry is None:
        phys["region"] = {"byteOffset": lo.offset}
    logical = _logical(lo)
    if logical:
        loc["logicalLocations"] = logical
    text = f"{ev.kind}: {ev.value}" + (f" ({ev.note})" if ev.note else "")
    loc["message"] = {"text": text}
    return loc


def _evidence(ev: Evidence) -> dict[str, Any]:
    lo = ev.location
    where = {
        k: v
        for k, v in (
            ("entry", lo.entry),
            ("class", lo.class_name),
            ("method", lo.method),
            ("offset", lo.offset),
            ("xpath", lo.xpath),
        )
        if v is not None
    }
    out: dict[str, Any] = {"kind": str(ev.kind), "value": ev.value, "location": where}
    if ev.note:
        out["note"] = ev.note
    return out


def _fingerprint(rec: ScanRecord, f: Finding) -> str:
    key = "\x1f".join((rec.package or "", f.check_id, f.subject or "", f.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(rec: ScanRecord, f: Finding, index: dict[str, int], uri: str) -> dict[str, Any]:
    located = [e for e in f.evidence if e.location != Location()]
    primary = located[0] if located else None
    related = [{"id": i + 1, **_location(uri, e)} for i, e in enumerate(located[1 : 1 + _MAX_RELATED])]
    res: dict[str, Any] = {
        "ruleId": f.check_id,
        "level": LEVEL[f.severity],
        "message": {"text": f"{f.title}: {f.message}"},
        "locations": [_location(uri, primary)],
        "partialFingerprints": {"appvetoFinding/v1": _fingerprint(rec, f)},
        "properties": {
            "severity": str(f.severity),
            "confidence": str(f.confidence),
            "security-severity": SECURITY_SEVERITY[f.severity],
            "evidence": [_evidence(e) for e in f.evidence],
        },
    }
    if f.check_id in index:
        res["ruleIndex"] = index[f.check_id]
    if f.subject:
        res["properties"]["subject"] = f.subject
    if related:
        res["relatedLocations"] = related
    return res


def _run(rec: ScanRecord, rules: list[dict[str, Any]], index: dict[str, int]) -> dict[str, Any]:
    uri = artifact_uri(rec.file)
    artifact: dict[str, Any] = {
        "location": {"uri": uri},
        "roles": ["analysisTarget"],
        "mimeType": "application/vnd.android.package-archive",
    }
    if rec.size is not None:
        artifact["length"] = rec.size
    if rec.sha256:
        artifact["hashes"] = {"sha-256": rec.sha256, "sha-1": rec.sha1 or "", "md5": rec.md5 or ""}
    notes: list[dict[str, Any]] = []
    if rec.error:
        notes.append(
            {
                "level": "error",
                "message": {"text": rec.error},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri, "index": 0}}}],
            }
        )
    for fail in rec.failures:
        notes.append(
            {
                "level": "error",
                "message": {"text": f"check crashed: {fail.error} at {fail.where}"},
                "associatedRule": {
                    "id": fail.check_id,
                    **({"index": index[fail.check_id]} if fail.check_id in index else {}),
                },
            }
        )
    for p in rec.problems:
        notes.append(
            {
                "level": "warning",
                "message": {
                    "text": f"unreadable {p.part}: {p.message}" + (f" (entry {p.entry})" if p.entry else "")
                },
            }
        )
    invocation: dict[str, Any] = {"executionSuccessful": rec.error is None and not rec.failures}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "appveto",
                "version": rec.appveto_version or __version__,
                "semanticVersion": rec.appveto_version or __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        # one category per APK: GitHub code scanning refuses several runs of one tool in one category
        "automationDetails": {"id": f"appveto/{uri}/"},
        "artifacts": [artifact],
        "invocations": [invocation],
        "results": [_result(rec, f, index, uri) for f in rec.findings],
        "columnKind": "unicodeCodePoints",
    }
    props: dict[str, Any] = {"file": rec.file}
    if rec.package:
        props.update(package=rec.package, versionCode=rec.version_code, versionName=rec.version_name)
    if rec.score is not None:
        props["score"] = rec.score.total
        props["riskLevel"] = str(rec.score.level)
        props["subscores"] = {s.name: s.points for s in rec.score.subscores}
    if rec.coverage is not None:
        props["readableShare"] = rec.coverage.readable_share
        props["auditability"] = str(rec.coverage.auditability)
        props["coverage"] = rec.coverage_summary
    if rec.datasets:
        props["datasets"] = [
            {"name": d.name, "date": d.date, "sha256": d.sha256, "origin": d.origin} for d in rec.datasets
        ]
    if rec.scanned_at:
        props["scannedAt"] = rec.scanned_at
    run["properties"] = props
    return run


def sarif_log(records: Sequence[ScanRecord], *, docs_base: str = DOCS_BASE) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict: one run per record, in input order."""
    checks = all_checks()
    rules = [_rule(c, docs_base) for c in checks]
    index: dict[str, int] = {str(c.id): i for i, c in enumerate(checks)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [_run(r, rules, index) for r in records],
    }


@renderer(
    "scan",
    "sarif",
    description="SARIF 2.1.0, one run per APK",
)
def render_sarif(records: Sequence[ScanRecord], *, docs_base: str = DOCS_BASE) -> str:
    return dumps(sarif_log(records, docs_base=docs_base))
