"""`appveto scan`: batch behaviour, exit codes, JSON fields, output safety."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from appveto.cli.main import main
from tests.apkbuilder import ApkSpec, ComponentSpec, build_apk

README_FIELDS = {
    "file",
    "sha256",
    "package",
    "version_code",
    "version_name",
    "min_sdk",
    "target_sdk",
    "permissions",
    "components",
    "signers",
    "dex",
    "native_libs",
    "tampering",
    "error",
}


@pytest.fixture
def good_apk(tmp_path: Path) -> Path:
    p = tmp_path / "good.apk"
    p.write_bytes(
        build_apk(
            ApkSpec(
                package="org.example.good",
                permissions=("android.permission.CAMERA",),
                components=(
                    ComponentSpec(
                        "activity", ".Main", actions=("android.intent.action.MAIN",), exported=True
                    ),
                ),
            )
        )
    )
    return p


def test_json_document_has_the_documented_fields(good_apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--format", "json", str(good_apk)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"]
    (r,) = doc["results"]
    assert set(r) >= README_FIELDS
    assert r["error"] is None
    assert r["package"] == "org.example.good"
    assert r["permissions"] == ["android.permission.CAMERA"]
    assert {"type": "activity", "name": "org.example.good.Main", "exported": True}.items() <= r["components"][
        0
    ].items()
    assert {"files", "classes", "methods", "strings"} <= set(r["dex"])
    assert all({"schemes", "cert_sha256", "subject", "issuer"} <= set(s) for s in r["signers"])


def test_one_bad_file_does_not_stop_the_batch(
    good_apk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"\x00" * 100)
    missing = tmp_path / "missing.apk"
    code = main(["scan", "--format", "json", str(bad), str(good_apk), str(missing)])
    out, err = capsys.readouterr()
    assert code == 2
    results = json.loads(out)["results"]
    assert [Path(r["file"]).name for r in results] == ["bad.apk", "good.apk", "missing.apk"]
    assert results[1]["error"] is None and results[1]["package"] == "org.example.good"
    assert "bad.apk" in results[0]["error"] and "bad.apk" in err
    assert "missing.apk" in results[2]["error"]
    assert "Traceback" not in err


def test_output_never_overwrites_an_input(good_apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = good_apk.read_bytes()
    assert main(["scan", "--format", "json", "-o", str(good_apk), str(good_apk)]) == 2
    assert good_apk.read_bytes() == before
    assert "refusing to overwrite" in capsys.readouterr().err


def test_output_file_is_written(good_apk: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "scan.json"
    assert main(["scan", "--format", "json", "-o", str(out), str(good_apk)]) == 0
    assert json.loads(out.read_text())["results"][0]["package"] == "org.example.good"


def test_text_output_is_readable(good_apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(good_apk)]) == 0
    out = capsys.readouterr().out
    assert "org.example.good" in out and "android.permission.CAMERA" in out


def test_usage_error_is_exit_2_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "appveto.cli.main", "scan"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "usage" in proc.stderr


def test_whole_process_on_hostile_file(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.apk"
    # a zip end record that claims a central directory far past the end of the file
    hostile.write_bytes(
        b"PK\x05\x06"
        + b"\x00" * 4
        + b"\x01\x00\x01\x00"
        + b"\xff\xff\x00\x00"
        + b"\xff\xff\xff\x00"
        + b"\x00\x00"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "appveto.cli.main", "scan", str(hostile)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "hostile.apk" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_schema_policy_is_the_policy_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from appveto.policy.schema import policy_json_schema

    assert main(["schema", "policy"]) == 0
    assert json.loads(capsys.readouterr().out) == policy_json_schema()
