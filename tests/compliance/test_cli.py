"""The whole cycle through the real entry point: demo-data, import, evaluate, impact, explain, notices."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.cli import main as cli_main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
_NOW = datetime(2024, 2, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    mods = tuple(cli_main.COMMAND_MODULES)
    for m in ("appveto.cli.init_cmd", "appveto.cli.fleet_cmd", "appveto.cli.compliance_cmd"):
        if m not in mods:
            mods += (m,)
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", mods)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_main.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_demo_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = tmp_path / "demo"
    code, out, _ = _run(
        ["demo-data", str(demo), "--people", "600", "--seed", "5", "--at", "2023-06-01"], capsys
    )
    assert code == 0 and "600 people" in out and "--at 2023-06-01" in out
    ws = tmp_path / "ws"
    assert _run(["init", str(ws)], capsys)[0] == 0
    shutil.copytree(EXAMPLES, ws / "policies", dirs_exist_ok=True)
    w = ["-w", str(ws)]
    assert _run(["directory", "import", str(demo / "directory.json"), *w], capsys)[0] == 0
    for source, pattern in (
        ("amapi", "amapi-*.json"),
        ("apple", "apple-*.plist"),
        ("intune-csv", "intune-*.csv"),
    ):
        files = sorted(str(p) for p in demo.glob(pattern))
        code, _, err = _run(["fleet", "import", "--source", source, *files, "--at", "2023-06-01", *w], capsys)
        assert code == 0, err

    code, out, err = _run(["fleet", "evaluate", "--at", "2023-06-01", "--format", "json", *w], capsys)
    doc = json.loads(out)
    # the example library's foreign decisions (and the Belgian police zone's) name units the
    # synthetic Belgian directory does not have: each says so and the exit code too; every
    # decision that reaches nobody says why, and none that reaches people lacks a name
    assert code == 1 and "incomplete" in err
    lacking = {x["decision"] for x in doc["limitations"] if x["kind"].startswith("missing-")}
    reached = {d["id"] for d in doc["decisions"] if d["evaluated"] and d["people_in_scope"]}
    assert reached and not lacking & reached
    assert lacking == {d["id"] for d in doc["decisions"] if d["evaluated"]} - reached
    fed = next(d for d in doc["decisions"] if d["id"] == "be-fed-2023-tiktok")
    assert fed["evaluated"] and fed["devices_in_scope"] > 0
    assert doc["devices_total"] >= 600
    statuses = {r["status"] for r in doc["results"]}
    assert "overdue" in statuses  # remove_by 2023-03-31 has passed on 2023-06-01
    parl = next(d for d in doc["decisions"] if d["id"] == "be-bxl-parl-2023-tiktok")
    assert parl["network_only_parts"] == ["parliament-networks"]

    code, out, _ = _run(["fleet", "evaluate", "--at", "2023-06-01", "--format", "csv", *w], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and len(rows) == len(doc["results"]) + doc["limitations_count"]
    code, out, _ = _run(["fleet", "evaluate", "--at", "2023-06-01", "--format", "html", *w], capsys)
    assert code == 1 and out.startswith("<!DOCTYPE html>") and "be-fed-2023-tiktok" in out
    code, out, _ = _run(["fleet", "evaluate", "--at", "2023-06-01", *w], capsys)
    assert code == 1 and "be-fed-2023-tiktok:" in out and "by authority:" in out

    person = next(r["person"] for r in doc["results"] if r["status"] == "overdue")
    code, out, _ = _run(["fleet", "explain", "--person", person, "--at", "2023-06-01", *w], capsys)
    assert code == 0 and "decision be-fed-2023-tiktok" in out and "overdue" in out

    code, out, _ = _run(
        ["fleet", "impact", str(EXAMPLES / "be-federal-tiktok.yaml"), "--at", "2023-06-01", *w], capsys
    )
    assert code == 0 and "impact of be-fed-2023-tiktok" in out

    notices = tmp_path / "notices"
    code, out, err = _run(["fleet", "notices", "--at", "2023-06-01", "--output", str(notices), *w], capsys)
    assert code == 1 and "get no notice" in err  # the foreign decisions reach nobody here
    people = {r["person"] for r in doc["results"] if r["status"] in ("overdue", "violation", "advisory")}
    assert {p.stem for p in notices.glob("*.md")} == people
    assert {p.stem for p in notices.glob("*.eml")} == people


def test_errors_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    assert _run(["init", str(ws)], capsys)[0] == 0
    (ws / "policies" / "broken.yaml").write_text("kind: decision\nid: x\n", encoding="utf-8")
    code, _, err = _run(["fleet", "evaluate", "-w", str(ws)], capsys)
    assert code == 2 and "broken.yaml" in err
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(["fleet", "evaluate", "--at", "2023-13-01", "-w", str(ws)])
    assert exit_info.value.code == 2 and "not a date" in capsys.readouterr().err


def test_scan_rules_with_real_apks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from appveto.compliance.scans import scan_facts
    from appveto.kb import load_kb
    from appveto.scan import scan_apk
    from tests.conftest import corpus_apks, require_shared

    require_shared("corpus/apk")
    kb = load_kb()
    for apk in corpus_apks():  # the first signed APK with a package name
        result = scan_apk(str(apk), kb, now=_NOW)
        facts = scan_facts(result)
        if facts is not None and facts.signer_sha256:
            break
    else:
        pytest.fail("no signed APK with a package name in the corpus")
    assert facts.package == result.package
    ws = tmp_path / "ws"
    assert _run(["init", str(ws)], capsys)[0] == 0
    shutil.copy(EXAMPLES / "authorities.yaml", ws / "policies" / "authorities.yaml")
    (ws / "policies" / "signer.yaml").write_text(
        f"""\
kind: decision
id: signer-ban
title: Apps signed with a revoked key
authority: be-federal
instrument: decision
apps:
  - name: by signer
    signer_sha256: [{facts.signer_sha256[0]}]
scope:
  - {{id: all, mode: mandatory, devices: [issued]}}
term: {{effective: 2024-01-01}}
""",
        encoding="utf-8",
    )
    (tmp_path / "dir.json").write_text(
        json.dumps(
            {
                "authorities": [{"id": "be-federal", "name": "Federal"}],
                "people": [{"id": "p1", "authority": "be-federal", "devices": ["D1"]}],
            }
        ),
        encoding="utf-8",
    )
    inv = f"device_id,ownership,platform,app_id\nD1,company,android,{facts.package}\n"
    (tmp_path / "inv.csv").write_text(inv, encoding="utf-8")
    w = ["-w", str(ws)]
    assert _run(["directory", "import", str(tmp_path / "dir.json"), *w], capsys)[0] == 0
    assert (
        _run(
            [
                "fleet",
                "import",
                "--source",
                "generic-csv",
                str(tmp_path / "inv.csv"),
                "--at",
                "2024-02-01",
                *w,
            ],
            capsys,
        )[0]
        == 0
    )
    base = ["fleet", "evaluate", "--at", "2024-02-02", "--format", "json", *w]
    code, out, _ = _run(base, capsys)
    assert code == 0 and not json.loads(out)["results"]
    assert any("need scan results" in x["message"] for x in json.loads(out)["limitations"])
    code, out, _ = _run([*base, "--apk", str(apk)], capsys)
    results = json.loads(out)["results"]
    assert code == 0 and [(r["person"], r["status"], r["app_id"]) for r in results] == [
        ("p1", "violation", facts.package)
    ]
    assert results[0]["matched_by"].startswith(f"signer {facts.signer_sha256[0][:16]}")


def test_output_paths_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = _run(["demo-data", str(blocker), "--people", "3"], capsys)
    assert code == 2 and "a-file" in err
    ws = tmp_path / "ws"
    assert _run(["init", str(ws)], capsys)[0] == 0
    shutil.copytree(EXAMPLES, ws / "policies", dirs_exist_ok=True)
    code, _, err = _run(["fleet", "notices", "--at", "2023-06-01", "-o", str(blocker), "-w", str(ws)], capsys)
    assert code == 2 and "a-file" in err
    code, _, err = _run(
        ["fleet", "evaluate", "--at", "2023-06-01", "-o", str(tmp_path), "-w", str(ws)], capsys
    )
    assert code == 2 and str(tmp_path) in err
