"""Hostile inputs routed from the robustness audit: FIFOs, terminal escapes (pool deaths:
tests/test_scan.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from appveto.cli.main import main
from tests.apkbuilder import ApkSpec, build_apk


def _apk(path: Path, **kw: object) -> Path:
    path.write_bytes(build_apk(ApkSpec(package="org.example.x", sign=None, **kw)))  # type: ignore[arg-type]
    return path


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
