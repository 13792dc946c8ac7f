"""JSON strings are capped like CSV fields (128 KiB) in every JSON importer and the directory:
an element holding a longer string is a located bad row, a document a located refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.errors import FleetError
from appveto.fleet.directory import read_directory
from appveto.fleet.ingest import import_inventory
from appveto.fleet.store import Store
from appveto.jsoncap import MAX_STRING, long_string
from tests.fleet import payloads as pl

AT = datetime(2024, 5, 20, 9, 0, tzinfo=UTC)
LONG = "x" * (MAX_STRING + 1)
APPS = [(pl.TIKTOK, "TikTok", "34.1")]


def _amapi(one_line: bool) -> str:
    good = pl.amapi_device("good", APPS)
    bad = pl.amapi_device("bad", [(pl.TIKTOK, LONG, "1")])
    if one_line:
        return json.dumps({"devices": [good, bad]})
    return '{"devices": [\n' + ",\n".join(json.dumps(d) for d in (good, bad)) + "\n]}\n"


CASES = {
    "amapi-lines": ("amapi", lambda: _amapi(False), "devices[1].applicationReports[0].displayName"),
    "amapi-one-line": ("amapi", lambda: _amapi(True), "devices[1].applicationReports[0].displayName"),
    "fleet": (
        "fleet",
        lambda: json.dumps(
            {
                "hosts": [
                    pl.fleet_host(
                        "u1", "mac-1", "darwin", [{"name": "Signal", "version": "1", "source": "apps"}]
                    ),
                    pl.fleet_host("u2", LONG, "darwin", []),
                ]
            }
        ),
        "hosts[1].hostname",
    ),
    "headwind": (
        "headwind",
        lambda: json.dumps([pl.headwind_info("h1", APPS), pl.headwind_info("h2", [(pl.TIKTOK, "T", LONG)])]),
        "[1].applications[0].version",
    ),
    "intune-graph": (
        "intune-graph",
        lambda: json.dumps(
            {
                "value": [
                    pl.graph_detected_app(
                        "TikTok", "1", "ios", [pl.graph_managed_device("d1", "n", "a@b.c")]
                    ),
                    pl.graph_detected_app(LONG, "1", "ios", [pl.graph_managed_device("d2", "n", "a@b.c")]),
                ]
            }
        ),
        "value[1].displayName",
    ),
    "osquery": (
        "osquery",
        lambda: (
            pl.osquery_line("apps", "mac-1", "added", columns=pl.osquery_app("a.b", "A", "1"))
            + "\n"
            + pl.osquery_line("apps", "mac-2", "added", columns=pl.osquery_app("a.c", LONG, "1"))
            + "\n"
        ),
        "columns.name",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_long_string_is_a_located_bad_row(case: str, tmp_path: Path) -> None:
    source, make, where = CASES[case]
    f = tmp_path / "export.json"
    f.write_text(make(), encoding="utf-8")
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        summary = import_inventory(store, source, [f], at=AT, display=["export.json"])
        stored = list(store.installed())
    issues = [str(i) for fs in summary.files for i in fs.issues]
    assert summary.rows_bad >= 1 and summary.rows_ok >= 1, issues
    hit = [m for m in issues if "strings are limited to 131,072 characters" in m]
    assert hit and where in hit[0] and "export.json" in hit[0], issues
    assert all(len(v or "") <= MAX_STRING for a in stored for v in (a.name, a.version, a.app_id))


def test_a_directory_with_a_long_string_is_refused_located(tmp_path: Path) -> None:
    f = tmp_path / "directory.json"
    f.write_text(json.dumps({"people": [{"id": "p1", "display_name": LONG}]}), encoding="utf-8")
    with pytest.raises(FleetError) as info:
        read_directory(f)
    assert "people[0].display_name: a string of 131,073 characters" in str(info.value)


def test_long_string_finds_keys_and_values() -> None:
    assert long_string({"a": [1, {"b": "ok"}]}) is None
    assert long_string({"a": [1, {"b": LONG}]}) == "a[1].b: a string of 131,073 characters"
    assert long_string([{LONG: 1}]) == "[0]: a key of 131,073 characters"
