"""Hostile input: every importer and the directory reader either import or refuse, never crash."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appveto.errors import FleetError
from appveto.fleet.directory import read_directory
from appveto.fleet.importers import IMPORTERS
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


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_mutations())
def test_importers_never_crash(
    store: Store, case: tuple[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    source, data = case
    path = tmp_path_factory.mktemp("fz") / "input"
    path.write_bytes(data)
    try:
        summary = store.import_inventory(source, [path], at=AT)
    except FleetError as exc:
        assert exc.diagnostics() and all(d.file for d in exc.diagnostics()[:-1])
        return
    assert summary.rows_ok >= 0 and summary.rows_bad >= 0


@settings(max_examples=80, deadline=None)
@given(
    data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
    fmt=st.sampled_from(["csv", "json", "scim"]),
)
def test_directory_reader_never_crashes(
    data: bytes, fmt: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("fz") / "dir"
    path.write_bytes(data)
    with contextlib.suppress(FleetError):
        read_directory(path, fmt)


def test_every_source_has_a_seed() -> None:
    assert set(SEEDS) == set(IMPORTERS)
