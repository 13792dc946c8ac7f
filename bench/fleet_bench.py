"""Fleet benchmark: import throughput, evaluation time and peak memory, SQLite and PostgreSQL.

    python bench/fleet_bench.py [--devices 300000] [--apps 60] [--backends sqlite,postgresql]
                                [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--keep DIR]
                                [--reuse] [--jobs 0] [--layouts]

Generates a synthetic fleet (``appveto.fleet.generator``: Android Management API JSON,
Apple MDM plists and Intune CSV in the real export formats, plus a directory), imports it
into a fresh store on each backend, evaluates the example policies (``examples/policies``)
on the snapshot's day as ``appveto fleet evaluate`` does by default (with the changes since
the previous snapshot; the time without them follows), and prints one line per phase. Each
phase runs in its own process; the peak resident memory it prints is that of the phase's
process and its worker processes together (sampled every 20 ms), the importing process's
own peak beside it.

``--layouts`` writes the files in the layouts real exports come in (``demo-data
--layouts``: pretty and compact JSON, CRLF, entities, byte-order marks, binary plists,
names with commas and quotes) and imports each (source, layout) as its own snapshot, so
the import figures come per format and layout.

Targets (issue 6), on the 2-core reference machine with SQLite: import >= 300,000 rows/s,
a full evaluation <= 20 s, bounded memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import queue
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the import's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(out: str, devices: int, apps: int, layouts: bool, q: Any) -> None:
    from appveto.fleet.generator import generate

    t = time.perf_counter()
    s = generate(Path(out), people=devices, apps_per_device=apps, second_device_share=0.0, layouts=layouts)
    q.put(
        {
            "seconds": time.perf_counter() - t,
            "devices": s.devices,
            "rows": s.app_rows,
            "bytes": sum(p.stat().st_size for p in s.files),
            "sources": [(src, [str(p) for p in files]) for src, files in s.sources],
            "taken_at": s.taken_at.isoformat(),
            "peak": _peak_mib(),
        }
    )


def _import(
    url: str, out: str, sources: list[tuple[str, list[str]]], taken_at: str, jobs: int, q: Any
) -> None:
    from appveto.fleet.directory import read_directory
    from appveto.fleet.ingest import import_directory, import_inventory
    from appveto.fleet.store import Store

    at = datetime.fromisoformat(taken_at)
    figures: dict[str, Any] = {"sources": []}
    with Store.open(url) as store:
        t = time.perf_counter()
        d = read_directory(Path(out) / "directory.json")
        import_directory(store, d.directory, file="directory.json", source="json", now=at)
        figures["directory_seconds"] = time.perf_counter() - t
        total_rows = 0
        cpu_all = _cpu()
        t_all = time.perf_counter()
        for label, files in sources:
            source = label.split("/")[0]  # "amapi" or, with --layouts, "amapi/pretty"
            t = time.perf_counter()
            summary = import_inventory(store, source, [Path(f) for f in files], at=at, now=at, jobs=jobs)
            secs = time.perf_counter() - t
            total_rows += summary.rows_ok
            figures["sources"].append((label, summary.rows_ok, summary.rows_bad, secs))
        figures["rows"] = total_rows
        figures["seconds"] = time.perf_counter() - t_all
        figures["cpu"] = _cpu() - cpu_all
    figures["peak"] = _peak_mib()
    q.put(figures)


def _evaluate(url: str, taken_at: str, q: Any) -> None:
    from appveto.compliance.evaluate import evaluate
    from appveto.fleet.queries import StoreFleet
    from appveto.fleet.store import Store
    from appveto.policy import load_policies

    policies = load_policies(ROOT / "examples" / "policies")
    at = datetime.fromisoformat(taken_at).date()
    with Store.open(url) as store:
        fleet = StoreFleet(store)
        # as `appveto fleet evaluate` runs it by default: with the changes since the previous snapshot
        t = time.perf_counter()
        ev = evaluate(policies, fleet, at=at, changes=True)
        secs = time.perf_counter() - t
        t = time.perf_counter()
        evaluate(policies, fleet, at=at, changes=False)
        secs_no_changes = time.perf_counter() - t
    q.put(
        {
            "seconds": secs,
            "seconds_no_changes": secs_no_changes,
            "devices": ev.devices_total,
            "results": len(ev.results),
            "peak": _peak_mib(),
        }
    )


def _speed() -> float:
    """A machine-speed reading: millions of simple Python loop steps per second (best of 3).

    This machine's speed varies with its neighbours (the same run can take 1.5x longer a
    minute later); printed beside each phase so that figures of different runs compare.
    """
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        s = 0
        for i in range(1_000_000):
            s += i
        best = min(best, time.perf_counter() - t)
    return 1.0 / best


def _tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants (the import's workers)."""
    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
    except psutil.Error:
        pass
    return total


def _child(target: Any, *args: Any) -> dict[str, Any]:
    """Run one phase in a fresh process; ``tree_peak`` is the peak resident memory of that
    process and its workers together (sampled every 20 ms), ``peak`` its own ``ru_maxrss``."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    assert p.pid is not None
    proc = psutil.Process(p.pid)
    tree_peak = 0
    while True:
        tree_peak = max(tree_peak, _tree_rss(proc))
        try:
            result: dict[str, Any] = q.get(timeout=0.02)
            break
        except queue.Empty:
            if not p.is_alive():
                raise SystemExit(f"{target.__name__} failed with exit code {p.exitcode}") from None
    p.join()
    if p.exitcode:
        raise SystemExit(f"{target.__name__} failed with exit code {p.exitcode}")
    result["tree_peak"] = max(tree_peak / 2**20, float(result.get("peak", 0.0)))
    return result


def _pg_database(base: str) -> tuple[str, Any]:
    import psycopg

    name = f"appveto_bench_{uuid.uuid4().hex[:10]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.rsplit("/", 1)[0] + "/" + name, drop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=300_000)
    ap.add_argument("--apps", type=int, default=60)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: import the fleet generated there by an earlier run (same size)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=0,
        help="worker processes reading inventory files (0: one per core, as the CLI; 1: none)",
    )
    ap.add_argument(
        "--layouts",
        action="store_true",
        help="files in the layouts of real exports; import figures per format and layout",
    )
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="appveto-fleet-bench-")
    work = args.keep or Path(tmp.name)
    out = work / "fleet"
    print(f"fleet: {args.devices:,} devices x {args.apps} apps", flush=True)
    manifest = work / "bench-manifest.json"
    if args.reuse and manifest.is_file():
        g = json.loads(manifest.read_text())
        if (g["devices"], g["apps"], g.get("layouts", False)) != (args.devices, args.apps, args.layouts):
            raise SystemExit(
                f"{work} holds another fleet ({g['devices']:,} devices x {g['apps']}); drop --reuse"
            )
        g["seconds"] = 0.0
    else:
        g = _child(_generate, str(out), args.devices, args.apps, args.layouts)
        g["apps"] = args.apps
        g["layouts"] = args.layouts
        if args.keep:
            manifest.write_text(json.dumps(g))
    print(
        f"generate   {g['seconds']:8.1f} s  {g['rows']:,} rows, "
        f"{g['bytes'] / 2**20:,.0f} MiB of export files, peak {g.get('tree_peak', g['peak']):,.0f} MiB",
        flush=True,
    )
    if args.layouts:  # one import per (source, layout), named in the file names
        groups: dict[str, list[str]] = {}
        for source, files in g["sources"]:
            for f in files:
                groups.setdefault(f"{source}/{Path(f).stem.split('-', 2)[2]}", []).append(f)
        g["sources"] = sorted(groups.items())
        for label, files in g["sources"]:
            size = sum(Path(f).stat().st_size for f in files) / 2**20
            print(f"  {label:24} {len(files):4} files {size:9,.1f} MiB", flush=True)
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        drop = None
        if backend == "sqlite":
            url = f"sqlite:///{work / 'bench.db'}"
            (work / "bench.db").unlink(missing_ok=True)
        elif backend == "postgresql":
            try:
                url, drop = _pg_database(args.pg)
            except Exception as exc:
                print(f"postgresql skipped: {exc}", flush=True)
                continue
        else:
            print(f"unknown backend {backend!r}", file=sys.stderr)
            return 2
        try:
            before = _speed()
            imp = _child(_import, url, str(out), g["sources"], g["taken_at"], args.jobs)
            rate = imp["rows"] / imp["seconds"] if imp["seconds"] else 0.0
            after = _speed()
            print(
                f"{backend:10} import   {imp['seconds']:8.1f} s  {imp['rows']:,} rows  {rate:,.0f} rows/s  "
                f"peak {imp['tree_peak']:,.0f} MiB with its workers ({imp['peak']:,.0f} MiB the importing "
                f"process alone)  (directory {imp['directory_seconds']:.1f} s)",
                flush=True,
            )
            for source, ok, bad, secs in imp["sources"]:
                print(
                    f"{'':10}   {source:24} {ok:>12,} rows {bad:>6} bad {secs:8.1f} s "
                    f"{ok / secs if secs else 0:>12,.0f} rows/s",
                    flush=True,
                )
            print(
                f"{'':10}   CPU {imp['cpu'] / max(imp['rows'], 1) * 1e6:.2f} us/row in all processes; "
                f"machine speed {before:.1f} before, {after:.1f} after (M loop steps/s)",
                flush=True,
            )
            ev = _child(_evaluate, url, g["taken_at"])
            print(
                f"{backend:10} evaluate {ev['seconds']:8.1f} s  as the CLI runs it (with the changes since "
                f"the previous snapshot; {ev['seconds_no_changes']:.1f} s with --no-changes)  "
                f"{ev['devices']:,} devices, {ev['results']:,} results  "
                f"peak {ev['tree_peak']:,.0f} MiB",
                flush=True,
            )
        finally:
            if drop is not None:
                drop()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
