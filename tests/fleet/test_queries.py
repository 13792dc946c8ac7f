"""StoreFleet reads the same inventories as Store.device_inventories, on both backends."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appveto.fleet.ingest import import_directory, import_inventory
from appveto.fleet.queries import StoreFleet
from appveto.fleet.store import DeviceInventory, Store
from tests.compliance import world


def _plain(items: Iterable[DeviceInventory]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for inv in items:
        o = inv.observation
        out.append((o.device, o.snapshot_id, o.observed_at, inv.apps))
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_same_reads_as_the_store(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}" if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    with Store.open(url) as store:
        world.load_fleet(store, tmp_path)
        fleet = StoreFleet(store)
        for at in (None, datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 20, 23, tzinfo=UTC)):
            for previous in (False, True):
                assert _plain(fleet.device_inventories(at, previous=previous)) == _plain(
                    store.device_inventories(at, previous=previous)
                )
                ids = {world.TIKTOK, "com.whatsapp"}
                assert _plain(fleet.device_inventories(at, previous=previous, app_ids=ids)) == _plain(
                    store.device_inventories(at, previous=previous, app_ids=ids)
                )
        assert list(fleet.people()) == list(store.people())


def test_rows_without_app_id_are_selected_by_name(tmp_path: Path) -> None:
    csv_text = "device_id,app_id,app_name\nX1,,TikTok\nX1,,Teams\nX2,com.zhiliaoapp.musically,TikTok\n"
    (tmp_path / "inv.csv").write_text(csv_text, encoding="utf-8")
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        import_inventory(store, "generic-csv", [tmp_path / "inv.csv"], at=world.NEW)
        fleet = StoreFleet(store)
        got = {
            inv.observation.device.source_device_id: [(a.app_id, a.name) for a in inv.apps]
            for inv in fleet.device_inventories(app_ids={world.TIKTOK}, app_names={"tiktok"})
        }
        assert got == {"X1": [(None, "TikTok")], "X2": [(world.TIKTOK, "TikTok")]}
        only_ids = {
            inv.observation.device.source_device_id: len(inv.apps)
            for inv in fleet.device_inventories(app_ids={world.TIKTOK})
        }
        assert only_ids == {"X1": 0, "X2": 1}


def test_app_ids_are_looked_up_without_regard_to_case(tmp_path: Path) -> None:
    csv_text = (
        "device_id,platform,app_id,app_name\n"
        "I1,ios,COM.ZHILIAOAPP.MUSICALLY,TikTok\n"
        "A1,android,COM.ZHILIAOAPP.MUSICALLY,TikTok\n"
        "A2,android,com.other,Other\n"
    )
    (tmp_path / "inv.csv").write_text(csv_text, encoding="utf-8")
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        import_inventory(store, "generic-csv", [tmp_path / "inv.csv"], at=world.NEW)
        got = {
            inv.observation.device.source_device_id: [a.app_id for a in inv.apps]
            for inv in StoreFleet(store).device_inventories(app_ids={world.TIKTOK})
        }
        assert got == {"I1": ["COM.ZHILIAOAPP.MUSICALLY"], "A1": ["COM.ZHILIAOAPP.MUSICALLY"], "A2": []}


def test_memberships_agree_with_people(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        world.load_fleet(store, tmp_path)
        got = list(StoreFleet(store).memberships())
        want = [(p.id, p.org_unit_id, p.authority_id, p.roles, p.active) for p in store.people()]
        assert [tuple(m) for m in got] == want and len(got) == len(world.PEOPLE)


def test_observed_only_leaves_out_devices_no_snapshot_saw(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        world.load_fleet(store, tmp_path)
        fleet = StoreFleet(store)
        for previous in (False, True):
            every = _plain(fleet.device_inventories(previous=previous, app_ids={world.TIKTOK}))
            seen = _plain(
                fleet.device_inventories(previous=previous, app_ids={world.TIKTOK}, observed_only=True)
            )
            assert seen == [x for x in every if x[1] is not None]
            assert len(seen) < len(every) if previous else len(seen) == len(every)


def test_directory_devices_people_without_devices_and_find_people(store_url: str, tmp_path: Path) -> None:
    import json

    from appveto.fleet.directory import read_directory
    from appveto.fleet.model import Platform

    doc = {
        "systems": [{"id": "mail", "name": "Mail"}],
        "network_zones": [{"id": "lan", "name": "LAN"}],
        "people": [
            # D1 is inventoried (by ID), SN-2 by serial number, PHONE-3 by name; I9 by nobody
            {
                "id": "p1",
                "email": "Jan.Peeters@example.org",
                "user_name": "jpeeters",
                "devices": ["D1", "SN-2"],
            },
            {
                "id": "p2",
                "user_name": "jan.peeters@example.org",
                "devices": ["PHONE-3", {"id": "I9", "platform": "ios"}],
            },
            {"id": "p3", "email": "nobody@example.org"},
            {"id": "p4", "devices": []},  # held by the MDM user: no directory holding, yet a device
            {"id": "p5", "active": False},
        ],
    }
    (tmp_path / "dir.json").write_text(json.dumps(doc), encoding="utf-8")
    inv = (
        "device_id,device_name,serial_number,user,app_id\n"
        "D1,,,,com.whatsapp\nX2,,SN-2,,com.whatsapp\nX3,PHONE-3,,,com.whatsapp\nX4,,,p4-login,com.whatsapp\n"
    )
    (tmp_path / "inv.csv").write_text(inv, encoding="utf-8")
    doc["people"][3]["user_name"] = "p4-login"  # type: ignore[index]
    (tmp_path / "dir.json").write_text(json.dumps(doc), encoding="utf-8")
    with Store.open(store_url) as store:
        import_directory(
            store, read_directory(tmp_path / "dir.json").directory, file="dir.json", source="json"
        )
        import_inventory(store, "generic-csv", [tmp_path / "inv.csv"], at=world.NEW)
        fleet = StoreFleet(store)
        assert [tuple(h) for h in fleet.directory_devices()] == [("p2", "I9", Platform.IOS)]
        assert list(fleet.people_without_devices()) == ["p3"]
        assert [(s.id, s.name) for s in fleet.systems()] == [("mail", "Mail")]
        assert [n.id for n in fleet.networks()] == ["lan"]
        assert [p.id for p in fleet.find_people("p1")] == ["p1"]
        assert [p.id for p in fleet.find_people("JPEETERS")] == ["p1"]
        assert [p.id for p in fleet.find_people("jan.peeters@EXAMPLE.org")] == ["p1", "p2"]
        assert fleet.find_people("p1@example.org") == ()
