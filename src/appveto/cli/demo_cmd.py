"""``appveto demo``: the whole cycle end to end on the embedded default (SQLite).

It is a thin script over the other commands, run in this process, so that what the
demo shows is exactly what a user gets: vet (scan, compare, reports), decide (policy
check, timeline), monitor (synthetic directory and MDM exports imported, evaluated,
impact of a draft, notices) and enforce (every export target). Every step writes into
the output folder, which must not exist yet (nothing of the user's is overwritten).
It needs nothing but the installed package: the sample apps are built on the spot
(:mod:`appveto.demo.samples`) and the example policies ship inside the package.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

DESCRIPTION = """\
Run the whole cycle end to end on a new workspace, with nothing else installed: build
four sample apps (a clean app, its obfuscated build, a tracker-laden flashlight and a
packed loader) and vet them, check the example policy library, generate a synthetic
administration in real MDM export formats, import and evaluate it, and write every
enforcement artifact. Everything goes into the output folder, which must not exist yet.
"""

OPEN_FIRST = (
    ("reports/scan.html", "what each app does and why it scores as it does"),
    ("reports/compliance.html", "who runs a banned app, per authority and unit"),
    ("enforce/README.md", "the MDM payloads and DNS blocklists, and how to deploy them"),
)
"""The three files the demo names at the end, to open first."""


def example_policies() -> Traversable:
    """The example policy library shipped in the package (``examples/policies`` in the repository)."""
    return files("appveto.demo") / "policies"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole cycle end to end on a new workspace (scan, policies, fleet, export)",
        description=DESCRIPTION,
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
        help="policy library to start from (default: the example policies shipped with appveto)",
    )
    p.add_argument(
        "--apks",
        metavar="DIR",
        type=Path,
        help="folder of APKs to vet instead of the four sample apps the demo builds",
    )
    p.add_argument("--people", type=int, default=5000, help="size of the synthetic administration")
    p.add_argument(
        "--at",
        "--now",
        dest="at",
        default="2023-04-15",
        help="the date the demo runs at (default 2023-04-15)",
    )
    p.set_defaults(handler=run)


def _yaml_files(folder: Traversable) -> list[Traversable]:
    return sorted(
        (f for f in folder.iterdir() if f.name.endswith(".yaml") and f.is_file()), key=lambda f: f.name
    )


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
    library: Traversable = args.policies if args.policies is not None else example_policies()
    if not library.is_dir() or not _yaml_files(library):
        shown = args.policies if args.policies is not None else "the packaged example policies"
        raise AppvetoError(f"{shown}: no policy files (*.yaml) here")
    OutputFolder(out, empty=True).close()  # created here; a link is refused
    ws = out / "workspace"
    reports = out / "reports"
    at = args.at
    failures: list[str] = []

    def say(text: str) -> None:
        sys.stdout.write(printable(text) + "\n")

    def step(title: str, argv: list[str], *, ok: Callable[[int], bool] = lambda c: c in (0, 1)) -> None:
        if title:
            sys.stdout.write("\n")
            say(f"== {title}")
        say(f"$ appveto {' '.join(argv)}")  # file names from the user
        sys.stdout.flush()
        code = main(argv)
        if not ok(code):
            failures.append(f"{title} (exit {code})")

    # Decide -------------------------------------------------------------------------
    step("Create the workspace (SQLite store)", ["init", str(ws)])
    with OutputFolder(ws / "policies") as policy_folder:  # the one writer
        for f in _yaml_files(library):
            policy_folder.write(f.name, f.read_bytes())
    pol = str(ws / "policies")
    step("Check the policy library", ["policy", "check", pol])
    step(
        "Deadlines, expiries and renewals due in the next 120 days",
        ["policy", "timeline", pol, "--from", at, "--days", "120"],
    )

    # Vet ----------------------------------------------------------------------------
    if args.apks is not None:
        apks = [str(p) for p in sorted(args.apks.glob("*.apk"))[:4]]
        pair = apks[1:3] if len(apks) >= 3 else []
        if not apks:
            sys.stdout.write("\n")
            say(f"== Vet: no *.apk in {args.apks}; skipping the scans")
    else:
        apks = _build_samples(out / "apks", say)
        pair = apks[:2]  # the notes app and its obfuscated build
    if apks:
        now = f"{at}T12:00:00Z"
        step(
            "Vet the apps (JSON for pipelines)",
            ["scan", "--at", now, "--format", "json", "-o", str(reports / "scan.json"), *apks],
        )
        step(
            "Vet the apps (HTML report for the decision file)",
            ["scan", "--at", now, "--format", "html", "-o", str(reports / "scan.html"), *apks],
        )
        step(
            "Compare the apps side by side",
            ["compare", "--at", now, "--format", "html", "-o", str(reports / "compare.html"), *apks],
        )
        if pair:
            step("What the obfuscated build changed", ["diff", "--at", now, *pair])

    # Monitor ------------------------------------------------------------------------
    _fleet_steps(step, ws, out, pol, at, args.people)

    # Enforce ------------------------------------------------------------------------
    step(
        "Enforcement artifacts for every decision",
        ["export", "all", "--policies", pol, "--at", at, "--output", str(out / "enforce")],
    )

    sys.stdout.write("\n")
    say(f"== Done: everything is in {out}/")
    _open_first(out, say)
    if failures:
        sys.stdout.write("steps that failed:\n" + "".join(printable(f"  - {f}") + "\n" for f in failures))
        return 2
    return 0


def _build_samples(folder: Path, say: Callable[[str], None]) -> list[str]:
    """Build the four sample apps into ``folder`` (through the one writer); their paths."""
    from appveto.demo.samples import build_samples
    from appveto.outputs.files import OutputFolder

    sys.stdout.write("\n")
    say(f"== Build four sample apps into {folder}/ (no APK needed from elsewhere)")
    samples = build_samples()
    with OutputFolder(folder) as apk_folder:
        for sample in samples:
            apk_folder.write(sample.file_name, sample.data)
            say(f"   {sample.file_name}: {sample.about}")
    return [str(folder / s.file_name) for s in samples]


def _open_first(out: Path, say: Callable[[str], None]) -> None:
    shown: Iterable[tuple[str, str]] = ((f, why) for f, why in OPEN_FIRST if (out / f).exists())
    lines = [f"   {out / f}  ({why})" for f, why in shown]
    if lines:
        say("Open these first:")
        for text in lines:
            say(text)


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
