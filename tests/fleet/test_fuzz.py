"""Hostile input: every importer and the directory reader either import or refuse, never crash."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from appveto.errors import Diagnostic, FleetError
from appveto.fleet.directory import read_directory
from appveto.fleet.importers import IMPORTERS
from appveto.fleet.ingest import import_inventory
from appveto.fleet.store import Store
from tests.fleet import payloads as pl

AT = datetime(2024, 5, 20, tzinfo=UTC)

SEEDS: dict[str, bytes] = {
    "amapi": pl.amapi_page([pl.amapi_device("a", [(pl.TIKTOK, "TikTok", "1")])]).encode(),
    "apple": pl.plist(pl.apple_response("u", [pl.apple_app(pl.TIKTOK, "TikTok", "1", "1")])),
    "intune-csv": (
        pl.INTUNE_HEADER + "\n" + pl.intune_row("TikTok", "1", "d", "n", "e@x.org") + "\n"
    ).encode(),
    "intune-graph": json.dumps(
        {"value": [pl.graph_detected_app("T", "1", "ios", [pl.graph_managed_device("m", "n", "u@x.org")])]}
    ).encode(),
    "fleet": json.dumps(
        {"hosts": [pl.fleet_host("u", "h", "darwin", [{"name": "T", "version": "1"}])]}
    ).encode(),
    "osquery": (
        pl.osquery_line("apps", "h", "snapshot", snapshot=[pl.osquery_app("a.b", "B", "1")]) + "\n"
    ).encode(),
    "headwind": json.dumps([pl.headwind_info("d", [("a.b", "B", "1")])]).encode(),
    "generic-csv": b"device_id,app_id,app_name\nd,a.b,B\n",
}


def _mutations() -> st.SearchStrategy[tuple[str, bytes]]:
    def mutate(args: tuple[str, int, int, bytes]) -> tuple[str, bytes]:
        source, cut, at, junk = args
        seed = SEEDS[source]
        cut = cut % (len(seed) + 1)
        at = at % (len(seed) + 1)
        return source, (seed[:at] + junk + seed[at:])[: max(cut, at + len(junk))]

    return st.tuples(
        st.sampled_from(sorted(SEEDS)), st.integers(0, 10_000), st.integers(0, 10_000), st.binary(max_size=12)
    ).map(mutate)


@pytest.fixture(scope="module")
def store() -> Store:
    tmp = Path(tempfile.mkdtemp())
    return Store.open(f"sqlite:///{tmp / 'fuzz.db'}")


def _snapshot_rows(store: Store, snapshot_id: int) -> tuple[int, int]:
    """(installed rows, distinct devices) stored for one snapshot, read back with plain SQL."""
    with store._engine.connect() as conn:
        rows, devices = conn.execute(
            text("SELECT COUNT(*), COUNT(DISTINCT device_id) FROM installed_apps WHERE snapshot_id = :s"),
            {"s": snapshot_id},
        ).one()
    return int(rows), int(devices)


def _snapshots(store: Store) -> int:
    return len(store.snapshots())


WHOLE_FILE = ("the file is empty", "not a property list")
"""The only reasons that name no place: they are about the file as a whole (nothing in it, or
its first bytes are of no plist format)."""


def _located(d: Diagnostic) -> bool:
    return d.line is not None or d.entry is not None or d.offset is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_mutations())
def test_importers_count_every_row_and_locate_every_error(
    store: Store, case: tuple[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An import either refuses the whole file (every reason but the summary names the file and a
    place in it, and nothing is stored) or stores exactly the rows it counts as ok, with a located
    issue for every bad row it keeps."""
    source, data = case
    path = tmp_path_factory.mktemp("fz") / "input"
    path.write_bytes(data)
    before = _snapshots(store)
    try:
        summary = import_inventory(store, source, [path], at=AT)
    except FleetError as exc:
        *reasons, last = exc.diagnostics()
        assert reasons, "a refusal says why"
        for d in reasons:
            # a reason names the file, and the place in it unless it is about the whole file
            assert d.file == str(path), str(d)
            assert _located(d) or d.message.startswith(WHOLE_FILE), str(d)
        assert "nothing was stored" in last.message
        assert _snapshots(store) == before
        return
    assert _snapshots(store) == before + 1
    assert summary.snapshot_id is not None
    (f,) = summary.files
    assert f.file == str(path) and f.source == source
    assert min(f.rows_ok, f.rows_bad, f.rows_skipped, f.devices) >= 0
    # a re-read of what was stored equals what the summary counts
    stored_rows, devices_with_apps = _snapshot_rows(store, int(summary.snapshot_id))
    assert stored_rows == f.rows_ok
    assert devices_with_apps <= f.devices  # a device may be reported with no apps
    assert f.issues_total >= len(f.issues) and f.issues_total >= f.rows_bad
    for issue in f.issues:
        assert issue.file == str(path), str(issue)
    located = [i for i in f.issues if i.line is not None or i.entry is not None]
    assert len(located) >= min(f.rows_bad, len(f.issues)), [str(i) for i in f.issues]


@settings(max_examples=80, deadline=None)
@given(
    data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
    fmt=st.sampled_from(["csv", "json", "scim"]),
)
def test_directory_reader_refuses_with_a_place_or_reads_people(
    data: bytes, fmt: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("fz") / "dir"
    path.write_bytes(data)
    try:
        read = read_directory(path, fmt)
    except FleetError as exc:
        diags = exc.diagnostics()
        assert diags and all(d.file == str(path) for d in diags), [str(d) for d in diags]
        return
    assert read.directory.people, "a directory import without people is refused"
    assert read.rows_bad >= 0 and len(read.issues) >= min(read.rows_bad, 1)
    assert all(i.file == str(path) for i in read.issues)
    ids = [p.id for p in read.directory.people]
    assert len(ids) == len(set(ids)), "each person once"


def test_every_source_has_a_seed() -> None:
    assert set(SEEDS) == set(IMPORTERS)


def test_a_file_cut_inside_a_utf8_sequence_is_refused_at_its_place(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes(b"device_id,app_id\nd,a.b\nd,\xc3")
    with pytest.raises(FleetError) as refused:
        import_inventory(store, "generic-csv", [path], at=AT)
    first = refused.value.diagnostics()[0]
    assert (first.file, first.line) == (str(path), 3)
    assert "byte offset 25" in first.message
