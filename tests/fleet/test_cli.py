"""``appveto init``, ``fleet import`` and ``directory import`` through the real entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from appveto.cli import main as cli_main
from appveto.fleet.workspace import load_workspace
from tests.fleet import payloads as pl

Write = Callable[[str, "str | bytes"], Path]


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    mods = tuple(cli_main.COMMAND_MODULES)
    for m in ("appveto.cli.init_cmd", "appveto.cli.fleet_cmd"):
        if m not in mods:
            mods += (m,)
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", mods)


def test_init_import_and_refusal(tmp_path: Path, write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    assert cli_main.main(["init", str(ws)]) == 0
    assert "created workspace" in capsys.readouterr().out
    assert cli_main.main(["init", str(ws)]) == 2
    assert "a workspace already exists here" in capsys.readouterr().err

    page = write(
        "page.json",
        pl.amapi_page(
            [
                pl.amapi_device("a1", [(pl.TIKTOK, "TikTok", "1")]),
                pl.amapi_device("a1", [(pl.TIKTOK, "TikTok", "1")]),
            ]
        ),
    )
    code = cli_main.main(
        ["fleet", "import", "--source", "amapi", str(page), "--at", "2024-05-20", "-w", str(ws)]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert f"{page}: 1 rows imported, 2 bad, 0 skipped, 1 devices" in out
    assert "snapshot 1 (amapi, 2024-05-20T00:00:00Z): 1 rows from 1 devices in 1 file" in out
    assert "appveto: warning:" in err and "duplicate device ID" in err

    dry = cli_main.main(["fleet", "import", "-s", "amapi", str(page), "--dry-run", "-w", str(ws)])
    assert dry == 0 and "dry run, nothing stored (amapi" in capsys.readouterr().out

    bad = write("bad.csv", "not,intune\n1,2\n")
    code = cli_main.main(["fleet", "import", "-s", "intune-csv", str(bad), "-w", str(ws)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"appveto: error: {bad}:1: not an Intune AppInvRawData export: missing columns" in err
    with load_workspace(ws).open_store() as store:
        assert store.counts().snapshots == 1


def test_unknown_source_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_main.main(["fleet", "import", "--source", "jamf", "x.json"])
    assert info.value.code == 2
    assert "invalid choice: 'jamf'" in capsys.readouterr().err


def test_directory_import_with_db_url(
    tmp_path: Path, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    doc = {"people": [{"id": "p1", "email": "a@example.org", "devices": ["D1"]}, {"name": "no id"}]}
    path = write("dir.json", json.dumps(doc))
    assert cli_main.main(["directory", "import", str(path), "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "1 people imported, 1 bad entries" in out and "1 device holdings" in out
    assert "person without 'id'" in err
    assert cli_main.main(["directory", "import", str(write("x.csv", "a,b\n")), "--db", db]) == 2
    assert "missing column id" in capsys.readouterr().err


def test_not_a_workspace(tmp_path: Path, write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    f = write("x.json", "{}")
    assert cli_main.main(["fleet", "import", "-s", "amapi", str(f), "-w", str(tmp_path)]) == 2
    assert "not an appveto workspace" in capsys.readouterr().err


def test_fleet_group_is_shared() -> None:
    import argparse

    from appveto.cli.fleet_cmd import fleet_group, register

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    register(sub)
    group = fleet_group(sub)
    group.add_parser("evaluate")  # what another command module does
    assert {"import", "evaluate"} <= set(group.choices)


def test_a_folder_of_responses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "responses"
    folder.mkdir()
    for i in range(25):
        resp = pl.apple_response(f"UDID-{i:02d}", [pl.apple_app(pl.TIKTOK, "TikTok", "1", "1")])
        if i == 7:
            resp["Status"] = "Error"
        (folder / f"{i:02d}.plist").write_bytes(pl.plist(resp))
    (folder / ".DS_Store").write_bytes(b"junk")
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert cli_main.main(["fleet", "import", "-s", "apple", str(folder), "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "24 rows from 24 devices in 25 files, 1 bad" in out
    assert out.count("rows imported") == 1 and "07.plist: 0 rows imported, 1 bad" in out
    assert "command status 'Error'" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main.main(["fleet", "import", "-s", "apple", str(empty), "--db", db]) == 2
    assert "no files to import" in capsys.readouterr().err


def test_import_jobs_through_the_installed_command(tmp_path: Path, write: Write) -> None:
    """Worker processes started from the real console script give the serial result."""
    import re
    import subprocess
    import sys

    script = Path(sys.executable).with_name("appveto")
    if not script.exists():
        pytest.skip("the appveto console script is not installed next to this Python")
    files = [
        write(
            f"p{i}.json",
            pl.amapi_page([pl.amapi_device(f"d{i}{j}", [(pl.TIKTOK, "TikTok", "1")]) for j in range(3)]),
        )
        for i in range(3)
    ]
    outputs = []
    for jobs in ("1", "2"):
        ws = tmp_path / f"ws{jobs}"
        assert cli_main.main(["init", str(ws)]) == 0
        run = subprocess.run(
            [
                str(script),
                "fleet",
                "import",
                "-s",
                "amapi",
                "--jobs",
                jobs,
                "--at",
                "2024-05-20",
                "-w",
                str(ws),
            ]
            + [str(f) for f in files],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        outputs.append(re.sub(r"; [0-9.]+ s \([0-9,]+ rows/s\)", "", run.stdout))
    assert outputs[0] == outputs[1]
    assert "9 rows from 9 devices in 3 files" in outputs[1]


@pytest.mark.parametrize("value", ["-1", "x", "1000"])
def test_import_jobs_must_be_a_sane_number(
    tmp_path: Path, write: Write, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write("page.json", pl.amapi_page([]))
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["fleet", "import", "-s", "amapi", "--jobs", value, str(page), "-w", str(tmp_path)])
    assert exc.value.code == 2
    assert "--jobs" in capsys.readouterr().err
