"""Every mode of every benchmark script runs, on tiny inputs, in a few seconds each.

The figures are not checked (they depend on the machine): that each script runs to its end,
prints the tables it promises and measures what it says it measures (whole processes, the
reader alone, worker processes) is. The reference tools are the real ones: androguard from
the dev dependencies, APKiD from PyPI (``.ci/run`` installs it), PostgreSQL for the fleet.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.apkbuilder import ApkSpec, ClassSpec, MethodSpec, build_apk
from tests.conftest import REPO, require_postgres, require_shared, require_tool

BENCH = REPO / "bench"
TIMEOUT = 300


def _apkid() -> str:
    """apkid on PATH, else the throw-away venv bench/apkid_compare.py installs it into (which
    .ci/run creates), else skip (fail in CI)."""
    venv = Path(tempfile.gettempdir()) / "appveto-apkid-venv" / "bin" / "apkid"
    found = shutil.which("apkid") or (str(venv) if venv.exists() else None)
    return found or require_tool("apkid")


def _run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False, cwd=REPO
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus folder of one small signed APK with two classes and a method reference."""
    folder = tmp_path_factory.mktemp("bench-corpus")
    main = "Lorg/example/bench/Main;"
    spec = ApkSpec(
        package="org.example.bench",
        classes=(
            ClassSpec(main, methods=(MethodSpec("Ljava/lang/String;", "length", "()I"),), strings=("x",)),
            ClassSpec("Lorg/example/bench/Other;"),
        ),
    )
    (folder / "bench.apk").write_bytes(build_apk(spec))
    return folder


@pytest.mark.parametrize("tool", ["appveto-read", "appveto-scan", "androguard", "inflate", "inflate-isal"])
def test_one_tool_on_one_apk(tool: str, corpus: Path) -> None:
    figures = json.loads(_run(str(BENCH / "_one.py"), tool, str(corpus / "bench.apk")).splitlines()[-1])
    assert figures["seconds"] >= 0 and figures["maxrss_mb"] > 0
    assert figures["n"] > 0  # classes, findings or inflated bytes: the tool did its work


def test_run_prints_the_whole_process_table_first(corpus: Path) -> None:
    apkid = _apkid()
    out = _run(
        str(BENCH / "run.py"),
        "--corpus",
        str(corpus),
        "--min-size",
        "0",
        "--sections",
        "headline,reader,multidex",
        "--min-classes",
        "2",
        "--apkid",
        apkid,
    )
    titles = [line for line in out.splitlines() if line.startswith("## ")]
    assert titles[0].startswith("## Whole processes: appveto scan --format json vs androguard")
    assert titles[1].startswith("## The reader alone")
    assert titles[2].startswith("## Large multidex APK")
    row = next(line for line in out.splitlines() if line.startswith("bench.apk"))
    assert row.count(" - ") == 0, row  # every tool measured: appveto, androguard and APKiD
    assert "median: appveto scan is" in out
    assert "than APKiD (wall)" in out or "than appveto scan (wall)" in out
    assert "appveto scan --format json (whole process)" in out
    assert "plain inflation of the DEX entries with ISA-L" in out


def test_run_without_a_corpus_says_so(tmp_path: Path) -> None:
    out = _run(str(BENCH / "run.py"), "--corpus", str(tmp_path / "none"), "--sections", "headline,multidex")
    assert "no APK over" in out and "no corpus" in out


def test_multidex_builds_and_measures(corpus: Path) -> None:
    out = _run(str(BENCH / "multidex.py"), "--corpus", str(corpus), "--min-classes", "3", "--repeat", "1")
    assert "built large-multidex.apk" in out and "load_apk (whole reader)" in out


def test_apkid_comparison_reports_recall_precision_and_what_it_leaves_out(corpus: Path) -> None:
    out = _run(str(BENCH / "apkid_compare.py"), "--corpus", str(corpus), "--apkid", _apkid())
    assert "recall against APKiD" in out and "precision against APKiD" in out
    assert "generic APKiD names" in out


def test_fleet_bench_counts_workers_and_evaluates_as_the_cli(tmp_path: Path) -> None:
    pg = require_postgres().replace("postgresql+psycopg://", "postgresql://")
    out = _run(
        str(BENCH / "fleet_bench.py"),
        "--devices",
        "40",
        "--apps",
        "2",
        "--backends",
        "sqlite,postgresql",
        "--pg",
        pg,
        "--jobs",
        "2",
        "--keep",
        str(tmp_path),
    )
    for backend in ("sqlite", "postgresql"):
        assert f"{backend:10} import" in out and f"{backend:10} evaluate" in out
    assert "with its workers" in out and "as the CLI runs it" in out


def test_ipa_bench_reads_ipas_and_apks_of_a_tiny_corpus(corpus: Path, tmp_path: Path) -> None:
    """ipa_bench.py on a corpus of one APK and the smallest real IPA (its synthetic IPA is then
    sized like that APK), and its --one mode."""
    require_tool("llvm-mc")  # the synthetic IPA is linked as tests/ipabuilder.py links it
    if shutil.which("ld64.lld") is None:
        require_tool("ld64.lld-14")
    ipa = min(
        (p for p in require_shared("corpus/ipa").glob("*.ipa") if p.name != "fastlane-not-an-ipa.ipa"),
        key=lambda p: p.stat().st_size,
    )
    shared = tmp_path / "shared"
    (shared / "corpus" / "apk").mkdir(parents=True)
    (shared / "corpus" / "ipa").mkdir(parents=True)
    shutil.copy(corpus / "bench.apk", shared / "corpus" / "apk")
    shutil.copy(ipa, shared / "corpus" / "ipa")
    proc = subprocess.run(
        [sys.executable, str(BENCH / "ipa_bench.py"), "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        cwd=REPO,
        env={**os.environ, "APPVETO_SHARED": str(shared)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    kinds = [line.split()[:2] for line in proc.stdout.splitlines()[1:]]
    assert kinds == [["ipa", ipa.name], ["ipa", "synthetic.ipa"], ["apk", "bench.apk"]]
    figures = json.loads(_run(str(BENCH / "ipa_bench.py"), "--one", "apk", str(corpus / "bench.apk")))
    assert figures["items"] > 0


def test_hidden_code_table_prints_one_row_per_apk(corpus: Path) -> None:
    out = _run(str(BENCH / "hidden_code.py"), "--corpus", str(corpus))
    header, *rows = out.strip().splitlines()
    assert header.startswith("apk\tkind\tloaders\tdecoded payloads")
    assert [r.split("\t")[0] for r in rows] == ["bench.apk"]
    assert rows[0].split("\t")[6] == "readable"
