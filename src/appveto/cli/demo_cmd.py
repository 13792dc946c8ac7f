"""``appveto demo``: the whole cycle end to end on the embedded default (SQLite).

It is a thin script over the other commands, run in this process, so that what the
demo shows is exactly what a user gets: vet (scan, compare, reports), decide (policy
check, timeline), monitor (synthetic directory and MDM exports imported, evaluated,
impact of a draft, notices) and enforce (every export target). Every step writes into
the output folder, which must not exist yet (nothing of the user's is overwritten).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_APKS = (
    "exodus-instapaper-trackers.apk",
    "dendroid-rat-original.apk",
    "dendroid-rat-dexguarded.apk",
    "fdroid-souch-smsbypass.apk",
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole cycle end to end on a new workspace (scan, policies, fleet, export)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        type=Path,
        default=Path("demo-out"),
        help="folder to create for everything the demo writes (default demo-out)",
    )
    p.add_argument(
        "--policies",
        metavar="DIR",
        type=Path,
        default=Path("examples/policies"),
        help="policy library to start from (default examples/policies)",
    )
    p.add_argument(
        "--apks",
        metavar="DIR",
        type=Path,
        help="folder of APKs to vet (default: ../shared/corpus/apk when present)",
    )
    p.add_argument("--people", type=int, default=5000, help="size of the synthetic administration")
    p.add_argument("--at", default="2023-04-15", help="the date the demo runs at (default 2023-04-15)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appveto.cli.main import main
    from appveto.errors import AppvetoError
    from appveto.outputs.files import OutputFolder
    from appveto.outputs.terminal import line as printable

    out: Path = args.output
    if out.exists():
        raise AppvetoError(
            f"{out}: already exists; the demo writes into a new folder (remove it or pick another)"
        )
    if not (args.policies / "authorities.yaml").exists() and not any(args.policies.glob("*.yaml")):
        raise AppvetoError(
            f"{args.policies}: no policy files here (run from the repository, or give --policies)"
        )
    OutputFolder(out, empty=True).close()  # created here; a link is refused
    ws = out / "workspace"
    reports = out / "reports"
    at = args.at
    failures: list[str] = []

    def step(title: str, argv: list[str], *, ok: Callable[[int], bool] = lambda c: c in (0, 1)) -> None:
        if title:
            sys.stdout.write(f"\n{printable(f'== {title}')}\n")
        sys.stdout.write(printable(f"$ appveto {' '.join(argv)}") + "\n")  # file names from the user
        sys.stdout.flush()
        code = main(argv)
        if not ok(code):
            failures.append(f"{title} (exit {code})")

    # Decide -------------------------------------------------------------------------
    step("Create the workspace (SQLite store)", ["init", str(ws)])
    with OutputFolder(ws / "policies") as policy_folder:  # the one writer
        for f in sorted(args.policies.glob("*.yaml")):
            policy_folder.write(f.name, f.read_bytes())
    pol = str(ws / "policies")
    step("Check the policy library", ["policy", "check", pol])
    step(
        "Deadlines, expiries and renewals due in the next 120 days",
        ["policy", "timeline", pol, "--from", at, "--days", "120"],
    )

    # Vet ----------------------------------------------------------------------------
    apk_dir = args.apks or (Path("..") / "shared" / "corpus" / "apk")
    apks = [str(apk_dir / n) for n in DEFAULT_APKS if (apk_dir / n).exists()]
    if not apks and apk_dir.is_dir():
        apks = [str(p) for p in sorted(apk_dir.glob("*.apk"))[:4]]
    if apks:
        now = f"{at}T12:00:00Z"
        step(
            "Vet the apps (JSON for pipelines)",
            ["scan", "--now", now, "--format", "json", "-o", str(reports / "scan.json"), *apks],
        )
        step(
            "Vet the apps (HTML report for the decision file)",
            ["scan", "--now", now, "--format", "html", "-o", str(reports / "scan.html"), *apks],
        )
        step(
            "Compare the apps side by side",
            ["compare", "--now", now, "--format", "html", "-o", str(reports / "compare.html"), *apks],
        )
        if len(apks) >= 3:
            step("What the obfuscated build changed", ["diff", "--now", now, apks[1], apks[2]])
    else:
        sys.stdout.write(
            "\n"
            + printable(f"== Vet: no APKs found in {apk_dir} (give --apks DIR); skipping the scans")
            + "\n"
        )

    # Monitor ------------------------------------------------------------------------
    _fleet_steps(step, ws, out, pol, at, args.people)

    # Enforce ------------------------------------------------------------------------
    step(
        "Enforcement artifacts for every decision",
        ["export", "all", "--policies", pol, "--at", at, "--output", str(out / "enforce")],
    )

    sys.stdout.write("\n" + printable(f"== Done: everything is in {out}/") + "\n")
    if failures:
        sys.stdout.write("steps that failed:\n" + "".join(printable(f"  - {f}") + "\n" for f in failures))
        return 2
    return 0


def _fleet_steps(step: Callable[..., None], ws: Path, out: Path, pol: str, at: str, people: int) -> None:
    """Synthetic administration -> directory and inventory imports -> evaluation -> notices."""
    import json

    exports = out / "fleet-exports"
    reports = out / "reports"
    w = ["-w", str(ws)]
    step(
        f"A synthetic administration of {people} people, in real MDM export formats",
        ["demo-data", str(exports), "--people", str(people), "--at", at],
    )
    step("Import the staff directory", ["directory", "import", str(exports / "directory.json"), *w])
    sources = (("amapi", "amapi-*.json"), ("apple", "apple-*.plist"), ("intune-csv", "intune-*.csv"))
    for source, pattern in sources:
        files = [str(f) for f in sorted(exports.glob(pattern))]
        if files:
            step(
                f"Import the {source} inventory as a dated snapshot",
                ["fleet", "import", "--source", source, "--at", at, *w, *files],
            )
    step("Evaluate the fleet against the decisions in force", ["fleet", "evaluate", "--at", at, *w])
    evaluation = reports / "compliance.json"
    step(
        "The same evaluation as JSON and HTML",
        ["fleet", "evaluate", "--at", at, *w, "--format", "json", "-o", str(evaluation)],
    )
    step(
        "", ["fleet", "evaluate", "--at", at, *w, "--format", "html", "-o", str(reports / "compliance.html")]
    )
    draft = Path(pol) / "be-brussels-parliament-tiktok.yaml"
    if draft.exists():
        step(
            "Impact of the Brussels parliament decision, as if it were a draft",
            ["fleet", "impact", str(draft), "--at", at, *w, "--list", "10"],
        )
    if evaluation.exists():
        people_rows = json.loads(evaluation.read_text(encoding="utf-8")).get("people", [])
        first = next((p["person"] for p in people_rows if p.get("status") in ("violation", "overdue")), None)
        if first is not None:
            step(
                f"Why person {first} is concerned, step by step",
                ["fleet", "explain", "--person", first, "--at", at, *w],
            )
    step(
        "One notice per affected person (Markdown and .eml)",
        ["fleet", "notices", "--at", at, *w, "-o", str(out / "notices")],
    )
