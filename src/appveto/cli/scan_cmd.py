"""``appveto scan APK... [--format FORMAT] [--fail-on SEVERITY] [--output FILE]`` (the formats
come from the report registry).

Exit codes: 0 done; 1 ``--fail-on`` reached (a finding at or above the severity);
2 an input could not be read at all (each is still reported; it wins over 1).
"""

from __future__ import annotations

import argparse
from typing import Any

SEVERITY_NAMES = ("info", "low", "medium", "high", "critical")


def register(sub: Any) -> None:
    from appveto.cli.report_cmds import add_scan_options
    from appveto.report.registry import choices

    p = sub.add_parser(
        "scan",
        help="read APKs, run the checks and report what they contain",
        description="Read each APK statically (nothing is installed or run), run every check, score it "
        "and report.",
    )
    p.add_argument("apks", nargs="+", metavar="APK", help="APK files to scan")
    p.add_argument(
        "--format",
        choices=choices("scan"),
        default="text",
        help="output format (default text); json follows 'appveto schema scan'",
    )
    p.add_argument(
        "--fail-on",
        choices=SEVERITY_NAMES,
        metavar="SEVERITY",
        help="exit 1 when any finding is at or above SEVERITY (info, low, medium, high, critical)",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=0,
        metavar="N",
        help="scan N files at once on a process pool (default: one per CPU; 1 scans serially)",
    )
    add_scan_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os

    from appveto.cli._io import write_output
    from appveto.cli.report_cmds import knowledge_base, now_of, report_errors
    from appveto.findings import Severity
    from appveto.report.registry import render
    from appveto.scan import scan_many

    workers = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    records = scan_many(args.apks, knowledge_base(args), now=now_of(args), workers=workers)
    write_output(render("scan", args.format, records), args.output, inputs=args.apks)
    if report_errors(records):
        return 2
    if args.fail_on:
        gate = Severity(args.fail_on)
        if any(f.severity.at_least(gate) for r in records for f in r.findings):
            return 1
    return 0
