"""Worker processes die with their parent: ``kill -9`` or Ctrl-C of a command whose pool
runs leaves no worker and no resource tracker behind (appveto.lifeline)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from appveto.cli.main import main
from appveto.fleet.generator import generate
from tests.apkbuilder import ApkSpec, ClassSpec, build_apk


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("lifeline")
    s = generate(root / "fleet", people=6000, devices_per_file=500, apps_per_device=40)
    files = [str(p) for source, ps in s.sources if source == "apple" for p in ps]
    assert len(files) >= 4
    return root, files


def _start(argv: list[str], cwd: Path, *, settle: float = 0.3) -> subprocess.Popen[bytes]:
    """Start ``appveto argv`` in a session of its own; wait until its pool runs (two
    processes below it: workers, the resource tracker), then ``settle`` seconds more."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "appveto.cli.main", *argv],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    kids: list[psutil.Process] = []
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            kids = parent.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        if len(kids) >= 2:
            time.sleep(settle)
            break
        time.sleep(0.01)
    assert proc.poll() is None and len(kids) >= 2, "the pool never ran; make the input larger"
    return proc


def _session(sid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid:
                out.append(p)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return out


def _left(sid: int, seconds: float) -> list[str]:
    """What is still running in the command's session ``seconds`` after it ended."""
    deadline = time.monotonic() + seconds
    while (alive := _session(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    shown = []
    for p in alive:  # do not leave them to the next test
        try:
            shown.append(" ".join(p.cmdline())[-80:])
            p.kill()
        except psutil.Error:
            continue
    return shown


def _import(ws: Path, files: list[str]) -> list[str]:
    return ["fleet", "import", "--source", "apple", "--jobs", "2", "-w", str(ws), *files]


def test_kill_9_of_an_import_leaves_no_process(fleet: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, files = fleet
    assert main(["init", str(tmp_path / "ws")]) == 0
    proc = _start(_import(tmp_path / "ws", files), root)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _left(proc.pid, 5.0) == []


def test_ctrl_c_of_an_import_leaves_no_process(fleet: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, files = fleet
    assert main(["init", str(tmp_path / "ws")]) == 0
    proc = _start(_import(tmp_path / "ws", files), root, settle=0.0)  # workers may be starting
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: the whole process group
    assert proc.wait(timeout=120) == 130
    assert _left(proc.pid, 5.0) == []
    assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()


def test_kill_9_of_a_scan_leaves_no_process(tmp_path: Path) -> None:
    big = ClassSpec("Lorg/example/Big;", strings=tuple(f"https://s{i}.example.org/p" for i in range(20000)))
    apk = build_apk(ApkSpec(package="org.example.big", sign=None, classes=(big,)))
    paths = []
    for i in range(8):
        p = tmp_path / f"a{i}.apk"
        p.write_bytes(apk)
        paths.append(str(p))
    proc = _start(["scan", "--jobs", "2", "--format", "json", *paths], tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _left(proc.pid, 5.0) == []
