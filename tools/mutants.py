"""`make mutants`: mutation testing (mutmut 3) of the modules where a silent bug costs most.

    python tools/mutants.py [GROUP ...] [--max-children 2] [--work DIR] [--show-survivors]

Each group mutates one module (or a few) and runs a chosen selection of test files, so a
run stays bounded (well under an hour for all groups on 2 cores). A group runs in its own
scratch copy of the repository (``--work``, default ``$TMPDIR/appveto-mutants/<group>``),
where mutmut writes its ``mutants/`` tree and cache: nothing in the repository is touched,
and ``--incremental`` re-tests only the functions that changed. Prints the kill rate per group and the
surviving mutants (``--show-survivors`` prints each one's diff).

Not part of CI: run it before closing an issue that touches these modules. Target: at
least 90% of the mutants of each group killed; each survivor is either covered by a new
test or explained as harmless (an equivalent mutant) in the closing note.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("APPVETO_SHARED", REPO.parent / "shared")).resolve()


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    """Test files (and pytest selection options such as ``-k``) run against each mutant."""


GOLDEN_SCANS = ("tests/report/test_golden.py::test_fresh_scan_equals_the_frozen_one",)

GROUPS: dict[str, Group] = {
    "reader": Group(
        ("src/appveto/apk/_reader.py",), ("tests/apk/test_bounds.py", "tests/apk/test_signing.py")
    ),
    "archive": Group(
        ("src/appveto/archive.py",),
        # left out: the fuzz tests (hundreds of examples per mutant) and the 80 corpus cases of
        # test_archive.py (each mutant would re-read the whole corpus)
        ("tests/apk/test_archive.py", "tests/apk/test_bounds.py", "-k", "not corpus"),
    ),
    # the checks and scoring are also judged by the goldens: a fresh scan of three corpus APKs
    # must equal the reviewed one (tests/report/golden)
    "perm": Group(
        ("src/appveto/checks/perm.py",),
        (
            "tests/checks/test_checks.py",
            "tests/checks/test_perm_stated.py",
            "tests/checks/test_corpus.py",
            *GOLDEN_SCANS,
        ),
    ),
    "coverage": Group(("src/appveto/checks/coverage.py",), ("tests/checks/test_coverage.py", *GOLDEN_SCANS)),
    "scoring": Group(
        ("src/appveto/scoring.py",),
        ("tests/test_scoring.py", "tests/test_scoring_stated.py", *GOLDEN_SCANS),
    ),
    "evaluate": Group(("src/appveto/compliance/evaluate.py",), ("tests/compliance/test_evaluate.py",)),
    # the one writer and the escapers (tests/outputs holds their unit tests with stated values)
    "files": Group(("src/appveto/outputs/files.py",), ("tests/outputs/test_files.py",)),
    "escapers": Group(
        tuple(
            f"src/appveto/outputs/{m}.py" for m in ("terminal", "csvcells", "htmltext", "mail", "markdown")
        ),
        ("tests/outputs/test_escapers.py",),
    ),
}

STATUS = re.compile(r"^\s*(\S+): (\w[\w ]*)$")


def _copy(dest: Path) -> None:
    """The tracked files the tests need (src, tests, examples, pyproject), refreshed in place."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "src", "tests", "examples", "pyproject.toml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for rel in files:
        src, dst = REPO / rel, dest / rel
        if src.is_symlink():  # examples/policies -> the package's copy, kept as a link
            if not dst.is_symlink() or dst.readlink() != src.readlink():
                if dst.is_dir() and not dst.is_symlink():  # a copy of an older layout
                    shutil.rmtree(dst)
                elif dst.exists() or dst.is_symlink():
                    dst.unlink()
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.symlink_to(src.readlink())
            continue
        if not src.is_file():
            continue
        if dst.exists() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _config(group: Group) -> str:
    def toml_list(items: tuple[str, ...] | list[str]) -> str:
        return "[" + ", ".join(f'"{x}"' for x in items) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {toml_list(group.modules)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(group.tests)}\n"
        f"pytest_add_cli_args = {toml_list(['-p', 'no:cacheprovider', '-q', '-o', 'addopts='])}\n"
        'also_copy = ["examples"]\n'
    )


def run_group(
    name: str, group: Group, work: Path, max_children: int, show: bool, incremental: bool, run: bool = True
) -> tuple[int, int]:
    dest = work / name
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    env = {**os.environ, "APPVETO_SHARED": str(SHARED), "PYTHONDONTWRITEBYTECODE": "1"}
    secs = 0.0
    if run:
        secs = _mutate(name, group, dest, mutmut, env, max_children, incremental)
    return _report(name, dest, mutmut, env, secs, show)


def _mutate(
    name: str,
    group: Group,
    dest: Path,
    mutmut: str,
    env: dict[str, str],
    max_children: int,
    incremental: bool,
) -> float:
    if not incremental:
        # mutmut keeps a mutant's result while its function is unchanged, even when the tests
        # changed: start from nothing so that every mutant meets the current tests
        shutil.rmtree(dest / "mutants", ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    _copy(dest)
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    (dest / "pyproject.toml").write_text(pyproject + _config(group), encoding="utf-8")
    t0 = time.perf_counter()
    with (dest / "mutmut-run.log").open("wb") as log:
        done = subprocess.run(
            [mutmut, "run", "--max-children", str(max_children)],
            cwd=dest,
            env=env,
            check=False,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if done.returncode:
        print(f"{name}: mutmut run exited with {done.returncode}; see {dest / 'mutmut-run.log'}")
    return time.perf_counter() - t0


def _report(
    name: str, dest: Path, mutmut: str, env: dict[str, str], secs: float, show: bool
) -> tuple[int, int]:
    out = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=dest, env=env, capture_output=True, text=True, check=False
    ).stdout
    statuses: dict[str, str] = {}
    for line in out.splitlines():
        m = STATUS.match(line)
        if m:
            statuses[m.group(1)] = m.group(2)
    counts: dict[str, int] = {}
    for s in statuses.values():
        counts[s] = counts.get(s, 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    unchecked = counts.get("not checked", 0)
    total = len(statuses) - unchecked  # an interrupted run: the rate of the mutants it tested
    rate = 100 * killed / total if total else 0.0
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(
        f"{name:10} {killed:5} of {total:5} killed ({rate:5.1f}%)  [{summary}]  {secs / 60:.1f} min",
        flush=True,
    )
    for mutant, s in sorted(statuses.items()):
        if s not in ("killed", "timeout", "not checked"):
            print(f"    {s:12} {mutant}")
            if show:
                diff = subprocess.run(
                    [mutmut, "show", mutant], cwd=dest, env=env, capture_output=True, text=True, check=False
                ).stdout
                print("        " + "\n        ".join(diff.strip().splitlines()[2:]))
    return killed, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("groups", nargs="*", choices=[*GROUPS, []], help="default: all")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "appveto-mutants")
    ap.add_argument("--show-survivors", action="store_true", help="print each surviving mutant's diff")
    ap.add_argument("--report", action="store_true", help="print the results of the last runs, run nothing")
    ap.add_argument(
        "--incremental",
        action="store_true",
        help="keep mutmut's earlier results of unchanged functions (faster; stale when only tests changed)",
    )
    args = ap.parse_args(argv)
    names = args.groups or list(GROUPS)
    print(f"mutmut on {', '.join(names)} (scratch copies under {args.work})", flush=True)
    total_killed = total = 0
    for name in names:
        k, t = run_group(
            name,
            GROUPS[name],
            args.work,
            args.max_children,
            args.show_survivors,
            args.incremental,
            run=not args.report,
        )
        total_killed += k
        total += t
    if total:
        print(f"{'all':10} {total_killed:5} of {total:5} killed ({100 * total_killed / total:5.1f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
