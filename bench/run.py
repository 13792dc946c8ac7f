"""`make bench`: what users run, side by side with the reference tools, in one run.

1. **Whole processes (the headline).** For every corpus APK over 1 MB
   (``../shared/corpus/apk``): ``appveto scan --format json -o FILE APK`` as a user runs it,
   androguard 4.1.4's ``AnalyzeAPK`` in a fresh Python process (imports included, as
   ``androguard analyze`` would), and APKiD 3.2 (``apkid -j APK``), each on the same file in
   the same run: wall time, CPU time (user + system, the process and the children it
   waited for) and peak resident memory of the whole process tree (sampled every 10 ms, the
   RSS of every process of the tree added up; never below the kernel's ``ru_maxrss``).
2. **The reader alone** (a second, labelled table): appveto's reader (``load_apk``) and
   ``AnalyzeAPK`` timed inside their processes after imports. This is not what a user runs:
   androguard also builds cross-references and decompiler state that a scan does not need.
3. **A large multidex APK** (150,000+ classes built from the corpus's real DEX files): the
   whole ``appveto scan`` process, the reader alone, and plain inflation of its DEX entries.
4. Other benchmarks (checks accuracy, APKiD agreement, fleet) append their own tables.

    python bench/run.py [--corpus DIR] [--min-size BYTES] [--sections headline,reader,multidex,extras]
                        [--min-classes N] [--apkid PATH]

APKiD is GPL-3.0 and runs only as a separate program: when ``apkid`` is not on PATH it is
installed from PyPI into a throw-away virtual environment (``apkid_compare.ensure_apkid``);
if that fails, the table says so and leaves its columns empty.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = Path(os.environ.get("APPVETO_SHARED", REPO.parent / "shared")) / "corpus" / "apk"
PY = sys.executable
APPVETO = str(Path(PY).with_name("appveto"))
SECTIONS = ("headline", "reader", "multidex", "extras")


@dataclass(frozen=True)
class Run:
    """One whole process: wall and CPU seconds, peak RSS of its tree in MiB, its last stdout line."""

    wall: float
    cpu: float
    rss_mb: float
    ok: bool
    out: str
    err: str


def measure(cmd: list[str], timeout: float = 1800) -> Run:
    """Run ``cmd`` as a process; wall, CPU and peak RSS of the process and its children."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        tree = psutil.Process(proc.pid)
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            rss = 0
            try:
                for p in [tree, *tree.children(recursive=True)]:
                    rss += p.memory_info().rss
            except psutil.Error:
                pass  # a process of the tree ended between listing and reading
            peak = max(peak, rss)
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
        err_lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mb=max(peak / 2**20, usage.ru_maxrss / 1024),
        ok=proc.returncode == 0,
        out=lines[-1] if lines else "",
        err=err_lines[-1] if err_lines else f"exit code {proc.returncode}",
    )


def one(tool: str, apk: Path) -> tuple[Run, dict[str, float] | None]:
    """``bench/_one.py TOOL APK`` as a process, and the figures it prints (work time after imports)."""
    run = measure([PY, str(HERE / "_one.py"), tool, str(apk)])
    if not run.ok:
        print(f"    {tool} failed on {apk.name}: {run.err[:120]}")
        return run, None
    figures: dict[str, float] = json.loads(run.out)
    return run, figures


def scan_process(apk: Path, out_dir: Path) -> Run:
    run = measure([APPVETO, "scan", "--format", "json", "-o", str(out_dir / f"{apk.stem}.json"), str(apk)])
    if not run.ok:
        # appveto scan exits 1 for --fail-on only; any other failure is a failure
        print(f"    appveto scan failed on {apk.name}: {run.err[:120]}")
    return run


def apkid_process(exe: str | None, apk: Path) -> Run | None:
    if exe is None:
        return None
    run = measure([exe, "-j", str(apk)])
    if not run.ok:
        print(f"    apkid failed on {apk.name}: {run.err[:120]}")
    return run


def _apkid(explicit: str | None) -> str | None:
    sys.path.insert(0, str(HERE))
    from apkid_compare import ensure_apkid

    try:
        return ensure_apkid(explicit, Path(tempfile.gettempdir()) / "appveto-apkid-venv")
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"APKiD could not be installed from PyPI ({exc}): its columns are empty")
        return None


def _cell(run: Run | None) -> str:
    if run is None or not run.ok:
        return f"{'-':>7} {'-':>7} {'-':>7}"
    return f"{run.wall:7.2f} {run.cpu:7.2f} {run.rss_mb:7.0f}"


def _against(tool: str, ratio: float) -> str:
    """'appveto is 2.0x faster than X' or 'X is 2.0x faster than appveto', never '0.5x faster'."""
    if ratio >= 1:
        return f"appveto scan is {ratio:.1f}x faster than {tool}"
    return f"{tool} is {1 / ratio:.1f}x faster than appveto scan"


def whole_processes(apks: list[Path], apkid: str | None) -> dict[Path, tuple[Run, dict[str, float] | None]]:
    """The headline table; returns androguard's runs for the reader table."""
    print("\n## Whole processes: appveto scan --format json vs androguard AnalyzeAPK vs APKiD\n")
    print("wall and CPU in seconds, peak RSS of the process tree in MiB; x = androguard or APKiD / appveto\n")
    hdr = (
        f"{'apk':34} {'MB':>5} | {'appveto':^23} | {'androguard':^23} | {'APKiD':^23} | "
        f"{'x andro':>7} {'x APKiD':>7}\n"
        f"{'':34} {'':>5} | {'wall':>7} {'cpu':>7} {'RSS':>7} | {'wall':>7} {'cpu':>7} {'RSS':>7} | "
        f"{'wall':>7} {'cpu':>7} {'RSS':>7} | {'wall':>7} {'wall':>7}"
    )
    print(hdr)
    print("-" * len(hdr.splitlines()[0]))
    andro_runs: dict[Path, tuple[Run, dict[str, float] | None]] = {}
    x_andro: list[float] = []
    x_apkid: list[float] = []
    x_andro_cpu: list[float] = []
    with tempfile.TemporaryDirectory(prefix="appveto-bench-") as tmp:
        for apk in apks:
            a = scan_process(apk, Path(tmp))
            g = one("androguard", apk)
            andro_runs[apk] = g
            k = apkid_process(apkid, apk)
            ra = g[0].wall / a.wall if a.ok and g[0].ok else None
            rk = k.wall / a.wall if a.ok and k is not None and k.ok else None
            if ra is not None:
                x_andro.append(ra)
                x_andro_cpu.append(g[0].cpu / max(a.cpu, 1e-6))
            if rk is not None:
                x_apkid.append(rk)
            print(
                f"{apk.name[:34]:34} {apk.stat().st_size / 1e6:5.1f} | {_cell(a)} | {_cell(g[0])} | "
                f"{_cell(k)} | {f'{ra:7.1f}' if ra else '      -'} {f'{rk:7.1f}' if rk else '      -'}",
                flush=True,
            )
    if x_andro:
        print(
            f"\nmedian: appveto scan is {statistics.median(x_andro):.1f}x faster than androguard AnalyzeAPK "
            f"(wall; {statistics.median(x_andro_cpu):.1f}x in CPU)"
            + (f"; {_against('APKiD', statistics.median(x_apkid))} (wall)" if x_apkid else "")
            + f" over {len(x_andro)} APKs, whole processes"
        )
    return andro_runs


def reader_alone(apks: list[Path], andro: dict[Path, tuple[Run, dict[str, float] | None]]) -> None:
    print("\n## The reader alone (not what a user runs): load_apk vs AnalyzeAPK, in-process after imports\n")
    hdr = (
        f"{'apk':34} {'MB':>5} | {'reader s':>8} {'RSS MB':>7} | "
        f"{'AnalyzeAPK s':>12} {'RSS MB':>7} | {'x':>6}"
    )
    print(hdr)
    print("-" * len(hdr))
    ratios = []
    for apk in apks:
        _run, a = one("appveto-read", apk)
        got = andro.get(apk)
        g = got[1] if got else one("androguard", apk)[1]
        if a is None or g is None:
            continue
        r = g["seconds"] / max(a["seconds"], 1e-6)
        ratios.append(r)
        print(
            f"{apk.name[:34]:34} {apk.stat().st_size / 1e6:5.1f} | "
            f"{a['seconds']:8.3f} {a['maxrss_mb']:7.0f} | "
            f"{g['seconds']:12.2f} {g['maxrss_mb']:7.0f} | {r:6.1f}",
            flush=True,
        )
    if ratios:
        print(f"\nmedian: the reader alone is {statistics.median(ratios):.1f}x faster than AnalyzeAPK's work")


def large_multidex(corpus: Path, min_classes: int) -> None:
    sys.path.insert(0, str(HERE))
    from multidex import build_large_multidex

    print(f"\n## Large multidex APK ({min_classes:,}+ classes from the corpus's DEX files)\n")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "large-multidex.apk"
        info = build_large_multidex(out, min_classes=min_classes, corpus=corpus)
        print(f"built {out.name}: {out.stat().st_size / 1e6:.1f} MB, {info}")
        s = scan_process(out, Path(tmp))
        if s.ok:
            print(
                f"appveto scan --format json (whole process): {s.wall:.2f} s wall, {s.cpu:.2f} s CPU, "
                f"{s.rss_mb:.0f} MiB peak RSS"
            )
        run, a = one("appveto-read", out)
        if a:
            print(
                f"appveto reader alone: {a['seconds']:.2f} s in-process, {run.wall:.2f} s as a process, "
                f"{a['maxrss_mb']:.0f} MiB peak RSS"
            )
        # the reader inflates with ISA-L when it is installed: compare with both inflaters
        for tool, label in (("inflate", "zlib"), ("inflate-isal", "ISA-L")):
            _r, f = one(tool, out)
            if a and f:
                print(
                    f"plain inflation of the DEX entries with {label}: {f['seconds']:.2f} s; "
                    f"reader / inflation = {a['seconds'] / max(f['seconds'], 1e-6):.1f}x"
                )


def extra_benches() -> None:
    # the fleet figures come from the layouts real exports have (demo-data --layouts)
    runs = (
        ("checks_accuracy.py",),
        ("apkid_compare.py",),
        ("read_paths.py",),
        ("fleet_bench.py", "--layouts"),
    )
    for script, *options in runs:
        path = HERE / script
        if path.exists():
            print(f"\n## {' '.join((script, *options))}\n", flush=True)
            subprocess.run([PY, str(path), *options], check=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--min-size", type=int, default=1_000_000, help="APKs over this many bytes")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"some of {', '.join(SECTIONS)}")
    ap.add_argument("--min-classes", type=int, default=150_000, help="size of the multidex APK")
    ap.add_argument("--apkid", help="path of an apkid executable (default: PATH, else a throw-away venv)")
    args = ap.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections: {', '.join(sorted(unknown))}")
    load = os.getloadavg()
    print(
        f"appveto bench on {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start"
    )
    apks = sorted(p for p in args.corpus.glob("*.apk") if p.stat().st_size > args.min_size)
    if not apks and ("headline" in sections or "reader" in sections):
        print(f"no APK over {args.min_size} bytes in {args.corpus}: no whole-process or reader table")
    andro: dict[Path, tuple[Run, dict[str, float] | None]] = {}
    if apks and "headline" in sections:
        andro = whole_processes(apks, _apkid(args.apkid))
    if apks and "reader" in sections:
        reader_alone(apks, andro)
    if "multidex" in sections:
        if args.corpus.is_dir():
            large_multidex(args.corpus, args.min_classes)
        else:
            print("no corpus: no large multidex benchmark")
    if "extras" in sections:
        extra_benches()
    load = os.getloadavg()
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
