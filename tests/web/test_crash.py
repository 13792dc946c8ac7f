"""Crash safety of the real server process: ``kill -9`` during a scan leaves the job
running in the store; the next start queues it again and finishes it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from sqlalchemy import select

from appveto.fleet._schema import scan_jobs
from appveto.fleet.workspace import Workspace
from appveto.web import accounts, audit
from appveto.web.access import Role
from tests.conftest import corpus_apk
from tests.web.conftest import PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(ws: Workspace, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "appveto.cli.main", "serve", "-w", str(ws.root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    for _ in range(600):  # a hang guard while it starts, not a timer
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the server did not start")


def _status(port: int, token: str, vid: int) -> str:
    r = httpx.get(f"http://127.0.0.1:{port}/api/vettings/{vid}", headers={"Authorization": f"Bearer {token}"})
    return str(r.json()["scan"]["status"])


def test_kill_9_during_a_scan_then_restart_finishes_it(workspace: Workspace) -> None:
    apk = corpus_apk("androguard-testactivity.apk").read_bytes()
    now = accounts.now_utc()
    with workspace.open_store() as store, store.engine.begin() as conn:
        aid = accounts.create_account(
            conn, "sub", PASSWORD, {Role.SUBMITTER, Role.VIEWER}, actor="t", now=now
        )
        p = accounts.Principal(aid, "sub", frozenset({Role.SUBMITTER, Role.VIEWER}))
        _, token = accounts.create_token(conn, p, "t", None, days=None, source="", now=now)
    port = _free_port()
    proc = _serve(workspace, port)
    try:
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/vettings",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("a.apk", apk)},
            data={"reason": "crash test"},
        )
        assert r.status_code == 201, r.text
        vid = r.json()["id"]
        status = ""
        for _ in range(2000):  # until the runner has taken the job (a hang guard)
            status = _status(port, token, vid)
            if status != "pending":
                break
            time.sleep(0.02)
        assert status == "running", "the scan finished before the server could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the server and everything it started
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with workspace.open_store() as store, store.engine.connect() as conn:
        assert conn.execute(select(scan_jobs.c.status)).scalar_one() == "running"
    port = _free_port()
    proc = _serve(workspace, port)
    try:
        for _ in range(3000):  # a hang guard (a loaded machine), not a timer
            status = _status(port, token, vid)
            if status not in ("pending", "running"):
                break
            time.sleep(0.1)
        assert status == "done"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with workspace.open_store() as store:
        actions = [e.action for e in audit.entries(store.engine)]
        assert actions.count("scan.retry") == 1 and "scan.done" in actions
        assert audit.verify(store.engine).ok
        with store.engine.connect() as conn:
            assert conn.execute(select(scan_jobs.c.attempts)).scalar_one() == 2
