"""Hostile inputs routed from the robustness audit: pool deaths, FIFOs, terminal escapes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.cli.main import main
from tests.apkbuilder import ApkSpec, build_apk


def _apk(path: Path, **kw: object) -> Path:
    path.write_bytes(build_apk(ApkSpec(package="org.example.x", sign=None, **kw)))  # type: ignore[arg-type]
    return path


def _die_on_marked(path: str) -> object:
    from appveto.report import json_report

    if path.endswith("die.apk"):
        os._exit(3)  # a worker killed by the OOM killer looks like this to the pool
    kb, now = json_report._WORKER_STATE[0]
    return json_report.scan_record(path, kb, now=now)


def test_a_dying_worker_costs_only_its_own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appveto.kb.load import load_kb
    from appveto.report import json_report

    monkeypatch.setattr(json_report, "_scan_job", _die_on_marked)
    paths = [str(_apk(tmp_path / f"a{i}.apk")) for i in range(3)]
    paths.insert(1, str(_apk(tmp_path / "die.apk")))
    records = json_report.scan_records(paths, load_kb(), now=datetime(2024, 1, 1, tzinfo=UTC), workers=2)
    assert [r.file for r in records] == paths
    assert records[1].error is not None and "died" in records[1].error
    assert all(r.error is None for i, r in enumerate(records) if i != 1)


def test_compare_with_a_fifo_does_not_hang(tmp_path: Path) -> None:
    good = _apk(tmp_path / "good.apk")
    fifo = tmp_path / "pipe.apk"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "appveto.cli.main", "compare", str(good), str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "pipe.apk" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_data_dir_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _apk(tmp_path / "good.apk")
    assert main(["scan", "--data-dir", str(tmp_path / "nowhere"), str(good)]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_text_output_escapes_terminal_controls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = _apk(tmp_path / "evil.apk", permissions=("android.permission.X\x1b[31m\nFAKE LINE",))
    main(["scan", str(evil)])
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "\\x1b[31m" in out
    assert not any(line.startswith("FAKE LINE") for line in out.splitlines())


def test_error_messages_escape_file_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = tmp_path / "evil\x1b[2J.apk"
    name.write_bytes(b"not a zip")
    assert main(["scan", str(name)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err
