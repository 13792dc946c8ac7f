"""The SP 800-163 workflow through the JSON API and the pages, on a real SQLite store and
a real APK of the corpus; hostile uploads; scans that time out or were interrupted."""

from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy import select, update

from appveto.fleet._schema import scan_jobs
from appveto.fleet.workspace import Workspace
from appveto.web import audit
from appveto.web.app import Settings
from tests.conftest import corpus_apk
from tests.web.conftest import Server, make_accounts, start

APK = "androguard-testactivity.apk"


def _upload(
    s: Server, data: bytes, name: str = "app.apk", reason: str = "asked for by unit B", who: str = "submitter"
):  # type: ignore[no-untyped-def]
    return s.client.post(
        "/api/vettings", headers=s.api(who), files={"file": (name, data)}, data={"reason": reason}
    )


def test_the_whole_workflow_on_a_corpus_apk(server: Server) -> None:
    s = server
    data = corpus_apk(APK).read_bytes()
    first = _upload(s, data, APK)
    assert first.status_code == 201, first.text
    vid = first.json()["id"]
    assert first.json()["duplicate"] is False
    # the same file again is the same app version and vetting
    again = _upload(s, data, "renamed.apk", "another reason")
    assert again.status_code == 200 and again.json() == {**first.json(), "duplicate": True}
    stored = s.ws.root / "uploads" / f"{first.json()['sha256']}.apk"
    assert stored.read_bytes() == data

    # testing happens outside the request: pending until the runner takes it
    detail = s.client.get(f"/api/vettings/{vid}", headers=s.api("viewer")).json()
    assert detail["scan"]["status"] == "pending" and detail["state"] == "testing"
    assert s.runner.drain() == 1
    detail = s.client.get(f"/api/vettings/{vid}", headers=s.api("viewer")).json()
    assert detail["scan"]["status"] == "done", detail["scan"]
    assert detail["state"] == "review"
    assert detail["app"]["package"] == "tests.androguard" and detail["app"]["version_code"] == 1
    findings = detail["findings"]
    assert findings, "the debuggable test app raises findings"
    first_key, second_key = findings[0]["key"], findings[-1]["key"]

    # analyst review: re-grade one, suppress another, each with its reason, and a note
    r = s.client.post(
        f"/api/vettings/{vid}/reviews",
        headers=s.api("analyst"),
        json={
            "finding": first_key,
            "action": "regrade",
            "severity": "low",
            "reason": "test build, never shipped",
        },
    )
    assert r.status_code == 201, r.text
    r = s.client.post(
        f"/api/vettings/{vid}/reviews",
        headers=s.api("analyst"),
        json={"finding": second_key, "action": "suppress", "reason": "accepted risk per rule 4"},
    )
    assert r.status_code == 201, r.text
    after = {f["key"]: f for f in r.json()["findings"]}
    assert after[first_key]["effective_severity"] == "low"
    assert after[first_key]["severity"] == findings[0]["severity"]  # the scan's grade is kept
    assert after[first_key]["reviews"][0]["by"] == "analyst"
    assert after[first_key]["reviews"][0]["reason"] == "test build, never shipped"
    assert after[second_key]["suppressed"] is True and after[second_key]["effective_severity"] is None
    assert len(r.json()["findings"]) == len(findings)  # suppressed is shown, never dropped
    assert (
        s.client.post(
            f"/api/vettings/{vid}/reviews",
            headers=s.api("analyst"),
            json={"finding": "AV-NOPE-001#99", "action": "suppress", "reason": "x"},
        ).status_code
        == 404
    )
    s.client.post(f"/api/vettings/{vid}/notes", headers=s.api("analyst"), json={"text": "checked by hand"})

    # a decision before the recommendation is refused
    early = s.client.post(
        f"/api/vettings/{vid}/decision", headers=s.api("approver"), json={"verdict": "approve", "reason": "x"}
    )
    assert early.status_code == 409
    rec = s.client.post(
        f"/api/vettings/{vid}/recommendation",
        headers=s.api("auditor"),
        json={"verdict": "reject", "reason": "debuggable builds break rule 2", "cited": [first_key]},
    )
    assert rec.status_code == 201, rec.text
    dec = s.client.post(
        f"/api/vettings/{vid}/decision",
        headers=s.api("approver"),
        json={"verdict": "reject_and_ban", "reason": "as recommended"},
    )
    assert dec.status_code == 201, dec.text
    final = dec.json()
    assert final["state"] == "decided"
    steps = [(st["step"], st["verdict"], st["by"]) for st in final["steps"]]
    assert steps == [
        ("intake", None, "submitter"),
        ("note", None, "analyst"),
        ("recommendation", "reject", "auditor"),
        ("decision", "reject_and_ban", "approver"),
    ]
    assert final["steps"][2]["cited"] == [first_key]
    assert all(st["at"] for st in final["steps"])
    # nothing changes a decided vetting
    late = s.client.post(
        f"/api/vettings/{vid}/reviews",
        headers=s.api("analyst"),
        json={"finding": first_key, "action": "suppress", "reason": "late"},
    )
    assert late.status_code == 409

    # the page shows who re-graded what and why, escaped
    csrf = s.browser("viewer")
    page = s.client.get(f"/vettings/{vid}")
    assert page.status_code == 200 and csrf
    assert "Re-graded to low by analyst" in page.text and "test build, never shipped" in page.text
    assert "Suppressed by analyst" in page.text

    actions = [e.action for e in audit.entries(s.engine)]
    for wanted in (
        "intake.upload",
        "intake.duplicate",
        "scan.done",
        "review.regrade",
        "review.suppress",
        "review.note",
        "recommendation",
        "decision",
    ):
        assert wanted in actions
    assert audit.verify(s.engine).ok


def test_an_approver_who_reviewed_may_not_decide(server: Server) -> None:
    s = server
    vid = _upload(s, corpus_apk(APK).read_bytes()).json()["id"]
    s.runner.drain()
    s.client.post(
        f"/api/vettings/{vid}/notes", headers=s.api("analyst-approver"), json={"text": "looked at it"}
    )
    s.client.post(
        f"/api/vettings/{vid}/recommendation",
        headers=s.api("auditor"),
        json={"verdict": "approve", "reason": "ok"},
    )
    r = s.client.post(
        f"/api/vettings/{vid}/decision",
        headers=s.api("analyst-approver"),
        json={"verdict": "approve", "reason": "ok"},
    )
    assert r.status_code == 403 and "separation of duties" in r.json()["detail"]
    assert (
        s.client.post(
            f"/api/vettings/{vid}/decision",
            headers=s.api("approver"),
            json={"verdict": "approve", "reason": "ok"},
        ).status_code
        == 201
    )


def _zip_bomb() -> bytes:
    """64 MiB of zeros as the manifest, deflated to about 64 KiB (ratio ~1000:1)."""
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open("AndroidManifest.xml", "w") as f,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(64):
            f.write(chunk)
    return buf.getvalue()


def test_hostile_uploads_fail_with_a_located_error_and_the_server_stays_up(server: Server) -> None:
    s = server
    bomb = _zip_bomb()
    assert len(bomb) < 200_000
    ids = {
        "not-a-zip": _upload(s, b"MZ this is not a zip at all " * 50, "evil.apk").json()["id"],
        "bomb": _upload(s, bomb, "bomb.apk").json()["id"],
    }
    assert s.runner.drain() == 2
    junk = s.client.get(f"/api/vettings/{ids['not-a-zip']}", headers=s.api("viewer")).json()
    assert junk["scan"]["status"] == "failed", junk["scan"]
    # located: the error names the stored file the scan read, and what is wrong with it
    assert junk["app"]["sha256"] in junk["scan"]["error"] and "zip" in junk["scan"]["error"].lower()
    assert junk["state"] == "review"  # an auditor can still recommend rejecting it
    # the bomb is read up to the limits: the refused entry is a located problem of the scan
    bomb_scan = s.client.get(f"/api/vettings/{ids['bomb']}", headers=s.api("viewer")).json()["scan"]
    assert bomb_scan["status"] in ("done", "failed")
    refused = [p for p in bomb_scan["problems"] if p["entry"] == "AndroidManifest.xml"]
    assert refused and "zip bomb" in refused[0]["message"] and refused[0]["offset"] is not None
    s.browser("viewer")
    assert "zip bomb" in s.client.get(f"/vettings/{ids['bomb']}").text
    assert s.client.get("/api/me", headers=s.api("viewer")).status_code == 200
    # an analyst can queue a failed scan again
    r = s.client.post(f"/api/vettings/{ids['not-a-zip']}/rescan", headers=s.api("analyst"))
    assert r.status_code == 202 and r.json()["scan"]["status"] == "pending"


def test_upload_limits(workspace: Workspace) -> None:
    ws = workspace
    with start(ws, Settings(start_runner=False, max_upload=10_000)) as client:
        s = Server(ws, client)
        make_accounts(s)
        # over the request cap: refused from its declared length, before it is read
        big = _upload(s, b"x" * 200_000)
        assert big.status_code == 413
        # under the request cap but over the file limit: refused while it is measured
        mid = _upload(s, b"x" * 20_000)
        assert mid.status_code == 413 and "10,000" in mid.json()["detail"]
        assert _upload(s, b"").status_code == 400
        assert not list((ws.root / "uploads").glob("*")) if (ws.root / "uploads").exists() else True
        assert client.get("/api/vettings", headers=s.api("viewer")).json() == []


def test_a_scan_over_the_time_limit_is_timed_out(workspace: Workspace) -> None:
    ws = workspace
    with start(ws, Settings(start_runner=False, scan_timeout=0.01)) as client:
        s = Server(ws, client)
        make_accounts(s)
        vid = _upload(s, corpus_apk(APK).read_bytes()).json()["id"]
        s.runner.drain()
        scan = client.get(f"/api/vettings/{vid}", headers=s.api("viewer")).json()["scan"]
        assert scan["status"] == "timed_out" and "limit" in scan["error"]


def test_a_job_left_running_by_a_killed_server_is_retried_on_restart(workspace: Workspace) -> None:
    ws = workspace
    with start(ws) as client:
        s = Server(ws, client)
        make_accounts(s)
        vid = _upload(s, corpus_apk(APK).read_bytes()).json()["id"]
        # what a server killed mid-scan leaves: the job marked running, no result
        with s.engine.begin() as conn:
            conn.execute(update(scan_jobs).values(status="running", attempts=1))
        tokens = s.tokens
    # a new server on the same workspace, with its background runner
    with start(ws, Settings(start_runner=True)) as client:
        headers = {"Authorization": f"Bearer {tokens['viewer']}"}
        status = None
        for _ in range(1200):  # a hang guard (up to ~2 minutes on a loaded machine), not a timer
            status = client.get(f"/api/vettings/{vid}", headers=headers).json()["scan"]["status"]
            if status not in ("pending", "running"):
                break
            client.app.state.appveto.runner._stop.wait(0.1)  # type: ignore[attr-defined]
        assert status == "done"
        engine = client.app.state.appveto.engine  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert conn.execute(select(scan_jobs.c.attempts)).scalar_one() == 2
        assert "scan.retry" in [e.action for e in audit.entries(engine)]


def test_a_job_interrupted_too_often_is_failed(workspace: Workspace) -> None:
    ws = workspace
    with start(ws) as client:
        s = Server(ws, client)
        make_accounts(s)
        vid = _upload(s, b"not an apk").json()["id"]
        with s.engine.begin() as conn:
            conn.execute(update(scan_jobs).values(status="running", attempts=3))
        assert s.runner.recover() == 1
        scan = client.get(f"/api/vettings/{vid}", headers=s.api("viewer")).json()["scan"]
        assert scan["status"] == "failed" and "interrupted 3 times" in scan["error"]


def test_uploaded_names_and_reasons_are_escaped_on_the_pages(server: Server) -> None:
    s = server
    name = "<img src=x onerror=alert(1)>.apk"
    vid = _upload(s, b"junk", name=name, reason='<b>bold</b> & "quotes"').json()["id"]
    s.browser("viewer")
    page = s.client.get(f"/vettings/{vid}").text
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;.apk" in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;" in page
    index = s.client.get("/").text
    assert "<img" not in index and "&lt;img src=x" in index
    assert re.search(r"<script", index) is None
    # a name with a path keeps only its last part: no path from a request reaches the disk
    other = _upload(s, b"junk 2", name="../../etc/passwd").json()["id"]
    assert (
        s.client.get(f"/api/vettings/{other}", headers=s.api("viewer")).json()["app"]["filename"] == "passwd"
    )
    assert sorted(p.name for p in (s.ws.root / "uploads").iterdir()) == sorted(
        f"{v['sha256']}.apk" for v in s.client.get("/api/vettings", headers=s.api("viewer")).json()
    )
