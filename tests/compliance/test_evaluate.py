"""Evaluation over a real store: each status, exceptions, scope modes, adoption, networks, dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from appveto.compliance.evaluate import evaluate
from appveto.compliance.model import Limitation, ScanFacts, Status
from appveto.fleet.ingest import import_directory, import_inventory
from appveto.fleet.queries import StoreFleet
from appveto.fleet.store import Store
from appveto.policy import load_policies
from appveto.policy.model import PolicySet
from tests.compliance import world

AT = date(2024, 3, 20)
LONG = timedelta(days=3650)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PolicySet, StoreFleet]]:
    root = tmp_path_factory.mktemp("world")
    policies = load_policies(world.write_policies(root))
    with Store.open(f"sqlite:///{root / 'store.db'}") as store:
        world.load_fleet(store, root)
        yield policies, StoreFleet(store)


def statuses(ev: object, decision: str = "fed-ban") -> dict[str, Status]:
    from appveto.compliance.model import Evaluation

    assert isinstance(ev, Evaluation)
    return {r.person_id or "": r.status for r in ev.results if r.decision_id == decision}


def test_each_status(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    got = statuses(evaluate(policies, store, at=AT))
    assert got == {
        "p-viol": Status.VIOLATION,  # mandatory part, issued device, app present
        "p-ios": Status.VIOLATION,  # iOS bundle ID; directory role 'Civil Servant'
        "p-adv": Status.ADVISORY,  # personal device: advisory part only
        "p-exempt": Status.EXEMPTED,  # person exception in force
        "p-unitexc": Status.EXEMPTED,  # unit exception covers its own unit
        "p-devexc": Status.EXCEPTION_EXPIRED,  # device exception expired 2024-02-01
        "p-stale": Status.UNKNOWN,  # last inventory 2024-01-05, older than 30 days
    }


def test_people_out_of_scope_have_no_result(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    ev = evaluate(policies, store, at=AT)
    people = {r.person_id for r in ev.results}
    assert "p-minister" not in people  # role not included, device not personal
    assert "p-clean" not in people  # app removed
    assert "p-parl" not in people  # the parliament's ban is network-only
    assert "p-muni-b" not in people  # municipality B did not adopt


def test_unit_exception_is_read_narrowly(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    ev = evaluate(policies, store, at=AT)
    viol = next(r for r in ev.results if r.person_id == "p-viol")
    assert viol.exception_id is None and viol.org_unit_id == "fed-digital"
    exempt = next(r for r in ev.results if r.person_id == "p-unitexc")
    assert exempt.exception_id == "digital-unit"


def test_adoption(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    ev = evaluate(policies, store, at=AT)
    region = {r.person_id: r for r in ev.results if r.decision_id == "region-ban"}
    assert region["p-muni-a"].status is Status.VIOLATION and region["p-muni-a"].adopted_by == "muni-a"
    assert "p-muni-b" not in region
    assert region["p-region"].adopted_by is None
    binding = {a.authority_id: a.binding for a in ev.adoptions}
    assert binding == {"muni-a": True, "muni-b": False}
    # the day before the adoption, municipality A is not bound yet; from its day on, it is
    before = evaluate(policies, store, at=date(2024, 1, 31), stale_after=LONG)
    assert "p-muni-a" not in statuses(before, "region-ban")
    assert "p-region" in statuses(before, "region-ban")
    assert not next(a for a in before.adoptions if a.authority_id == "muni-a").binding
    on_the_day = evaluate(policies, store, at=date(2024, 2, 1), stale_after=LONG)
    assert statuses(on_the_day, "region-ban")["p-muni-a"] is Status.VIOLATION


def test_network_only_ban_has_no_device_result(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    ev = evaluate(policies, store, at=AT)
    parl = ev.decision("parl-ban")
    assert parl is not None and parl.evaluated
    assert parl.network_only_parts == ("parl-networks",) and parl.network_zones == ("parl-lan",)
    assert parl.devices_in_scope == 0 and not [r for r in ev.results if r.decision_id == "parl-ban"]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2024, 3, 30), Status.VIOLATION),
        (date(2024, 3, 31), Status.VIOLATION),  # remove_by is the last day on time
        (date(2024, 4, 1), Status.OVERDUE),
    ],
)
def test_remove_by_boundary(loaded: tuple[PolicySet, StoreFleet], at: date, expected: Status) -> None:
    policies, store = loaded
    got = statuses(evaluate(policies, store, at=at, changes=False))
    assert got["p-viol"] is expected and got["p-ios"] is expected
    assert got["p-adv"] is Status.ADVISORY  # an advisory part is never overdue


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2024, 5, 31), Status.EXEMPTED),
        (date(2024, 6, 1), Status.EXCEPTION_EXPIRED),  # 'expires' is the first day it no longer applies
        (date(2024, 6, 2), Status.EXCEPTION_EXPIRED),
    ],
)
def test_exception_expiry_boundary(loaded: tuple[PolicySet, StoreFleet], at: date, expected: Status) -> None:
    policies, store = loaded
    got = statuses(evaluate(policies, store, at=at, stale_after=LONG, changes=False))
    assert got["p-exempt"] is expected


def test_exception_granted_later_does_not_cover(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    got = statuses(evaluate(policies, store, at=date(2024, 1, 14), stale_after=LONG, changes=False))
    assert got["p-exempt"] is Status.VIOLATION  # granted 2024-01-15


@pytest.mark.parametrize(
    ("at", "in_force"),
    [
        (date(2024, 1, 9), False),
        (date(2024, 1, 10), True),  # effective day
        (date(2025, 1, 9), True),
        (date(2025, 1, 10), False),  # expiry day
        (date(2025, 1, 11), False),
    ],
)
def test_decision_term_boundaries(loaded: tuple[PolicySet, StoreFleet], at: date, in_force: bool) -> None:
    policies, store = loaded
    ev = evaluate(policies, store, at=at, stale_after=LONG, changes=False)
    summary = ev.decision("fed-ban")
    assert summary is not None and summary.evaluated is in_force
    assert bool(statuses(ev)) is in_force


@pytest.mark.parametrize(("days", "unknown"), [(74, True), (75, False)])
def test_staleness_window(loaded: tuple[PolicySet, StoreFleet], days: int, unknown: bool) -> None:
    policies, store = loaded  # p-stale was last seen on 2024-01-05, 75 days before AT
    got = statuses(evaluate(policies, store, at=AT, stale_after=timedelta(days=days), changes=False))
    assert (got["p-stale"] is Status.UNKNOWN) is unknown
    if not unknown:
        assert got["p-stale"] is Status.VIOLATION


def test_changes_since_previous_snapshot(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    ev = evaluate(policies, store, at=AT)
    new = {(c.person_id, c.decision_id) for c in ev.changes if c.kind == "new"}
    resolved = {(c.person_id, c.decision_id) for c in ev.changes if c.kind == "resolved"}
    assert new == {("p-ios", "fed-ban"), ("p-unitexc", "fed-ban")}
    assert resolved == {("p-clean", "fed-ban")}


def test_rollups(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, store = loaded
    ev = evaluate(policies, store, at=AT)
    fed = ev.rollup("authority", "fed")
    services = ev.rollup("org_unit", "fed-services")
    digital = ev.rollup("org_unit", "fed-digital")
    assert fed is not None and services is not None and digital is not None
    assert fed.count(Status.VIOLATION) == 2
    assert services.count(Status.EXEMPTED) == 2 and digital.count(Status.EXEMPTED) == 1
    region = ev.rollup("authority", "region")
    assert region is not None and region.count(Status.VIOLATION) == 2  # includes municipality A


def test_scan_rules_select_scanned_packages(tmp_path: Path, loaded: tuple[PolicySet, StoreFleet]) -> None:
    _, store = loaded
    folder = world.write_policies(tmp_path)
    (folder / "scan.yaml").write_text(
        """\
kind: decision
id: risky-apps
title: Apps that scan badly
authority: fed
instrument: decision
apps:
  - name: risky by scan
    scan: {score_at_least: 70}
  - name: signed by a vendor
    signer_sha256: ["""
        + ":".join(["ab"] * 32)
        + """]
scope:
  - {id: all, mode: mandatory, units: [fed-services], devices: [issued]}
term: {effective: 2024-01-01}
""",
        encoding="utf-8",
    )
    policies = load_policies(folder)
    none = evaluate(policies, store, at=AT, changes=False)
    assert not [r for r in none.results if r.decision_id == "risky-apps" and r.status is not Status.UNKNOWN]
    assert any("need scan results" in x.message for x in none.limitations)
    scans = (
        ScanFacts("com.whatsapp", score=75, source="wa.apk"),
        ScanFacts(world.TIKTOK, signer_sha256=("ab" * 32,), score=10, source="tt.apk"),
    )
    ev = evaluate(policies, store, scans, at=AT, changes=False)
    got = {(r.person_id, r.app_id): r.matched_by or "" for r in ev.results if r.decision_id == "risky-apps"}
    assert "risk score 75 >= 70" in got[("p-viol", "com.whatsapp")]
    assert got[("p-viol", world.TIKTOK)].startswith("signer abababab")
    low = (ScanFacts("com.whatsapp", score=69),)
    ev2 = evaluate(policies, store, low, at=AT, changes=False)
    assert not [r for r in ev2.results if r.decision_id == "risky-apps" and r.app_id == "com.whatsapp"]


def test_same_result_on_postgresql(tmp_path: Path, loaded: tuple[PolicySet, StoreFleet], pg_url: str) -> None:
    policies, sqlite = loaded
    with Store.open(pg_url) as pg:
        world.load_fleet(pg, tmp_path)
        for at in (AT, date(2024, 4, 1)):
            assert evaluate(policies, StoreFleet(pg), at=at) == evaluate(policies, sqlite, at=at)


def test_android_packages_are_case_sensitive_ios_bundles_are_not(
    loaded: tuple[PolicySet, StoreFleet],
) -> None:
    from appveto.compliance.evaluate import build_matcher
    from appveto.policy import resolve

    policies, _ = loaded
    limits: list[Limitation] = []
    m = build_matcher(resolve(policies, "fed-ban", at=AT), (), limits, raw_ios=set())
    assert m.match("ios", world.TIKTOK.upper(), "TikTok") is not None
    assert m.match("android", world.TIKTOK.upper(), "TikTok") is None
    assert m.match("android", world.TIKTOK, None) is not None
    assert m.match("windows", None, "tiktok") is not None  # a row without an ID, matched by name
    assert m.match("windows", None, "TikTok Lite") is None
    assert not limits


def test_by_person_takes_the_most_serious_status(loaded: tuple[PolicySet, StoreFleet]) -> None:
    policies, fleet = loaded
    ev = evaluate(policies, fleet, at=date(2024, 4, 1), changes=False)
    people = {p.person_id: p.status for p in ev.by_person()}
    assert people["p-viol"] is Status.OVERDUE and people["p-adv"] is Status.ADVISORY
    assert people["p-exempt"] is Status.EXEMPTED and "p-clean" not in people


def test_devices_of_unknown_relation_are_counted_not_dropped(tmp_path: Path) -> None:
    import json

    from appveto.fleet.directory import read_directory

    policies = load_policies(world.write_policies(tmp_path))
    doc = {
        "people": [{"id": "p1", "org_unit": "fed-services", "roles": ["civil_servant"], "devices": ["U1"]}]
    }
    (tmp_path / "dir.json").write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "inv.csv").write_text(
        f"device_id,app_id\nU1,{world.TIKTOK}\nU2,{world.TIKTOK}\n", encoding="utf-8"
    )
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        parsed = read_directory(tmp_path / "dir.json", "json")
        import_directory(store, parsed.directory, file="dir.json", source="json")
        import_inventory(store, "generic-csv", [tmp_path / "inv.csv"], at=world.NEW)
        ev = evaluate(policies, StoreFleet(store), at=AT)
    assert not ev.results
    assert ev.undetermined_with_selected_apps == 1  # U1: held, ownership and mode not reported
    assert ev.unheld_with_selected_apps == 1  # U2: nobody holds it
    assert any("neither ownership nor management mode" in x.message for x in ev.limitations)
