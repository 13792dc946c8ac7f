"""``appveto export``: the command over the library, with errors for people."""

from __future__ import annotations

import argparse
import json
import plistlib
from pathlib import Path

import pytest

from appveto.cli import export_cmd
from appveto.errors import AppvetoError
from tests.export.fixtures import POLICIES


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="appveto")
    sub = parser.add_subparsers()
    export_cmd.register(sub)
    args = parser.parse_args(["export", *argv])
    code: int = args.handler(args)
    return code


def test_single_target_to_file_with_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.mobileconfig"
    code = _run(
        [
            "apple",
            "--policies",
            str(POLICIES),
            "--decision",
            "test-parl-networks",
            "--at",
            "2023-04-01",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    assert plistlib.loads(out.read_bytes())["PayloadContent"][0]["blockedAppBundleIDs"] == [
        "com.zhiliaoapp.musically"
    ]
    err = capsys.readouterr().err
    assert "SUPERVISED" in err and "where it goes" in err


def test_single_target_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(
        ["amapi", "--policies", str(POLICIES), "--decision", "test-fed-devices", "--at", "2023-04-01"]
    )
    assert code == 0
    body = json.loads(capsys.readouterr().out)
    assert {a["packageName"] for a in body["applications"]} == {
        "com.zhiliaoapp.musically",
        "com.ss.android.ugc.trill",
    }


def test_zone_option(capsys: pytest.CaptureFixture[str]) -> None:
    _run(
        [
            "adguard",
            "--policies",
            str(POLICIES),
            "--decision",
            "test-parl-networks",
            "--zone",
            "visitor-wifi",
            "--at",
            "2023-04-01",
        ]
    )
    rules = [x for x in capsys.readouterr().out.splitlines() if x.startswith("||")]
    assert rules and all(r.endswith("$client=127.0.0.4/32") for r in rules)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["apple"], "choose one with --decision"),
        (["apple", "--decision", "nope"], "no decision 'nope'"),
        (["unbound", "--decision", "test-fed-devices", "--at", "2023-04-01"], "names no network zone"),
        (["apple", "--decision", "test-expired", "--at", "2023-04-01"], "expired on 2022-07-01"),
        (["apple", "--decision", "test-parl-networks", "--at", "1.4.2023"], "is not a date"),
        (
            ["amapi", "--decision", "test-parl-networks", "--at", "2023-04-01", "--zone", "staff-lan"],
            "--zone applies to DNS targets only",
        ),
        (
            ["unbound", "--decision", "test-parl-networks", "--at", "2023-04-01", "--zone", "x"],
            "no network zone 'x'",
        ),
        (["all"], "--output FOLDER"),
    ],
)
def test_errors_are_appveto_errors(argv: list[str], message: str) -> None:
    with pytest.raises(AppvetoError) as exc:
        _run([*argv, "--policies", str(POLICIES)])
    assert message in str(exc.value)


def test_bad_policy_folder_is_a_policy_error(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("kind: decision\nid: [\n", encoding="utf-8")
    with pytest.raises(AppvetoError) as exc:
        _run(["apple", "--policies", str(tmp_path)])
    assert exc.value.diagnostics()[0].file is not None


def test_export_all_writes_folder_and_readme(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    assert _run(["all", "--policies", str(POLICIES), "--at", "2023-04-01", "--output", str(out)]) == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert "README.md" in files
    assert "test-parl-networks/test-parl-networks.unbound.conf" in files
    assert "test-fed-devices/test-fed-devices.mobileconfig" in files
    assert not any(f.startswith("test-fed-devices/") and f.endswith(".unbound.conf") for f in files)
    first = {f: (out / f).read_bytes() for f in files}
    # Running again gives the same bytes.
    assert _run(["all", "--policies", str(POLICIES), "--at", "2023-04-01", "--output", str(out)]) == 0
    assert {f: (out / f).read_bytes() for f in files} == first


def test_refuses_to_overwrite_a_policy_file(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder)
    victim = folder / "test-family.yaml"
    before = victim.read_bytes()
    with pytest.raises(AppvetoError, match="refusing to overwrite an input file"):
        _run(
            [
                "hosts",
                "--policies",
                str(folder),
                "--decision",
                "test-family",
                "--at",
                "2023-04-01",
                "--output",
                str(victim),
            ]
        )
    assert victim.read_bytes() == before


def test_through_the_main_entry_point(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Registered in appveto.cli.main, errors become exit code 2 with located messages."""
    from appveto.cli import main as cli_main

    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("appveto.cli.export_cmd",))
    out = tmp_path / "x.rpz.zone"
    argv = [
        "export",
        "rpz",
        "--policies",
        str(POLICIES),
        "--decision",
        "test-parl-networks",
        "--at",
        "2023-04-01",
    ]
    assert cli_main.main([*argv, "--output", str(out)]) == 0
    assert b"CNAME ." in out.read_bytes()
    assert (
        cli_main.main(["export", "rpz", "--policies", str(POLICIES), "--decision", "test-fed-devices"]) == 2
    )
    err = capsys.readouterr().err
    assert "appveto: error:" in err and "test-fed-devices" in err
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["export", "no-such-target", "--policies", str(POLICIES)])
    assert exc.value.code == 2
