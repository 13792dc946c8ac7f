"""The demo's sample apps: built from nothing, read without a problem, and each shows its kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appveto.cli.main import main
from appveto.demo.samples import build_samples


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    folder = tmp_path_factory.mktemp("samples")
    for s in build_samples():
        (folder / s.file_name).write_bytes(s.data)
    out = folder / "scan.json"
    names = sorted(str(p) for p in folder.glob("*.apk"))
    assert main(["scan", "--now", "2023-04-15T12:00:00Z", "--format", "json", "-o", str(out), *names]) in (
        0,
        1,
    )
    return {Path(r["file"]).name: r for r in json.loads(out.read_text())["results"]}


def _checks(record: dict[str, object]) -> set[str]:
    findings = record["findings"]
    assert isinstance(findings, list)
    return {f["check_id"] for f in findings}


def test_four_samples_read_cleanly(scanned: dict[str, dict[str, object]]) -> None:
    assert sorted(scanned) == [
        "flashlight-trackers.apk",
        "loader-packed.apk",
        "notes-clean.apk",
        "notes-obfuscated.apk",
    ]
    for name, record in scanned.items():
        assert record["error"] is None, name
        assert record["problems"] == [], name


def test_each_sample_shows_its_kind(scanned: dict[str, dict[str, object]]) -> None:
    clean = scanned["notes-clean.apk"]
    obfuscated = scanned["notes-obfuscated.apk"]
    trackers = scanned["flashlight-trackers.apk"]
    packed = scanned["loader-packed.apk"]
    # the clean app: nothing above info, full coverage
    assert all(f["severity"] == "info" for f in clean["findings"])  # type: ignore[union-attr]
    # the same app, same signer, renamed: obfuscated names and less readable code
    assert obfuscated["package"] == clean["package"]
    assert "AV-OBF-002" in _checks(obfuscated) and "AV-OBF-002" not in _checks(clean)
    # trackers by code and by endpoint
    assert {"AV-TRK-001", "AV-TRK-002"} <= _checks(trackers)
    assert len(trackers["trackers"]) >= 5  # type: ignore[arg-type]
    # the packer is named and run-time loading is seen
    assert {"AV-OBF-001", "AV-OBF-005"} <= _checks(packed)
    assert not ({"AV-OBF-001", "AV-OBF-005"} & (_checks(clean) | _checks(trackers)))


def test_samples_are_valid_for_android_tools(tmp_path: Path) -> None:
    """aapt reads each sample's manifest as Android would (the builder's own tests check signing)."""
    from tests.conftest import require_tool

    aapt = require_tool("aapt")
    import subprocess

    for s in build_samples():
        path = tmp_path / s.file_name
        path.write_bytes(s.data)
        out = subprocess.run(
            [aapt, "dump", "badging", str(path)], capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, (s.file_name, out.stderr)
        assert "package: name=" in out.stdout
