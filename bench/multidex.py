"""Build a large multidex APK from the corpus's real DEX files and time the DEX reader on it.

``build_large_multidex(out, min_classes=150_000)`` collects the primary ``classes*.dex``
files of the corpus APKs (read from ../shared/corpus/apk at run time, never copied into
the repository), and writes them again and again as ``classes.dex``, ``classes2.dex``...
until the class definitions add up to ``min_classes``, deflated like a real APK, with
the ``AndroidManifest.xml`` of the first corpus APK that has one.

``python bench/multidex.py [--keep PATH]`` builds it in a temporary folder and prints,
each measured in a fresh process so that peak RSS is the reader's own: the time to
inflate the DEX entries, the time to inflate them and parse them with
``appveto.apk.dex.parse_dex`` (all tables), the time of the whole reader
(``appveto.apk.load_apk``), the ratios, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = Path(os.environ.get("APPVETO_SHARED", REPO.parent / "shared")) / "corpus" / "apk"


def _primary_dex(corpus: Path) -> tuple[list[tuple[str, bytes, int]], bytes | None]:
    """(source, bytes, class_defs_size) of every readable primary DEX, and one manifest."""
    found: list[tuple[str, bytes, int]] = []
    manifest: bytes | None = None
    for apk in sorted(corpus.glob("*.apk")):
        try:
            with zipfile.ZipFile(apk) as zf:
                names = zf.namelist()
                if manifest is None and "AndroidManifest.xml" in names:
                    manifest = zf.read("AndroidManifest.xml")
                for name in names:
                    if not (name.startswith("classes") and name.endswith(".dex") and "/" not in name):
                        continue
                    data = zf.read(name)
                    if len(data) < 0x70 or data[:4] != b"dex\n":
                        continue
                    classes = struct.unpack_from("<I", data, 0x60)[0]
                    found.append((f"{apk.name}!{name}", data, classes))
        except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, ValueError):
            continue
    return found, manifest


def build_large_multidex(
    out_path: str | os.PathLike[str], min_classes: int = 150_000, corpus: Path = CORPUS
) -> str:
    """Write a deflated multidex APK of at least ``min_classes`` class definitions.

    Returns a one-line summary (DEX entries, classes, inflated DEX bytes).
    """
    dex_files, manifest = _primary_dex(corpus)
    dex_files = [d for d in dex_files if d[2] > 0]
    if not dex_files:
        raise RuntimeError(f"no DEX files found in {corpus}")
    total = 0
    inflated = 0
    n = 0
    with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        if manifest is not None:
            zf.writestr("AndroidManifest.xml", manifest)
        while total < min_classes:
            for _source, data, classes in dex_files:
                n += 1
                zf.writestr("classes.dex" if n == 1 else f"classes{n}.dex", data)
                total += classes
                inflated += len(data)
                if total >= min_classes:
                    break
    return f"{n} DEX entries, {total} classes, {inflated / 1e6:.1f} MB of DEX inflated"


def _dex_infos(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [i for i in zf.infolist() if i.filename.startswith("classes") and i.filename.endswith(".dex")]


def _measure(mode: str, path: str) -> dict[str, float]:
    """Run in a fresh process: 'inflate' (read the DEX entries), 'parse' (read and parse
    them) or 'load' (the whole reader, ``appveto.apk.load_apk``)."""
    sys.path.insert(0, str(REPO / "src"))
    from appveto.apk.dex import parse_dex

    counts = {"classes": 0, "methods": 0, "fields": 0, "strings": 0, "bytes": 0}
    kept: list[object] = []  # the reader keeps every DexFile of an APK: so does the measure
    if mode == "load":
        from appveto.apk import load_apk

        t0, c0 = time.perf_counter(), time.process_time()
        apk = load_apk(path)
        for dex in apk.dex:
            counts["classes"] += len(dex.class_defs)
            counts["methods"] += len(dex.method_refs)
            counts["fields"] += len(dex.field_refs)
            counts["strings"] += len(dex.strings)
            counts["bytes"] += dex.size
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"seconds": seconds, "cpu_seconds": cpu, "maxrss_mb": rss_mb, **counts}
    t0, c0 = time.perf_counter(), time.process_time()
    with zipfile.ZipFile(path) as zf:
        for info in _dex_infos(zf):
            data = zf.read(info)
            counts["bytes"] += len(data)
            if mode == "parse":
                dex = parse_dex(data, entry=info.filename)
                kept.append(dex)
                counts["classes"] += len(dex.class_defs)
                counts["methods"] += len(dex.method_refs)
                counts["fields"] += len(dex.field_refs)
                counts["strings"] += len(dex.strings)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_seconds": cpu, "maxrss_mb": rss_mb, **counts}


def _run_measure(mode: str, path: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _seconds(result: dict[str, float]) -> float:
    return result["seconds"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "APK"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--keep", type=Path, help="write the APK here instead of a temporary folder (reused when it exists)"
    )
    parser.add_argument("--min-classes", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (median)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of APKs whose DEX files are used")
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(_measure(args.measure[0], args.measure[1])))
        return
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}: nothing to build")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "large-multidex.apk"
        if args.keep is not None and args.keep.exists():
            print(f"reusing {out} ({out.stat().st_size / 1e6:.1f} MB)")
        else:
            t0 = time.perf_counter()
            info = build_large_multidex(out, min_classes=args.min_classes, corpus=args.corpus)
            built = time.perf_counter() - t0
            print(f"built {out.name} in {built:.1f} s: {out.stat().st_size / 1e6:.1f} MB, {info}")
        runs: dict[str, list[dict[str, float]]] = {"inflate": [], "parse": [], "load": []}
        for _ in range(args.repeat):  # interleaved, so that load from other processes hits all three
            for mode, results in runs.items():
                results.append(_run_measure(mode, out))
        inflate, parse, load = (sorted(runs[m], key=_seconds) for m in ("inflate", "parse", "load"))
        fi, fp, fl = inflate[len(inflate) // 2], parse[len(parse) // 2], load[len(load) // 2]
        print(
            f"inflate DEX entries:        {fi['seconds']:6.2f} s ({fi['cpu_seconds']:.2f} s CPU), "
            f"peak RSS {fi['maxrss_mb']:6.0f} MB "
            f"({fi['bytes'] / 1e6:.0f} MB of DEX)"
        )
        print(
            f"inflate + parse_dex (all):  {fp['seconds']:6.2f} s ({fp['cpu_seconds']:.2f} s CPU), "
            f"peak RSS {fp['maxrss_mb']:6.0f} MB "
            f"({fp['classes']:.0f} classes, {fp['methods']:.0f} method refs, {fp['fields']:.0f} field refs, "
            f"{fp['strings']:.0f} strings)"
        )
        print(
            f"load_apk (whole reader):    {fl['seconds']:6.2f} s ({fl['cpu_seconds']:.2f} s CPU), "
            f"peak RSS {fl['maxrss_mb']:6.0f} MB "
            f"({fl['classes']:.0f} classes)"
        )
        print(
            f"parse / inflate = {fp['seconds'] / max(fi['seconds'], 1e-9):.1f}x "
            f"({fp['cpu_seconds'] / max(fi['cpu_seconds'], 1e-9):.1f}x in CPU time), "
            f"load_apk / inflate = {fl['seconds'] / max(fi['seconds'], 1e-9):.1f}x "
            f"({fl['cpu_seconds'] / max(fi['cpu_seconds'], 1e-9):.1f}x in CPU time) (target <= 5x); "
            f"targets: <= 10 s, <= 1536 MB peak RSS (medians of {args.repeat} runs)"
        )


if __name__ == "__main__":
    main()
