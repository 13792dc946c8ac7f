"""bench/read_paths.py runs and prints one line per source and layout."""

from __future__ import annotations

import subprocess
import sys

from appveto.fleet.generator import LAYOUTS
from tests.conftest import REPO


def test_read_paths_prints_every_layout() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "read_paths.py"),
            "--devices",
            "4",
            "--apps",
            "2",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stderr
    for source in ("amapi", "apple"):
        for layout in LAYOUTS[source]:
            line = next(x for x in run.stdout.splitlines() if f"-{layout}." in x and x.startswith(source))
            assert "rows/s" not in line and line.split()[2] != "0", line
