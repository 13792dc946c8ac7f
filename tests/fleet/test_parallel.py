"""Imports read in worker processes give exactly what a serial import gives.

Each test imports the same files twice, with ``jobs=1`` (every file read in the
importing process) and with ``jobs=2`` (files read in a process pool and replayed), and
compares everything stored and reported: devices with their IDs, app records, rows,
snapshot membership, counts and every issue with its file and line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from appveto.errors import FleetError
from appveto.fleet import _parallel
from appveto.fleet._parallel import RecordingSink, default_jobs, read_file
from appveto.fleet.generator import generate
from appveto.fleet.ingest import import_inventory
from appveto.fleet.model import DeviceRecord, ImportSummary
from appveto.fleet.store import Store
from tests.fleet import payloads as pl

AT = datetime(2024, 5, 20, tzinfo=UTC)
Write = Callable[[str, "str | bytes"], Path]

_DUMP = {
    "devices": "SELECT id, source, source_device_id, name, platform, ownership, management_mode, user_ref, "
    "serial_number, model, os_version, enrolled_at, last_report_at, person_id, holder_match FROM devices",
    "apps": "SELECT id, platform, app_id, name, version, source FROM apps",
    "installed_apps": "SELECT snapshot_id, device_id, app_ref FROM installed_apps",
    "snapshot_devices": "SELECT snapshot_id, device_id FROM snapshot_devices",
    "snapshots": "SELECT id, source, devices, apps FROM snapshots",
    "import_log": "SELECT file, snapshot_id, rows_ok, rows_bad, rows_skipped, errors FROM import_log",
}


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return {k: sorted(tuple(r) for r in conn.execute(text(q))) for k, q in _DUMP.items()}
    finally:
        engine.dispose()


def _summary(s: ImportSummary) -> tuple[Any, ...]:
    return (s.kind, s.source, s.snapshot_id, s.taken_at, s.files)


def _both(
    tmp_path: Path, source: str, batches: list[list[Path]], fresh_url: Callable[[int], str] | None = None
) -> tuple[Any, Any]:
    """Import each batch (one snapshot each) serially and pooled; returns both results."""
    results = []
    for jobs in (1, 2):
        url = fresh_url(jobs) if fresh_url else f"sqlite:///{tmp_path / f'jobs{jobs}.db'}"
        summaries: list[Any] = []
        with Store.open(url) as store:
            for files in batches:
                try:
                    summaries.append(
                        _summary(import_inventory(store, source, files, at=AT, now=AT, jobs=jobs))
                    )
                except FleetError as exc:
                    summaries.append((str(exc), exc.diagnostics()))
        results.append((summaries, _dump(url)))
    return results[0], results[1]


def test_amapi_duplicates_within_and_across_files_bad_and_skipped_rows(tmp_path: Path, write: Write) -> None:
    tiktok = (pl.TIKTOK, "TikTok", "34.1.2")
    auth = (pl.AUTHENTICATOR, "Authenticator", "6.2404.2444")
    removed = pl.amapi_device("d5", [tiktok])
    removed["applicationReports"][0]["state"] = "REMOVED"
    f1 = write(
        "p1.json",
        pl.amapi_page(
            [
                pl.amapi_device("d1", [tiktok, auth]),
                pl.amapi_device("d2", [auth], serial="S2"),
                pl.amapi_device("d2", [tiktok]),  # duplicate within the file
                {"managementMode": "DEVICE_OWNER", "applicationReports": []},  # no name: bad
            ]
        ),
    )
    f2 = write(
        "p2.json",
        pl.amapi_page(
            [
                pl.amapi_device("d3", [tiktok], enrollmentTime="yesterday"),  # a note
                pl.amapi_device("d1", [tiktok]),  # declared by p1: refused, its apps bad
                removed,
            ],
            token=None,
        ),
    )
    f3 = write("p3.json", pl.amapi_page([pl.amapi_device("d4", [tiktok, tiktok, auth])], token=None))
    serial, pooled = _both(tmp_path, "amapi", [[f1, f2, f3], [f3, f1]])
    assert serial == pooled
    messages = [i.message for fs in serial[0][0][4] for i in fs.issues]
    assert any("duplicate device ID" in m for m in messages)
    assert any("application reports of the duplicate device" in m for m in messages)


def test_pooled_import_on_postgresql(tmp_path: Path, write: Write, pg_database: str) -> None:
    import psycopg

    def fresh(_jobs: int) -> str:
        with psycopg.connect(
            pg_database.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as c:
            c.execute("DROP SCHEMA public CASCADE")
            c.execute("CREATE SCHEMA public")
        return pg_database

    tiktok = (pl.TIKTOK, "TikTok", "34.1.2")
    f1 = write("p1.json", pl.amapi_page([pl.amapi_device("d1", [tiktok]), pl.amapi_device("d2", [tiktok])]))
    f2 = write("p2.json", pl.amapi_page([pl.amapi_device("d1", [tiktok]), pl.amapi_device("d3", [tiktok])]))
    serial, pooled = _both(tmp_path, "amapi", [[f1, f2], [f2]], fresh)
    assert serial == pooled
    assert len(serial[1]["installed_apps"]) == 3 + 2


def test_apple_and_intune_repeated_devices(tmp_path: Path, write: Write) -> None:
    a1 = write(
        "a1.plist",
        pl.plist(
            [
                pl.apple_response(
                    "U1", [pl.apple_app("com.x", "X", "1", "1"), pl.apple_app(None, "Y", "2", "2")]
                ),
                pl.apple_response("U2", [{"Version": "1"}]),  # neither Identifier nor Name
            ]
        ),
    )
    a2 = write("a2.plist", pl.plist([pl.apple_response("U1", [pl.apple_app("com.z", "Z", "1", "1")])]))
    (tmp_path / "apple").mkdir()
    serial, pooled = _both(tmp_path / "apple", "apple", [[a1, a2], [a2, a1]])
    assert serial == pooled
    assert any("duplicate device" in i.message for fs in serial[0][1][4] for i in fs.issues)

    header = pl.INTUNE_HEADER
    i1 = write(
        "i1.csv",
        "\n".join(
            [
                header,
                pl.intune_row("TikTok", "34.1", "dev-1", "iPhone A", "a@example.org"),
                pl.intune_row("Teams", "1.0", "dev-1", "iPhone A", "a@example.org"),
                pl.intune_row("Teams", "1.0", "dev-2", "iPhone B", "b@example.org"),
                "not,enough,columns",
            ]
        )
        + "\n",
    )
    i2 = write(
        "i2.csv",
        "\n".join(
            [
                header,
                pl.intune_row("Signal", "7.0", "dev-2", "iPhone B", "b@example.org"),
                # the same device described differently than in i1: one note
                pl.intune_row("Signal", "7.0", "dev-1", "iPhone A renamed", "a@example.org"),
                pl.intune_row("Teams", "1.0", "dev-1", "iPhone A again", "a@example.org"),
            ]
        )
        + "\n",
    )
    (tmp_path / "intune").mkdir()
    serial, pooled = _both(tmp_path / "intune", "intune-csv", [[i1, i2], [i2, i1]])
    assert serial == pooled
    notes = [i.message for fs in serial[0][0][4] for i in fs.issues if "described differently" in i.message]
    assert len(notes) == 1


def test_a_refused_file_refuses_the_pooled_import_the_same_way(tmp_path: Path, write: Write) -> None:
    good = write("good.json", pl.amapi_page([pl.amapi_device("d1", [(pl.TIKTOK, "TikTok", "1")])]))
    wrong = write("wrong.json", json.dumps({"hosts": []}))
    broken = write("broken.json", '{"devices": [')
    serial, pooled = _both(tmp_path, "amapi", [[good, wrong, broken, good]])
    assert serial == pooled
    message, diagnostics = serial[0][0]
    assert "nothing was stored" in message
    assert {d.file for d in diagnostics if d.file} == {str(wrong), str(broken)}
    assert serial[1]["installed_apps"] == []


@pytest.mark.parametrize("source", ["amapi", "apple", "intune-csv"])
def test_generated_fleet_files(tmp_path: Path, source: str) -> None:
    """A realistic fleet: several files per source and a shared app catalog."""
    s = generate(tmp_path / "fleet", people=300, apps_per_device=12, devices_per_file=12)
    files = dict(s.sources)[source]
    assert len(files) > 1
    serial, pooled = _both(tmp_path, source, [list(files)])
    assert serial == pooled
    assert len(serial[1]["installed_apps"]) >= 12 * len(files)


def test_recording_keeps_only_the_declarations_a_replay_needs() -> None:
    sink = RecordingSink()
    first = DeviceRecord("dev-1", name="A")
    assert sink.device(first, line=2, repeat=True)
    for line in range(3, 10):
        assert sink.device(first, line=line, repeat=True)  # same description: nothing to replay
    assert sink.device(DeviceRecord("dev-1", name="B"), line=10, repeat=True)
    assert sink.device(DeviceRecord("dev-1", name="C"), line=11, repeat=True)
    assert [e.line for e in sink.events] == [2, 10]  # type: ignore[union-attr]
    assert sink.device(DeviceRecord("dev-2"), line=12)
    assert not sink.device(DeviceRecord("dev-2"), line=13)  # a duplicate, recorded for its message
    sink.app("dev-2", "ios", "com.x", "X", "1", None)
    sink.app("dev-1", "ios", "com.x", "X", "1", None)
    assert sink.device_keys == ["dev-1", "dev-2"]
    assert sink.app_keys == [("ios", "com.x", "X", "1", None)]
    assert list(sink.rows) == [1 << 32, 0]


def test_a_worker_reports_an_unreadable_file(tmp_path: Path) -> None:
    parsed = read_file("amapi", tmp_path / "missing.json", "missing.json")
    assert parsed.refusals and parsed.refusals[0].file == "missing.json"
    assert not parsed.rows


def test_default_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = []
    for i in range(3):
        files.append(tmp_path / f"f{i}.json")
        files[-1].write_bytes(b"x" * 100)
    assert default_jobs(files) == 1  # small: not worth a pool
    assert default_jobs(files[:1]) == 1
    monkeypatch.setattr(_parallel, "PARALLEL_MIN_BYTES", 10)
    monkeypatch.setattr(_parallel, "_cores", lambda: 2)
    assert default_jobs(files) == 2
    assert default_jobs([*files[:2], tmp_path / "missing"]) == 2
    monkeypatch.setattr(_parallel, "_cores", lambda: 8)
    assert default_jobs(files) == 3


def test_the_collector_is_back_on_after_a_read(tmp_path: Path, write: Write) -> None:
    import gc

    good = write("good.json", pl.amapi_page([pl.amapi_device("d1", [(pl.TIKTOK, "TikTok", "1")])]))
    for path in (good, tmp_path / "missing.json"):
        read_file("amapi", path, path.name)
        assert gc.isenabled()
    gc.disable()
    try:
        read_file("amapi", good, "good.json")
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


_COLUMNS = (
    ["com.a", "com.b", "com.a", None, "com.c", "com.b"],
    ["A", "B", "A", "Notes", "C", "B2"],
    ["1", "2", "1", "3", None, "2"],
    [None, "play", None, None, None, "play"],
)


class _ColumnImporter:
    """Declares two devices and gives them the same apps, per row or column-wise."""

    title = "test"

    def __init__(self, name: str, columnwise: bool) -> None:
        self.name = name
        self.columnwise = columnwise

    def read(self, path: Path, display: str, sink: Any) -> None:
        for dev in ("d1", "d2"):
            sink.device(DeviceRecord(dev), line=1)
            if self.columnwise:
                sink.apps(dev, "ios", *_COLUMNS)
            else:
                for row in zip(*_COLUMNS, strict=True):
                    sink.app(dev, "ios", *row)


def test_apps_by_columns_equal_apps_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appveto.fleet import _writer

    recorded = []
    for columnwise in (False, True):
        sink = RecordingSink()
        _ColumnImporter("amapi", columnwise).read(tmp_path, "x", sink)
        recorded.append((sink.app_keys, list(sink.rows)))
    assert recorded[0] == recorded[1]
    assert len(recorded[0][0]) == 5 and len(recorded[0][1]) == 12  # the repeated app is one key

    for cache in (_writer.MAX_APP_CACHE, 2):  # 2: the writer's bounded app cache overflows
        monkeypatch.setattr(_writer, "MAX_APP_CACHE", cache)
        dumps = []
        for columnwise in (False, True):
            url = f"sqlite:///{tmp_path / f'{cache}-{columnwise}.db'}"
            with Store.open(url) as store:
                import_inventory(store, _ColumnImporter("amapi", columnwise), [tmp_path], at=AT, now=AT)
            dumps.append(_dump(url))
        assert dumps[0] == dumps[1]
        assert len(dumps[0]["installed_apps"]) == 10  # the exact duplicate row counts once per device


def _kill_workers() -> None:
    import multiprocessing
    import os
    import signal

    for child in multiprocessing.active_children():
        if child.pid is not None:
            os.kill(child.pid, signal.SIGKILL)


def test_a_dying_pool_hands_the_rest_back(
    tmp_path: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers killed in the middle (out of memory, say): the import finishes here, the same."""
    from appveto.fleet import ingest as store_mod

    files = [
        write(
            f"p{i}.json",
            pl.amapi_page([pl.amapi_device(f"d{i}-{j}", [(pl.TIKTOK, "TikTok", "1")]) for j in range(3)]),
        )
        for i in range(12)
    ]
    gen = _parallel.read_in_pool("amapi", files, [f.name for f in files], 2)
    got = [next(gen)]
    _kill_workers()
    got += list(gen)
    assert len(got) == len(files)
    assert got[0] is not None and None in got
    assert [p.display for p in got if p is not None] == [f.name for f, p in zip(files, got, strict=True) if p]

    original = store_mod.read_in_pool

    def dying(*args: Any) -> Any:
        gen = original(*args)
        yield next(gen)
        _kill_workers()
        yield from gen

    monkeypatch.setattr(store_mod, "read_in_pool", dying)
    serial, pooled = _both(tmp_path, "amapi", [files])
    assert serial == pooled
    assert len(serial[1]["installed_apps"]) == 36
