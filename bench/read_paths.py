"""Read paths of the inventory importers on the layouts real exports come in.

    python bench/read_paths.py [--devices 2000] [--apps 40] [--repeat 3]

Writes a synthetic fleet with ``demo-data --layouts`` (one file per layout and source,
``--devices`` devices per file) and times, per file, each way the code can read it:
for Apple plists the importer's reader (``loads_xml``, the strict ElementTree reader, or
``loads_binary``) and ``plistlib``; for AMAPI JSON the importer's msgspec path and ``json.loads``. CPU time of
this process (``time.process_time``), best of ``--repeat``; rows/s counts app rows.
"""

from __future__ import annotations

import argparse
import json
import plistlib
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import msgspec


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    from appveto.fleet.generator import LAYOUTS, generate
    from appveto.fleet.importers import _plist

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=2000, help="devices per file")
    ap.add_argument("--apps", type=int, default=40, help="apps per device")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n_layouts = max(len(v) for v in LAYOUTS.values())
    with tempfile.TemporaryDirectory(prefix="appveto-read-paths-") as tmp:
        s = generate(
            Path(tmp) / "fleet",
            people=args.devices * n_layouts * 3,
            apps_per_device=args.apps,
            second_device_share=0.0,
            devices_per_file=args.devices,
            layouts=True,
        )
        print(f"{'file':32} {'MiB':>6} {'rows':>8}  read path: rows/s (CPU)")
        for source, files in s.sources:
            seen: set[str] = set()
            for f in files:
                layout = f.stem.split("-", 2)[2]
                if layout in seen or source == "intune-csv":
                    continue
                seen.add(layout)
                data = f.read_bytes()
                paths: dict[str, Callable[[], Any]] = {}
                if source == "apple":
                    value = plistlib.loads(data)
                    rows = sum(len(d.get("InstalledApplicationList", ())) for d in value)
                    if data[:8] == b"bplist00":
                        paths["importer"] = partial(_plist.loads_binary, data)
                    else:
                        paths["importer"] = partial(_plist.loads_xml, data)
                    paths["plistlib"] = partial(plistlib.loads, data)
                else:
                    text = data.decode("utf-8-sig")
                    value = json.loads(text)
                    rows = sum(len(d.get("applicationReports", ())) for d in value["devices"])
                    paths["msgspec"] = partial(msgspec.json.decode, text)
                    paths["json"] = partial(json.loads, text)
                cells = []
                for name, fn in paths.items():
                    secs = _best(fn, args.repeat)
                    cells.append(f"{name} {rows / secs:>11,.0f}")
                size = len(data) / 2**20
                print(f"{f.name:32} {size:6.1f} {rows:8,}  " + "  ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
