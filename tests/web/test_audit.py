"""The audit trail: hash-chained, tampering found by 'appveto audit verify' with the
entry's number, exported through the CSV rule; PostgreSQL refuses UPDATE and DELETE."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from appveto.cli.main import main
from appveto.fleet.workspace import Workspace
from appveto.outputs.csvcells import original
from appveto.web import accounts, audit
from appveto.web.access import Role
from appveto.web.app import Settings
from tests.web.conftest import PASSWORD, Server, make_accounts, start


def _some_entries(ws: Workspace, n: int = 5) -> None:
    with ws.open_store() as store, store.engine.begin() as conn:
        for i in range(n):
            audit.append(conn, actor=f"user{i}", action="test.event", target=f"thing:{i}", detail={"i": i})


def test_an_intact_chain_verifies(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    _some_entries(workspace)
    assert main(["audit", "verify", "-w", str(workspace.root)]) == 0
    assert "intact: 5 entries" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("sql", "found"),
    [
        ("UPDATE audit_log SET actor = 'someone else' WHERE seq = 3", "entry 3: its content does not match"),
        ("UPDATE audit_log SET detail = '{}' WHERE seq = 2", "entry 2: its content does not match"),
        ("DELETE FROM audit_log WHERE seq = 3", "entry 3: missing"),
        ("DELETE FROM audit_log WHERE seq = 1", "entry 1: missing"),
        # a rewritten entry with a recomputed own hash still breaks the next one's link
        (
            "UPDATE audit_log SET actor = 'x', hash = '" + "ab" * 32 + "' WHERE seq = 4",
            "entry 5: does not follow",
        ),
    ],
)
def test_tampering_is_found_with_the_entry_number(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], sql: str, found: str
) -> None:
    _some_entries(workspace)
    with workspace.open_store() as store, store.engine.begin() as conn:
        conn.execute(text(sql))
    assert main(["audit", "verify", "-w", str(workspace.root)]) == 1
    out = capsys.readouterr().out
    assert found in out and "TAMPERED" in out


def test_export_csv_and_jsonl(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with workspace.open_store() as store, store.engine.begin() as conn:
        audit.append(
            conn, actor='=HYPERLINK("http://x")', action="test", target="t", detail={"note": 'a,b\n"c"'}
        )
        audit.append(conn, actor="plain", action="test", target="t")
    out = tmp_path / "audit.csv"
    assert main(["audit", "export", "-w", str(workspace.root), "--format", "csv", "-o", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == list(audit.EXPORT_COLUMNS)
    assert rows[1][2] == '\'=HYPERLINK("http://x")'  # the CSV rule: no formula
    assert original(rows[1][2]) == '=HYPERLINK("http://x")'
    assert json.loads(rows[1][6]) == {"note": 'a,b\n"c"'}
    assert len(rows) == 3
    # never over the workspace's own files
    store_file = workspace.root / "appveto.db"
    assert main(["audit", "export", "-w", str(workspace.root), "-o", str(store_file)]) == 2
    capsys.readouterr()
    assert main(["audit", "export", "-w", str(workspace.root), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]


def test_every_change_writes_one_entry_and_the_export_is_audited(server: Server) -> None:
    s = server
    before = audit.count(s.engine)
    s.client.post("/api/tokens", headers=s.api("viewer"), json={"name": "t"})
    assert audit.count(s.engine) == before + 1
    r = s.client.get("/api/audit/export.csv", headers=s.api("auditor"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert audit.count(s.engine) == before + 2
    assert s.client.get("/api/audit/verify", headers=s.api("auditor")).json()["ok"] is True
    s.browser("auditor")
    assert "The chain of" in s.client.get("/audit").text


def test_create_admin_reads_the_password_from_stdin(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["serve", "-w", str(workspace.root), "--create-admin", "Chief"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["serve", "-w", str(workspace.root), "--create-admin", "other"]) == 2
    assert "12 to" in capsys.readouterr().err
    with workspace.open_store() as store, store.engine.begin() as conn:
        found = accounts.authenticate(conn, "chief", PASSWORD)
    assert found is not None and found[2] == frozenset({Role.ADMIN})


def test_on_postgresql_the_workflow_runs_and_the_trail_refuses_update_and_delete(
    pg_workspace: Workspace,
) -> None:
    from sqlalchemy.exc import DBAPIError

    with start(pg_workspace, Settings(start_runner=False)) as client:
        s = Server(pg_workspace, client)
        make_accounts(s)
        r = client.post(
            "/api/vettings",
            headers=s.api("submitter"),
            files={"file": ("x.apk", b"not a zip")},
            data={"reason": "r"},
        )
        assert r.status_code == 201, r.text
        vid = r.json()["id"]
        assert s.runner.drain() == 1
        d = client.get(f"/api/vettings/{vid}", headers=s.api("viewer")).json()
        assert d["scan"]["status"] == "failed" and d["state"] == "review"
        rec = client.post(
            f"/api/vettings/{vid}/recommendation",
            headers=s.api("auditor"),
            json={"verdict": "reject", "reason": "unreadable"},
        )
        assert rec.status_code == 201
        assert (
            client.post(
                f"/api/vettings/{vid}/decision",
                headers=s.api("approver"),
                json={"verdict": "reject", "reason": "ok"},
            ).status_code
            == 201
        )
        assert audit.verify(s.engine).ok
        n = audit.count(s.engine)
        assert n >= 14
        for sql in (
            "UPDATE audit_log SET actor = 'x' WHERE seq = 2",
            "DELETE FROM audit_log WHERE seq = 2",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(DBAPIError, match="append-only"), s.engine.begin() as conn:
                conn.execute(text(sql))
        assert audit.count(s.engine) == n and audit.verify(s.engine).ok
