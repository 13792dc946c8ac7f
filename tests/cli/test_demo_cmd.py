"""`appveto demo`: the whole cycle on a small synthetic administration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appveto.cli.main import main
from tests.conftest import REPO, require_shared


def test_demo_runs_the_whole_cycle_with_nothing_at_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --apks, no --policies, run where there is no repository: it builds its own apps."""
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--output", "demo", "--people", "200"])
    text = capsys.readouterr().out
    assert code == 0, text
    out = tmp_path / "demo"
    scan = json.loads((out / "reports" / "scan.json").read_text())
    assert len(scan["results"]) == 4 and all(r["error"] is None for r in scan["results"])
    assert (out / "reports" / "compare.html").read_text().startswith("<!DOCTYPE html>")
    assert "== What the obfuscated build changed" in text
    evaluation = json.loads((out / "reports" / "compliance.json").read_text())
    assert evaluation["devices_total"] > 0
    assert (out / "enforce" / "README.md").exists()
    assert "== Done" in text
    last = text.rstrip().splitlines()[-4:]
    assert last[0] == "Open these first:"
    for line in last[1:]:
        assert (tmp_path / line.split()[0]).is_file(), line


def test_demo_vets_the_apks_it_is_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
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
            "60",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    scan = json.loads((out / "reports" / "scan.json").read_text())
    given = sorted(apks.glob("*.apk"))[:4]
    assert [Path(r["file"]).name for r in scan["results"]] == [p.name for p in given]
    assert not (out / "apks").exists()


def test_demo_refuses_an_existing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["demo", "--output", str(tmp_path)]) == 2
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert "already exists" in capsys.readouterr().err


def test_demo_refuses_a_folder_without_policies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["demo", "--output", str(tmp_path / "out"), "--policies", str(empty)]) == 2
    assert "no policy files" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_demo_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":mod:" not in text and "sample apps" in text
