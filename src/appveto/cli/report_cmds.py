"""``appveto compare``, ``appveto diff`` and ``appveto schema``, and the options they
share with ``scan`` (``--now``, ``--data-dir``, ``--baseline-data``, ``--fail-on``).

``compare`` and ``diff`` take APK files or scan documents saved with
``appveto scan --format json`` (a document may hold several apps).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appveto.kb.model import KnowledgeBase
    from appveto.scan.record import ScanRecord

SEVERITY_NAMES = ("info", "low", "medium", "high", "critical")


def parse_now(value: str) -> datetime:
    """``2026-11-29`` or ``2026-11-29T10:00:00[+01:00]``; a naive value is UTC."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not an ISO-8601 date or date-time") from None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def add_scan_options(p: argparse.ArgumentParser) -> None:
    """Options of every command that scans APKs."""
    p.add_argument(
        "--at",
        "--now",
        dest="now",
        type=parse_now,
        metavar="DATE",
        help="the date the scan is made at (ISO-8601; default now): the same input and --at give "
        "byte-identical JSON, SARIF and text",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data-dir", metavar="DIR", help="reference data folder (default: appveto's data dir)")
    g.add_argument(
        "--baseline-data",
        action="store_true",
        help="use only the reference data that ships with appveto (ignore 'appveto data update')",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")


def now_of(args: argparse.Namespace) -> datetime:
    now: datetime | None = getattr(args, "now", None)
    return now if now is not None else datetime.now(UTC).replace(microsecond=0)


def knowledge_base(args: argparse.Namespace) -> KnowledgeBase:
    from pathlib import Path

    from appveto.kb.load import load_kb

    if getattr(args, "baseline_data", False):
        return load_kb(use_downloaded=False)
    data_dir = getattr(args, "data_dir", None)
    if data_dir:
        from appveto.errors import KnowledgeBaseError

        if not Path(data_dir).is_dir():
            raise KnowledgeBaseError(f"{data_dir}: --data-dir is not a folder (run 'appveto data update')")
    return load_kb(Path(data_dir) if data_dir else None)


def report_errors(records: tuple[ScanRecord, ...] | list[ScanRecord]) -> int:
    """Print each unreadable input; the number of them."""
    import sys

    from appveto.cli._io import printable

    bad = [r for r in records if r.error is not None]
    for r in bad:
        for line in (r.error or "").splitlines():
            sys.stderr.write(f"appveto: error: {printable(line)}\n")
    return len(bad)


def _is_document(path: str) -> bool:
    import os
    import stat

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False  # a FIFO or device is never opened here (the reader refuses it)
    except OSError:
        return False
    if path.lower().endswith(".json"):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def load_inputs(paths: list[str], args: argparse.Namespace) -> list[ScanRecord]:
    """APKs are scanned; saved scan documents are read back (their records in order)."""
    from appveto.report.json_report import load_document
    from appveto.scan import scan_apk

    kb: KnowledgeBase | None = None
    out: list[ScanRecord] = []
    for path in paths:
        if _is_document(path):
            out.extend(load_document(path).results)
            continue
        if kb is None:
            kb = knowledge_base(args)
        out.append(scan_apk(path, kb, now=now_of(args)))
    return out


# -------------------------------------------------------------- register


def register(sub: Any) -> None:
    from appveto.report.registry import choices

    c = sub.add_parser(
        "compare",
        help="apps side by side: score, permissions, trackers, endpoints, auditability, signer",
        description="Compare apps side by side on every dimension. Inputs are APKs or JSON documents "
        "written by 'appveto scan --format json'.",
    )
    c.add_argument("inputs", nargs="+", metavar="APK|JSON", help="two or more apps")
    c.add_argument(
        "--format", choices=choices("compare"), default="text", help="output format (default text)"
    )
    add_scan_options(c)
    c.set_defaults(handler=run_compare)

    d = sub.add_parser(
        "diff",
        help="what an update changed: permissions, trackers, endpoints, signer, auditability, score",
        description="What changed from OLD to NEW (APKs or single-app scan documents). Exit 1 when "
        "--fail-on is reached, 2 when an input cannot be read.",
    )
    d.add_argument("old", metavar="OLD", help="the APK before (e.g. the version in use)")
    d.add_argument("new", metavar="NEW", help="the APK after (e.g. the update to vet)")
    d.add_argument("--format", choices=choices("diff"), default="text", help="output format (default text)")
    d.add_argument(
        "--fail-on",
        metavar="SEVERITY|SCORE",
        help="exit 1 when a change is at or above SEVERITY (info..critical), or, given a number, when "
        "the update raises the score above it",
    )
    add_scan_options(d)
    d.set_defaults(handler=run_diff)

    s = sub.add_parser(
        "schema",
        help="print the JSON Schema of an output document",
        description="Print the JSON Schema (draft 2020-12) that appveto's JSON output follows.",
    )
    s.add_argument(
        "document",
        choices=("scan", "policy"),
        help="scan: the document of 'appveto scan --format json'; policy: a ban decision or authorities file",
    )
    s.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    s.set_defaults(handler=run_schema)


def run_schema(args: argparse.Namespace) -> int:
    from appveto.cli._io import write_output

    if args.document == "policy":
        import json

        from appveto.policy.schema import policy_json_schema

        write_output(json.dumps(policy_json_schema(), indent=2, sort_keys=True), args.output)
        return 0
    from appveto.report.json_report import render_schema

    write_output(render_schema(), args.output)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from appveto.cli._io import write_output
    from appveto.errors import AppvetoError
    from appveto.report.compare import compare_records
    from appveto.report.registry import render

    records = load_inputs(args.inputs, args)
    if len(records) < 2:
        raise AppvetoError("compare needs at least two apps (APKs, or scan documents holding them)")
    comparison = compare_records(records)
    write_output(render("compare", args.format, comparison), args.output, inputs=args.inputs)
    return 2 if report_errors(records) else 0


def _single(path: str, records: list[ScanRecord]) -> ScanRecord:
    from appveto.errors import AppvetoError

    if len(records) != 1:
        raise AppvetoError(f"{path}: holds {len(records)} apps; diff needs exactly one per side")
    return records[0]


def _gate(value: str) -> tuple[str, float | None]:
    from appveto.errors import AppvetoError

    if value.lower() in SEVERITY_NAMES:
        return value.lower(), None
    try:
        return "", float(value)
    except ValueError:
        raise AppvetoError(
            f"--fail-on {value!r}: give a severity ({', '.join(SEVERITY_NAMES)}) or a score (0-100)"
        ) from None


def run_diff(args: argparse.Namespace) -> int:
    from appveto.cli._io import write_output
    from appveto.findings import Severity
    from appveto.report.diff import diff_records
    from appveto.report.registry import render

    gate = _gate(args.fail_on) if args.fail_on else None
    old = _single(args.old, load_inputs([args.old], args))
    new = _single(args.new, load_inputs([args.new], args))
    if report_errors([old, new]):
        return 2
    d = diff_records(old, new)
    write_output(render("diff", args.format, d), args.output, inputs=[args.old, args.new])
    if gate is None:
        return 0
    sev, threshold = gate
    if threshold is not None:
        return 1 if d.score is not None and d.score.new > threshold and d.score.delta > 0 else 0
    return 1 if d.reaches(Severity(sev)) else 0
