"""``appveto scan APK... [--format text|json] [--output FILE]``."""

from __future__ import annotations

import argparse
import json
from typing import Any

SCHEMA_VERSION = "1.0"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "scan",
        help="read APKs and report what they contain",
        description="Read each APK statically (nothing is installed or run) and report its facts.",
    )
    p.add_argument("apks", nargs="+", metavar="APK", help="APK files to scan")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=run)


def scan_one(path: str) -> dict[str, Any]:
    """Facts of one APK; an unreadable input becomes a result with ``error`` set."""
    from appveto.apk import load_apk
    from appveto.errors import AppvetoError
    from appveto.report.facts import apk_facts, error_facts

    try:
        apk = load_apk(path)
    except AppvetoError as exc:
        return error_facts(path, str(exc))
    except OSError as exc:
        return error_facts(path, f"{path}: {exc.strerror or exc}")
    return apk_facts(apk, file=path)


def run(args: argparse.Namespace) -> int:
    import sys

    from appveto.cli._io import write_output

    results = [scan_one(p) for p in args.apks]
    if args.format == "json":
        doc = {"schema_version": SCHEMA_VERSION, "results": results}
        text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False)
    else:
        from appveto.report.text import render_facts_text

        text = render_facts_text(results)
    write_output(text, args.output, inputs=args.apks)
    failed = [r for r in results if r.get("error")]
    for r in failed:
        sys.stderr.write(f"appveto: error: {r['error']}\n")
    return 2 if failed else 0
