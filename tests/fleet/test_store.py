"""The store on SQLite and on a real PostgreSQL: migrations, round trips, atomicity, reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from appveto.errors import FleetError
from appveto.fleet import _schema
from appveto.fleet.directory import read_directory
from appveto.fleet.ingest import import_directory, import_inventory
from appveto.fleet.model import HolderMatch
from appveto.fleet.store import Store, migrate, normalize_url
from tests.fleet import payloads as pl

T1 = datetime(2024, 5, 1, tzinfo=UTC)
T2 = datetime(2024, 5, 20, tzinfo=UTC)
Write = Callable[[str, "str | bytes"], Path]

TABLES = {
    "authorities",
    "org_units",
    "roles",
    "people",
    "person_roles",
    "device_holders",
    "systems",
    "network_zones",
    "devices",
    "snapshots",
    "snapshot_devices",
    "apps",
    "installed_apps",
    "import_log",
    "alembic_version",
    # the server's (appveto serve, migration 0003_serve)
    "accounts",
    "account_sessions",
    "api_tokens",
    "app_versions",
    "vettings",
    "scan_jobs",
    "finding_reviews",
    "vetting_steps",
    "audit_log",
}

DIRECTORY = {
    "authorities": [{"id": "fed", "name": "Federal", "kind": "federal"}],
    "org_units": [
        {"id": "fps-bosa", "name": "FPS BOSA", "authority": "fed"},
        {"id": "bosa-dt", "name": "DG Digital Transformation", "parent": "fps-bosa"},
    ],
    "roles": [{"id": "staff", "name": "Staff"}],
    "people": [
        {
            "id": "p1",
            "user_name": "jpeeters",
            "display_name": "Jan Peeters",
            "email": "J.Peeters@example.org",
            "org_unit": "bosa-dt",
            "roles": ["staff"],
            "devices": ["b1"],
        },
        {"id": "p2", "user_name": "amertens", "email": "a.mertens@example.org", "org_unit": "fps-bosa"},
    ],
}


def test_normalize_url() -> None:
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_unsupported_and_bad_urls() -> None:
    with pytest.raises(FleetError, match="unsupported store 'mysql'"):
        Store.open("mysql://u@h/db")
    with pytest.raises(FleetError, match="not a database URL"):
        Store.open("::nonsense::")


def test_upgrade_from_empty_creates_every_table(store_url: str) -> None:
    with Store.open(store_url) as store:
        engine = store.engine
        assert set(inspect(engine).get_table_names()) == TABLES
        assert store.counts().installed_apps == 0
    with Store.open(store_url) as again:  # opening again is a no-op upgrade
        assert again.counts().devices == 0


def test_migrations_match_the_table_definitions(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with Store.open(store_url) as store, store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), _schema.metadata
        )
    assert diff == []


def test_migrate_on_a_raw_engine(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'raw.db'}")
    migrate(engine)
    assert "installed_apps" in inspect(engine).get_table_names()
    engine.dispose()


def _import_sample(store: Store, write: Write) -> None:
    page1 = pl.amapi_page(
        [
            pl.amapi_device(
                "a1",
                [(pl.TIKTOK, "TikTok", "34.8.4"), (pl.AUTHENTICATOR, "Authenticator", "6.2")],
                user="a.mertens@example.org",
            ),
            pl.amapi_device("b1", [(pl.AUTHENTICATOR, "Authenticator", "6.2")]),
        ]
    )
    import_inventory(store, "amapi", [write("p1.json", page1)], at=T1)
    page2 = pl.amapi_page(
        [
            pl.amapi_device("a1", [(pl.AUTHENTICATOR, "Authenticator", "6.3")], user="a.mertens@example.org"),
            pl.amapi_device("c1", [(pl.TIKTOK, "TikTok", "35.0")]),
        ]
    )
    import_inventory(store, "amapi", [write("p2.json", page2)], at=T2)
    d = write("dir.json", json.dumps(DIRECTORY))
    parsed = read_directory(d)
    import_directory(store, parsed.directory, file="dir.json", source="json", now=T2)


def _state(store: Store) -> dict[str, object]:
    """Everything the read API gives, with store-assigned IDs replaced by stable keys."""
    key = {d.id: d.source_device_id for d in store.devices()}
    snaps = {s.id: s.taken_at for s in store.snapshots()}
    return {
        "people": [
            (p.id, p.email, p.org_unit_id, p.authority_id, p.roles, p.devices) for p in store.people()
        ],
        "units": store.org_units(),
        "authorities": store.authorities(),
        "devices": sorted(
            (d.source_device_id, d.person_id, d.holder_match, d.enrolled_at, d.platform)
            for d in store.devices()
        ),
        "latest": sorted((key[o.device.id], o.observed_at) for o in store.observations()),
        "at_t1": sorted(
            (key[a.device_id], a.app_id, a.version, snaps[a.snapshot_id]) for a in store.installed(T1)
        ),
        "latest_apps": sorted((key[a.device_id], a.app_id, a.version) for a in store.installed()),
        "previous_apps": sorted(
            (key[a.device_id], a.app_id, a.version) for a in store.installed(previous=True)
        ),
        "banned": sorted((key[a.device_id], a.app_id) for a in store.installed(app_ids=[pl.TIKTOK])),
        "log": [(r.kind, r.source, r.file, r.rows_ok, r.rows_bad) for r in store.import_log()],
    }


def test_round_trip_is_the_same_on_both_backends(tmp_path: Path, write: Write, pg_url: str) -> None:
    states = []
    for url in (f"sqlite:///{tmp_path / 'rt.db'}", pg_url):
        with Store.open(url) as store:
            _import_sample(store, write)
            states.append(_state(store))
    sqlite_state, pg_state = states
    assert sqlite_state == pg_state
    s = sqlite_state
    dev = "enterprises/LC00abc123/devices/"
    assert s["latest_apps"] == sorted(
        [
            (dev + "a1", pl.AUTHENTICATOR, "6.3"),
            (dev + "b1", pl.AUTHENTICATOR, "6.2"),
            (dev + "c1", pl.TIKTOK, "35.0"),
        ]
    )
    assert s["previous_apps"] == sorted(
        [(dev + "a1", pl.AUTHENTICATOR, "6.2"), (dev + "a1", pl.TIKTOK, "34.8.4")]
    )
    assert s["banned"] == [(dev + "c1", pl.TIKTOK)]
    assert {x[0] for x in s["at_t1"]} == {dev + "a1", dev + "b1"}  # type: ignore[union-attr]
    holders = {d[0]: (d[1], d[2]) for d in s["devices"]}  # type: ignore[union-attr]
    assert holders[dev + "b1"] == ("p1", HolderMatch.DIRECTORY)  # the directory names it by its short ID
    assert holders[dev + "a1"] == ("p2", HolderMatch.INVENTORY_USER)  # via the MDM-reported e-mail
    assert holders[dev + "c1"] == (None, HolderMatch.NONE)
    people = {p[0]: p for p in s["people"]}  # type: ignore[union-attr]
    assert people["p1"][3] == "fed"  # authority inherited through the unit tree
    assert [x[0] for x in s["log"]] == ["inventory", "inventory", "directory"]  # type: ignore[union-attr]


def test_observations_report_unknown_devices(sqlite_store: Store, write: Write) -> None:
    _import_sample(sqlite_store, write)
    before = list(sqlite_store.observations(T1 - timedelta(days=1)))
    assert before and all(o.snapshot_id is None and o.observed_at is None for o in before)
    at_t1 = {o.device.name: o.observed_at for o in sqlite_store.observations(T1)}
    assert at_t1 == {"a1": T1, "b1": T1, "c1": None}
    inv = {i.observation.device.name: [a.app_id for a in i.apps] for i in sqlite_store.device_inventories()}
    assert inv == {"a1": [pl.AUTHENTICATOR], "b1": [pl.AUTHENTICATOR], "c1": [pl.TIKTOK]}


def test_a_failing_import_leaves_nothing(
    store_url: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appveto.fleet import _writer
    from appveto.fleet import ingest as store_mod

    with Store.open(store_url) as store:
        import_inventory(
            store,
            "amapi",
            [write("ok.json", pl.amapi_page([pl.amapi_device("x", [(pl.TIKTOK, "TikTok", "1")])]))],
            at=T1,
        )
        before = store.counts()
        log_before = store.import_log()
        monkeypatch.setattr(_writer, "BATCH_ROWS", 3)  # force several flushed batches before the failure
        devices = [pl.amapi_device(f"n{i}", [(f"app.{j}", "A", "1") for j in range(4)]) for i in range(5)]
        good = write("many.json", pl.amapi_page(devices))
        bad = write("cut.json", pl.amapi_page(devices)[:300])
        with pytest.raises(FleetError, match="truncated JSON"):
            import_inventory(store, "amapi", [good, bad], at=T2)
        assert store.counts() == before
        assert store.import_log() == log_before

        # a database error in the middle rolls back too
        def boom(_conn: object, _snapshot: object = None) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(store_mod, "_resolve_holders", boom)
        with pytest.raises(RuntimeError):
            import_inventory(store, "amapi", [good], at=T2)
        assert store.counts() == before


def test_reimport_updates_devices_and_keeps_history(store_url: str, write: Write) -> None:
    first = pl.amapi_device("z", [(pl.TIKTOK, "TikTok", "1")], serial="S1", ownership="PERSONALLY_OWNED")
    second = pl.amapi_device("z", [], serial="S2", ownership="OWNERSHIP_UNSPECIFIED")
    del second["hardwareInfo"]["model"]
    with Store.open(store_url) as store:
        import_inventory(store, "amapi", [write("1.json", pl.amapi_page([first]))], at=T1)
        import_inventory(store, "amapi", [write("2.json", pl.amapi_page([second]))], at=T2)
        (dev,) = list(store.devices())
        assert dev.serial_number == "S2" and dev.model == "SM-A546B"  # a missing value keeps the old one
        assert dev.ownership.value == "personal"  # so does an unknown enum value
        assert [len(list(store.installed(t))) for t in (T1, T2)] == [1, 0]
        assert [(s.devices, s.apps) for s in store.snapshots()] == [(1, 1), (1, 0)]


def test_app_catalog_beyond_the_memory_bound(
    store_url: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appveto.fleet import _writer

    monkeypatch.setattr(_writer, "MAX_APP_CACHE", 5)
    monkeypatch.setattr(_writer, "BATCH_ROWS", 7)
    devices = [
        pl.amapi_device(f"m{i}", [(f"app.{j}", f"A{j}", "1") for j in range(i, i + 6)]) for i in range(6)
    ]
    with Store.open(store_url) as store:
        import_inventory(store, "amapi", [write("a.json", pl.amapi_page(devices[:3]))], at=T1)
        summary = import_inventory(store, "amapi", [write("b.json", pl.amapi_page(devices))], at=T2)
        assert summary.rows_ok == 36
        got = sorted((a.device_id, a.app_id) for a in store.installed())
        key = {d.id: d.name for d in store.devices()}
        assert sorted((key[d], a) for d, a in got) == sorted(
            (f"m{i}", f"app.{j}") for i in range(6) for j in range(i, i + 6)
        )
        with store.engine.connect() as conn:
            n_apps = conn.exec_driver_sql("SELECT COUNT(*) FROM apps").scalar_one()
        assert n_apps == 11  # each distinct app stored once, across the fallback


def test_naive_snapshot_date_refused(sqlite_store: Store, write: Write) -> None:
    with pytest.raises(FleetError, match="no time zone"):
        import_inventory(sqlite_store, "amapi", [write("x.json", "{}")], at=datetime(2024, 1, 1))
    with pytest.raises(FleetError, match="unknown inventory source"):
        import_inventory(sqlite_store, "jamf", [write("y.json", "{}")], at=T1)


def test_hostile_strings_are_stored_on_both_backends(store_url: str, write: Write) -> None:
    dev = pl.amapi_device("n\\u0000ul", [("com.bad\ud800pkg", "Tik\x00Tok", "1\udfff")])
    text = pl.amapi_page([dev]).replace("\\\\u0000", "\\u0000")
    long_id = "x" * 5000
    with Store.open(store_url) as store:
        summary = import_inventory(store, "amapi", [write("h.json", text)], at=T1)
        assert summary.rows_ok == 1
        (app,) = list(store.installed())
        assert app.app_id == "com.bad?pkg" and app.name == "Tik\ufffdTok" and app.version == "1?"
        summary = import_inventory(
            store, "generic-csv", [write("long.csv", f"device_id,app_id\n{long_id},{long_id}\n")], at=T2
        )
        assert summary.rows_ok == 1
        directory = read_directory(write("d.json", json.dumps({"people": [{"id": "p\u0000" + long_id}]})))
        import_directory(store, directory.directory, file="d.json", source="json")
        assert next(store.people()).id == "p\ufffd" + long_id


def test_in_memory_sqlite_is_refused() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(FleetError, match="in-memory SQLite store is not supported"):
            Store.open(url)


def test_concurrent_first_opens_on_postgres(pg_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def open_and_count(_: int) -> int:
        with Store.open(pg_url) as store:
            return store.counts().devices

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(open_and_count, range(4))) == [0, 0, 0, 0]


def test_dry_run_reports_and_stores_nothing(store_url: str, write: Write) -> None:
    page = write(
        "p.json", pl.amapi_page([pl.amapi_device(f"d{i}", [(pl.TIKTOK, "TikTok", "1")]) for i in range(3)])
    )
    with Store.open(store_url) as store:
        dry = import_inventory(store, "amapi", [page], at=T1, dry_run=True)
        assert dry.snapshot_id is None
        assert store.counts().snapshots == 0 and store.import_log() == ()
        real = import_inventory(store, "amapi", [page], at=T1)
        assert (
            (dry.rows_ok, dry.devices, dry.rows_bad)
            == (real.rows_ok, real.devices, real.rows_bad)
            == (3, 3, 0)
        )


def test_duplicate_rows_within_and_across_batches(
    store_url: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repeated row is counted once whether it repeats within a written batch or in a
    later one (PostgreSQL copies a batch of new devices directly, any other through
    ON CONFLICT)."""
    from appveto.fleet import _writer

    monkeypatch.setattr(_writer, "BATCH_ROWS", 3)
    rows = [
        pl.intune_row("TikTok", "1", "dev-1", "A", "a@example.org"),
        pl.intune_row("TikTok", "1", "dev-1", "A", "a@example.org"),  # within the first batch
        pl.intune_row("Teams", "2", "dev-1", "A", "a@example.org"),
        pl.intune_row("Teams", "2", "dev-2", "B", "b@example.org"),
        pl.intune_row("Signal", "3", "dev-2", "B", "b@example.org"),
        pl.intune_row("Teams", "2", "dev-2", "B", "b@example.org"),  # same batch as its first
        pl.intune_row("TikTok", "1", "dev-1", "A", "a@example.org"),  # a later batch, dev-1 again
        pl.intune_row("Zoom", "4", "dev-1", "A", "a@example.org"),
    ]
    path = write("i.csv", "\n".join([pl.INTUNE_HEADER, *rows]) + "\n")
    with Store.open(store_url) as store:
        summary = import_inventory(store, "intune-csv", [path], at=T1)
        (fs,) = summary.files
        assert (fs.rows_ok, fs.rows_skipped) == (5, 3)
        got = sorted((a.device_id, a.app_id or a.name) for a in store.installed())
        assert len(got) == 5


def test_an_inventory_import_resolves_its_own_devices(store_url: str, write: Write) -> None:
    """With the directory in place, each import ties its devices to people; an import of
    another source leaves the devices it does not hold as they were."""
    with Store.open(store_url) as store:
        parsed = read_directory(write("dir.json", json.dumps(DIRECTORY)))
        import_directory(store, parsed.directory, file="dir.json", source="json", now=T1)
        page = pl.amapi_page(
            [
                pl.amapi_device("a1", [(pl.TIKTOK, "TikTok", "1")], user="A.Mertens@example.org"),
                pl.amapi_device("b1", [(pl.TIKTOK, "TikTok", "1")]),
            ]
        )
        import_inventory(store, "amapi", [write("p.json", page)], at=T1)
        apps = [pl.apple_app("com.x", "X", "1", "1")]
        responses = [pl.apple_response("b1", apps), pl.apple_response("u9", apps)]
        import_inventory(store, "apple", [write("a.plist", pl.plist(responses))], at=T2)
        holders = {(d.source, d.source_device_id): (d.person_id, d.holder_match) for d in store.devices()}
    dev = "enterprises/LC00abc123/devices/"
    assert holders == {
        ("amapi", dev + "a1"): ("p2", HolderMatch.INVENTORY_USER),
        ("amapi", dev + "b1"): ("p1", HolderMatch.DIRECTORY),
        ("apple", "b1"): ("p1", HolderMatch.DIRECTORY),  # the directory holds "b1"
        ("apple", "u9"): (None, HolderMatch.NONE),
    }


def test_upgrade_keeps_a_directory_stored_before_platforms_systems_and_zones(store_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from appveto.fleet.queries import StoreFleet
    from appveto.fleet.store import MIGRATIONS_DIR, _engine

    engine = _engine(normalize_url(store_url))
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_initial")
        conn.execute(text("INSERT INTO people (id, active) VALUES ('p1', TRUE)"))
        conn.execute(text("INSERT INTO device_holders (device_key, person_id) VALUES ('K1', 'p1')"))
    engine.dispose()
    with Store.open(store_url) as store:
        held = list(StoreFleet(store).directory_devices())
        assert [(h.person_id, h.key, h.platform.value) for h in held] == [("p1", "K1", "unknown")]
        assert store.systems() == () and store.networks() == ()
