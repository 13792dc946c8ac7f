"""Worker for bench/run.py: time one tool on one APK inside this process.

Prints one JSON line: {"seconds": work time after imports, "maxrss_mb": peak RSS}.
Run as: python bench/_one.py TOOL APK   (TOOL: appveto-read, appveto-scan, androguard, inflate)
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main() -> None:
    tool, path = sys.argv[1], sys.argv[2]
    if tool == "appveto-read":
        # import everything first, as for androguard below: in-process time is work only
        import appveto.apk.archive
        import appveto.apk.dex
        import appveto.apk.manifest
        import appveto.apk.native
        import appveto.apk.resources
        import appveto.apk.signing  # noqa: F401
        from appveto.apk.loader import load_apk

        t0 = time.perf_counter()
        apk = load_apk(path)
        # touch the tables so lazy parts are really computed
        n = sum(len(d.class_defs) + len(d.method_refs) + len(d.strings) for d in apk.dex)
        dt = time.perf_counter() - t0
    elif tool == "appveto-scan":
        # the library's whole scan (reader, checks, scoring) as `appveto scan` runs it, work only
        from datetime import UTC, datetime

        from appveto.kb import load_kb
        from appveto.scan import scan_apk

        kb = load_kb()
        t0 = time.perf_counter()
        result = scan_apk(path, kb, now=datetime.now(UTC))
        n = len(result.findings)
        dt = time.perf_counter() - t0
    elif tool == "androguard":
        from loguru import logger  # androguard's logger

        logger.remove()
        from androguard.misc import AnalyzeAPK

        t0 = time.perf_counter()
        _a, _d, dx = AnalyzeAPK(path)
        n = len(list(dx.get_classes()))
        dt = time.perf_counter() - t0
    elif tool in ("inflate", "inflate-isal"):
        import zipfile
        import zlib

        if tool == "inflate-isal":
            from isal import isal_zlib as zlib  # type: ignore[no-redef]

        t0 = time.perf_counter()
        n = 0
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".dex"):
                    raw = zf.open(info).read() if info.compress_type == 0 else None
                    if raw is None:
                        with open(path, "rb") as fh:
                            fh.seek(info.header_offset + 26)
                            nl = int.from_bytes(fh.read(2), "little")
                            el = int.from_bytes(fh.read(2), "little")
                            fh.seek(info.header_offset + 30 + nl + el)
                            raw = zlib.decompress(fh.read(info.compress_size), -15)
                    n += len(raw)
        dt = time.perf_counter() - t0
    else:
        raise SystemExit(f"unknown tool {tool}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "maxrss_mb": rss, "n": n}))


if __name__ == "__main__":
    main()
