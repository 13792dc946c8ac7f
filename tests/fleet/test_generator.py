"""The synthetic fleet: deterministic, in formats the real importers read without a bad row."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from appveto.errors import FleetError
from appveto.fleet.directory import read_directory
from appveto.fleet.generator import generate
from appveto.fleet.ingest import import_directory, import_inventory
from appveto.fleet.store import Store


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_fleet(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", people=300, seed=7, devices_per_file=100)
    b = generate(tmp_path / "b", people=300, seed=7, devices_per_file=100)
    c = generate(tmp_path / "c", people=300, seed=8, devices_per_file=100)
    assert _digest(a.out) == _digest(b.out)
    assert _digest(a.out) != _digest(c.out)
    assert {s for s, _ in a.sources} == {"amapi", "apple", "intune-csv"}
    assert a.devices >= 300 and a.app_rows > 300 * 10


def test_every_file_imports_cleanly(tmp_path: Path) -> None:
    s = generate(tmp_path / "fleet", people=400, seed=3, devices_per_file=150)
    directory = read_directory(s.out / "directory.json")
    assert directory.rows_bad == 0 and not directory.issues
    assert len(directory.directory.people) == 400
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as store:
        import_directory(store, directory.directory, file="directory.json", source="json")
        rows = 0
        for source, files in s.sources:
            summary = import_inventory(store, source, list(files), at=s.taken_at)
            assert summary.rows_bad == 0, [str(i) for f in summary.files for i in f.issues]
            rows += summary.rows_ok
        assert rows == s.app_rows
        counts = store.counts()
        assert counts.devices == s.devices
        held = [d for d in store.devices() if d.person_id is not None]
        assert len(held) == s.devices  # every device is tied to its holder


def test_exact_apps_per_device_and_realistic_mix(tmp_path: Path) -> None:
    s = generate(tmp_path / "fleet", people=2_000, seed=11, apps_per_device=60, devices_per_file=1_000)
    assert s.app_rows == 60 * s.devices
    pages = [json.loads(p.read_text()) for p in dict(s.sources)["amapi"]]
    devices = [d for page in pages for d in page["devices"]]
    with_tiktok = sum(
        any(r["packageName"] == "com.zhiliaoapp.musically" for r in d["applicationReports"]) for d in devices
    )
    with_whatsapp = sum(
        any(r["packageName"] == "com.whatsapp" for r in d["applicationReports"]) for d in devices
    )
    assert 0.01 < with_tiktok / len(devices) < 0.08  # a few per cent
    assert with_whatsapp / len(devices) > 0.5


def test_refuses_an_empty_fleet(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="at least 1"):
        generate(tmp_path / "x", people=0)
    with pytest.raises(FleetError, match="apps per device"):
        generate(tmp_path / "x", people=1, apps_per_device=10**6)
