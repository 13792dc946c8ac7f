"""demo-data --layouts: the layouts real exports come in, each read back whole by its importer."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from appveto.fleet.generator import _ODD_NAMES, LAYOUTS, generate
from appveto.fleet.ingest import import_inventory
from appveto.fleet.store import Store, sqlite_url


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[Path, ...]], int]:
    out = tmp_path_factory.mktemp("layouts") / "fleet"
    s = generate(out, people=400, seed=5, devices_per_file=15, layouts=True)
    return out, dict(s.sources), s.app_rows


def test_every_layout_is_written(fleet: tuple[Path, dict[str, tuple[Path, ...]], int]) -> None:
    _, sources, _ = fleet
    for source, layouts in LAYOUTS.items():
        written = Counter(p.stem.split("-", 2)[2] for p in sources[source])
        assert set(written) == set(layouts), (source, written)
    by_layout = {p.stem.split("-", 2)[2] + p.suffix: p.read_bytes() for ps in sources.values() for p in ps}
    assert by_layout["binary.plist"].startswith(b"bplist00")
    assert by_layout["xml-bom.plist"].startswith(b"\xef\xbb\xbf<?xml")
    assert b"\r\n" in by_layout["xml-crlf.plist"] and b"\r\n" in by_layout["pretty-crlf.json"]
    assert b"&#39;" in by_layout["xml-entities.plist"] or b"&#34;" in by_layout["xml-entities.plist"]
    assert by_layout["bom.json"].startswith(b"\xef\xbb\xbf{")
    assert by_layout["pretty.json"].startswith(b'{\n  "devices": [\n    {\n')
    quoted = by_layout["bom-quoted.csv"]
    assert quoted.startswith(b'\xef\xbb\xbf"ApplicationKey","ApplicationName"')
    assert b"\r\n" not in by_layout["lf.csv"]


def test_every_file_is_read_whole(
    fleet: tuple[Path, dict[str, tuple[Path, ...]], int], tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    _, sources, rows = fleet
    with Store.open(sqlite_url(tmp_path / "s.db")) as store:
        total = 0
        for source, files in sources.items():
            summary = import_inventory(store, source, list(files), at=datetime(2023, 6, 1, tzinfo=UTC))
            assert summary.rows_bad == 0 and summary.rows_skipped == 0, summary
            total += summary.rows_ok
        assert total == rows
    with sqlite3.connect(tmp_path / "s.db") as db:
        names = {n for (n,) in db.execute("SELECT name FROM apps")}
    for odd, _ in _ODD_NAMES:
        assert any(n.startswith(odd + " ") for n in names), odd
