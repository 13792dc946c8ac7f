"""`appveto demo`: the whole cycle on a small synthetic administration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appveto.cli.main import main
from tests.conftest import REPO, require_shared


def test_demo_runs_the_whole_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apks = require_shared("corpus/apk")
    out = tmp_path / "demo"
    code = main(
        [
            "demo",
            "--output",
            str(out),
            "--policies",
            str(REPO / "examples" / "policies"),
            "--apks",
            str(apks),
            "--people",
            "400",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    scan = json.loads((out / "reports" / "scan.json").read_text())
    assert len(scan["results"]) >= 3 and all(r["error"] is None for r in scan["results"])
    assert (out / "reports" / "compare.html").read_text().startswith("<!DOCTYPE html>")
    evaluation = json.loads((out / "reports" / "compliance.json").read_text())
    assert evaluation["devices_total"] > 0
    assert (out / "enforce" / "README.md").exists()
    assert "== Done" in text


def test_demo_refuses_an_existing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["demo", "--output", str(tmp_path), "--policies", str(REPO / "examples" / "policies")]) == 2
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert "already exists" in capsys.readouterr().err
