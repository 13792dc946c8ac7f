"""``appveto data update --from FILE``: a tracker list carried in by hand, validated, stored
atomically through the one writer, recorded and used offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.cli.main import main
from appveto.errors import KnowledgeBaseError
from appveto.kb.load import load_kb, read_data_manifest, shipped_exodus_bytes
from appveto.kb.update import update_from_file

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _newer_list(tmp: Path) -> Path:
    doc = json.loads(shipped_exodus_bytes())
    doc["trackers"]["9999"] = {
        "id": 9999,
        "name": "Example Newer Tracker",
        "code_signature": "org.example.newertracker.",
        "network_signature": "newertracker\\\\.example",
        "website": "https://newertracker.example",
        "categories": ["Analytics"],
    }
    path = tmp / "trackers-from-usb.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


def test_a_list_given_by_hand_is_stored_recorded_and_used(tmp_path: Path) -> None:
    given = _newer_list(tmp_path)
    before = given.read_bytes()
    data = tmp_path / "data"
    (row,) = update_from_file(data, given, now=NOW)
    assert row.kind == "exodus-trackers" and "trackers-from-usb.json" in row.source
    assert (data / row.file).read_bytes() == before and given.read_bytes() == before  # input untouched
    kb = load_kb(data)
    d = kb.dataset("exodus-trackers")
    assert d is not None and d.origin == "downloaded" and d.records == 433
    assert any(t.name == "Example Newer Tracker" for t in kb.trackers)
    assert [r.name for r in read_data_manifest(data)] == ["exodus-trackers"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not json", "invalid JSON"), (b'{"trackers": {}}', "no trackers"), (b'{"x": 1}', "trackers")],
)
def test_a_bad_list_is_refused_naming_the_file_and_the_previous_copy_stays(
    tmp_path: Path, content: bytes, message: str
) -> None:
    data = tmp_path / "data"
    update_from_file(data, _newer_list(tmp_path), now=NOW)
    kept = (data / "exodus_trackers.json").read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(KnowledgeBaseError) as info:
        update_from_file(data, bad, now=NOW)
    text = str(info.value) + " ".join(f"{d.file} {d.message}" for d in info.value.diagnostics())
    assert "bad.json" in text and message in text
    assert (data / "exodus_trackers.json").read_bytes() == kept
    assert not list(data.glob(".appveto-*.tmp"))


def test_the_stored_copy_itself_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    update_from_file(data, _newer_list(tmp_path), now=NOW)
    with pytest.raises(KnowledgeBaseError, match="stored copy"):
        update_from_file(data, data / "exodus_trackers.json", now=NOW)


def test_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    given = _newer_list(tmp_path)
    data = tmp_path / "data"
    assert main(["data", "--data-dir", str(data), "update", "--from", str(given)]) == 0
    out = capsys.readouterr().out
    assert "exodus-trackers: exodus_trackers.json" in out and "trackers-from-usb.json" in out
    assert main(["data", "--data-dir", str(data), "status"]) == 0
    status = capsys.readouterr().out
    assert "exodus-trackers [downloaded] 433 records" in status
    assert main(["data", "--data-dir", str(data), "update", "--from", str(tmp_path / "missing.json")]) == 2
