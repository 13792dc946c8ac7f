"""`make bench`: appveto's reader side by side with androguard on the same APKs, in one run.

For every corpus APK over 1 MB (../shared/corpus/apk) it prints the wall time and peak
RSS of appveto's reader and of androguard 4.1.4's ``AnalyzeAPK``, measured inside one
process (work only, after imports) and as whole processes (start-up included), and the
ratios. Then it builds a multidex APK of at least 150,000 classes from the corpus's real
DEX files and times the reader against plain inflation of its DEX entries.
Other benchmarks (checks, fleet) append their own tables when their scripts exist.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = Path(os.environ.get("APPVETO_SHARED", REPO.parent / "shared")) / "corpus" / "apk"
PY = sys.executable


def one(tool: str, apk: Path, timeout: float = 600) -> dict[str, float] | None:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [PY, str(HERE / "_one.py"), tool, str(apk)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()[-1:] or ["?"]
        print(f"    {tool} failed on {apk.name}: {err[0]}")
        return None
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process"] = wall
    return out


def reader_vs_androguard() -> None:
    apks = sorted(p for p in CORPUS.glob("*.apk") if p.stat().st_size > 1_000_000)
    if not apks:
        print(f"no corpus at {CORPUS}: skipping reader vs androguard")
        return
    print("\n## Reader vs androguard 4.1.4 AnalyzeAPK (corpus APKs > 1 MB)\n")
    hdr = (
        f"{'apk':36} {'MB':>5} | {'appveto s':>9} {'proc s':>7} {'RSS MB':>7} | "
        f"{'androguard s':>12} {'proc s':>7} {'RSS MB':>7} | {'x in-proc':>9} {'x process':>9}"
    )
    print(hdr)
    print("-" * len(hdr))
    inproc, whole = [], []
    for apk in apks:
        a = one("appveto-read", apk)
        g = one("androguard", apk)
        if a is None or g is None:
            continue
        r1 = g["seconds"] / max(a["seconds"], 1e-6)
        r2 = g["process"] / max(a["process"], 1e-6)
        inproc.append(r1)
        whole.append(r2)
        print(
            f"{apk.name[:36]:36} {apk.stat().st_size / 1e6:5.1f} | {a['seconds']:9.3f} {a['process']:7.2f} "
            f"{a['maxrss_mb']:7.0f} | {g['seconds']:12.2f} {g['process']:7.2f} {g['maxrss_mb']:7.0f} | "
            f"{r1:9.1f} {r2:9.1f}"
        )
    if inproc:
        print(
            f"\nmedian speed-up: {statistics.median(inproc):.1f}x in-process (target >= 40x), "
            f"{statistics.median(whole):.1f}x as whole processes (target >= 20x)"
        )


def large_multidex() -> None:
    sys.path.insert(0, str(HERE))
    try:
        from multidex import build_large_multidex  # type: ignore[import-not-found]
    except ImportError as exc:
        print(f"multidex builder unavailable: {exc}")
        return
    if not CORPUS.is_dir():
        print("no corpus: skipping the large multidex benchmark")
        return
    print("\n## Large multidex APK\n")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "large-multidex.apk"
        info = build_large_multidex(out, min_classes=150_000)
        print(f"built {out.name}: {out.stat().st_size / 1e6:.1f} MB, {info}")
        a = one("appveto-read", out)
        if a:
            print(f"appveto reader: {a['seconds']:.2f} s in-process, {a['process']:.2f} s process, "
                  f"{a['maxrss_mb']:.0f} MB peak RSS (targets: <= 10 s, <= 1.5 GB)")
        # the reader inflates with ISA-L when it is installed: compare with both inflaters
        for tool, label in (("inflate", "zlib"), ("inflate-isal", "ISA-L")):
            f = one(tool, out)
            if a and f:
                print(f"plain inflation of the DEX entries with {label}: {f['seconds']:.2f} s; "
                      f"reader / inflation = {a['seconds'] / max(f['seconds'], 1e-6):.1f}x (target <= 5x)")


def extra_benches() -> None:
    for script in ("checks_accuracy.py", "apkid_compare.py", "fleet_bench.py"):
        path = HERE / script
        if path.exists():
            print(f"\n## {script}\n", flush=True)
            subprocess.run([PY, str(path)], check=False)


def main() -> None:
    print(f"appveto bench on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    reader_vs_androguard()
    large_multidex()
    extra_benches()


if __name__ == "__main__":
    main()
