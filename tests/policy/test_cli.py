"""``appveto policy ...`` through its own parser (the lead registers it in COMMAND_MODULES)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from appveto.cli import policy_cmd

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="appveto")
    sub = parser.add_subparsers(dest="command")
    policy_cmd.register(sub)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_check_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["policy", "check", str(EXAMPLES)]) == 0
    assert "valid" in capsys.readouterr().out


def test_check_errors_exit_2_with_locations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "p")
    f = tmp_path / "p" / "be-federal-tiktok.yaml"
    f.write_text(
        f.read_text(encoding="utf-8").replace("authority: be-nsc", "authority: be-nsk"), encoding="utf-8"
    )
    assert _run(["policy", "check", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "be-federal-tiktok.yaml:7:12: decision 'be-fed-2023-tiktok': unknown authority 'be-nsk'" in err
    assert "Traceback" not in err


def test_lint_strict_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["policy", "lint", str(EXAMPLES), "--at", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "warning: [AVP-L001 expired-without-renewal]" in out
    assert _run(["policy", "lint", str(EXAMPLES), "--at", "2026-01-01", "--strict"]) == 1
    capsys.readouterr()
    assert _run(["policy", "lint", str(EXAMPLES), "--at", "2026-01-01", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["at"] == "2026-01-01" and any(w["code"] == "AVP-L004" for w in doc["warnings"])


def test_show_list_one_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["policy", "show", str(EXAMPLES), "--at", "2023-04-01"]) == 0
    out = capsys.readouterr().out
    assert "be-fed-2023-tiktok" in out and "active" in out
    assert _run(["policy", "show", str(EXAMPLES), "be-bxl-parl-2023-tiktok", "--at", "2023-04-01"]) == 0
    out = capsys.readouterr().out
    assert "visitor-wifi" in out and "SSID PARL-GUEST" in out
    assert (
        _run(["policy", "show", str(EXAMPLES), "us-omb-m-23-13", "--at", "2023-03-01", "--format", "json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    (d,) = doc["decisions"]
    assert d["status"] == "active" and d["apps"]["successor_vendors"] == ["bytedance"]
    assert _run(["policy", "show", str(EXAMPLES), "no-such-id"]) == 2
    assert "unknown decision" in capsys.readouterr().err


def test_diff_against_a_git_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    from tests.conftest import require_tool

    git = require_tool("git")
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "policies")

    def run(*argv: str) -> None:
        subprocess.run([git, "-C", str(repo), *argv], check=True, capture_output=True)

    run("init", "-q")
    run("add", "policies")
    run("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "policies")
    fr = repo / "policies" / "fr-recreational-apps.yaml"
    fr.write_text(
        fr.read_text(encoding="utf-8").replace("date: 2023-04-24", "date: 2023-05-24"), encoding="utf-8"
    )
    assert _run(["policy", "diff", "--rev", "HEAD", str(repo / "policies")]) == 0
    out = capsys.readouterr().out
    assert "'term.deadlines' " not in out
    assert "deadline 'remove_by': 'date' changed from 2023-04-24 to 2023-05-24" in out, out
    assert "1 change" in out
    assert _run(["policy", "diff", "--rev", "no-such-rev", str(repo / "policies")]) == 2
    assert "not a valid object name" in capsys.readouterr().err
    assert _run(["policy", "diff", str(repo / "policies")]) == 2


def test_timeline_and_diff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert _run(["policy", "timeline", str(EXAMPLES), "--from", "2024-02-01", "--days", "60"]) == 0
    out = capsys.readouterr().out
    assert "2024-02-16  be-fed-2023-tiktok: expires on 2024-03-17: decide on renewal" in out
    shutil.copytree(EXAMPLES, tmp_path / "new")
    (tmp_path / "new" / "fr-recreational-apps.yaml").unlink()
    assert _run(["policy", "diff", str(EXAMPLES), str(tmp_path / "new")]) == 0
    out = capsys.readouterr().out
    assert "decision 'fr-gov-2023-recreational-apps': removed" in out and "1 change" in out


def test_bad_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _run(["policy", "lint", str(EXAMPLES), "--at", "yesterday"])
    assert info.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["policy", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/") and "Decision" in schema["$defs"]
