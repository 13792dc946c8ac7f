"""StoreFleet reads the same inventories as Store.device_inventories, on both backends."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

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
        store.import_inventory("generic-csv", [tmp_path / "inv.csv"], at=world.NEW)
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
        store.import_inventory("generic-csv", [tmp_path / "inv.csv"], at=world.NEW)
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
