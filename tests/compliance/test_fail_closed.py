"""Monitoring fails closed (issue 13): what the evaluation could not see, it says, counts and gates on.

Each test here is one fail-open case of the issue, checked through the real entry point
on a real store:

* a decision naming units, roles, systems or network zones the directory does not have is
  a limitation, printed first in every format, counted, with its file:line, and the exit
  code says so (also ``policy check --workspace``);
* devices the directory lists that no inventory has (a workspace where only the Android
  inventory was imported) are ``unknown``, per decision, unit and platform, not absent;
  people in scope who hold no known device at all are listed; ``explain`` names the
  missing source;
* ``fleet evaluate --fail-on`` gates a scheduled job; a first evaluation has no changes;
* ``explain --person`` takes an e-mail address or a user name.
"""

from __future__ import annotations

import csv
import io
import json
import plistlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from appveto.cli import main as cli_main
from appveto.compliance.evaluate import evaluate
from appveto.compliance.model import Status
from appveto.fleet.directory import read_directory
from appveto.fleet.generator import generate
from appveto.fleet.ingest import import_directory, import_inventory
from appveto.fleet.queries import StoreFleet
from appveto.fleet.workspace import init_workspace, load_workspace
from appveto.policy import load_policies
from tests.compliance import world

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
AT = "2024-03-20"

GHOST_AUTHORITIES = """\
kind: authorities
authorities:
  - id: ghost-agency
    name: An agency the directory does not hold
    level: federal
    country: BE
    units:
      - {id: ghost-unit, name: Ghost unit}
"""

GHOST = """\
kind: decision
id: ghost-ban
title: A ban naming a unit, a role, a system and a network the directory does not have
authority: fed
instrument: decision
apps:
  - name: TikTok
    android: [com.zhiliaoapp.musically]
network_zones:
  - {name: ghost-lan, cidrs: [198.51.100.0/24]}
scope:
  - id: ghost-units
    mode: mandatory
    units: [ghost-unit]
    devices: [issued]
  - id: ghost-roles
    mode: mandatory
    units: [fed-services]
    roles: {include: [contractor]}
    devices: [issued]
  - id: ghost-systems
    mode: advisory
    units: [fed-services]
    devices: [accesses_system]
    systems: [ghost-system]
  - id: ghost-networks
    mode: mandatory
    networks: [ghost-lan]
term: {effective: 2024-01-01}
"""

CATEGORIES = """\
kind: decision
id: category-ban
title: Recreational apps (a selector no inventory can match)
authority: fed
instrument: decision
apps:
  - name: recreational apps
    categories: [games]
scope:
  - {id: all, mode: mandatory, units: [fed-services], devices: [issued]}
term: {effective: 2024-01-01}
"""

GHOST_SUBJECTS = ("ghost-unit", "contractor", "ghost-system", "ghost-lan")


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_main.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _world_ws(
    root: Path,
    *,
    extra: dict[str, str] | None = None,
    extra_people: tuple[dict[str, object], ...] = (),
    snapshots: tuple[str, ...] = ("old", "new"),
) -> Path:
    """A workspace holding the test administration (tests/compliance/world.py)."""
    ws = root / "ws"
    init_workspace(ws)
    world.write_policies(ws)
    for name, text in (extra or {}).items():
        (ws / "policies" / name).write_text(text, encoding="utf-8")
    data = root / "data"
    data.mkdir()
    with load_workspace(ws).open_store() as store:
        world.load_fleet(store, data, extra_people=extra_people, snapshots=snapshots)
    return ws


# --------------------------------------------------------------------------- names the directory lacks


def test_missing_units_roles_systems_and_zones_are_limitations_first_in_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _world_ws(tmp_path, extra={"ghost-authorities.yaml": GHOST_AUTHORITIES, "ghost.yaml": GHOST})
    w = ["--at", AT, "-w", str(ws)]
    unit_line = _line_of(GHOST, "units: [ghost-unit]")

    code, out, err = _run(["fleet", "evaluate", *w], capsys)
    assert code == 1, "a decision naming what the directory lacks makes the exit code say so"
    head = out[: out.index("compliance on")]
    for subject in GHOST_SUBJECTS:
        assert subject in head, f"{subject} is not printed before the results"
    assert "4 limitations" in head
    assert f"ghost.yaml:{unit_line}:" in head
    assert "incomplete" in err

    code, out, _ = _run(["fleet", "evaluate", "--format", "json", *w], capsys)
    doc = json.loads(out)
    assert code == 1 and next(iter(doc)) == "limitations"
    assert doc["limitations_count"] == 4
    missing = {(x["kind"], x["subject"]) for x in doc["limitations"]}
    assert missing == {
        ("missing-unit", "ghost-unit"),
        ("missing-role", "contractor"),
        ("missing-system", "ghost-system"),
        ("missing-zone", "ghost-lan"),
    }
    unit = next(x for x in doc["limitations"] if x["subject"] == "ghost-unit")
    assert unit["decision"] == "ghost-ban" and unit["part"] == "ghost-units" and unit["line"] == unit_line

    code, out, _ = _run(["fleet", "evaluate", "--format", "csv", *w], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and [r["status"] for r in rows[:4]] == ["limitation"] * 4
    assert "limitation" not in {r["status"] for r in rows[4:]}
    assert {s for s in GHOST_SUBJECTS if any(s in r["note"] for r in rows[:4])} == set(GHOST_SUBJECTS)

    code, out, _ = _run(["fleet", "evaluate", "--format", "html", *w], capsys)
    assert code == 1
    first_result = out.index("<table")
    for subject in GHOST_SUBJECTS:
        assert out.index(subject) < first_result
    assert 'id="limitations"' in out[:first_result]

    # the draft's impact says so too, before its figures
    code, out, _ = _run(["fleet", "impact", str(ws / "policies" / "ghost.yaml"), *w], capsys)
    assert code == 1 and out.index("ghost-unit") < out.index("in scope:")


def test_a_directory_that_has_everything_named_is_no_limitation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _world_ws(tmp_path)
    code, out, _ = _run(["fleet", "evaluate", "--at", AT, "--format", "json", "-w", str(ws)], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["limitations"] == [] and doc["limitations_count"] == 0


def test_policy_check_against_the_workspace_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _world_ws(tmp_path, extra={"ghost-authorities.yaml": GHOST_AUTHORITIES, "ghost.yaml": GHOST})
    pol = str(ws / "policies")
    code, _, _ = _run(["policy", "check", pol], capsys)
    assert code == 0  # valid policies: without a workspace nothing is checked against a directory
    code, _, err = _run(["policy", "check", pol, "--workspace", str(ws)], capsys)
    assert code == 2
    for subject, needle in (
        ("ghost-unit", "units: [ghost-unit]"),
        ("contractor", "include: [contractor]"),
        ("ghost-system", "systems: [ghost-system]"),
        ("ghost-lan", "networks: [ghost-lan]"),
    ):
        line = next(x for x in err.splitlines() if f"'{subject}'" in x)
        assert f"ghost.yaml:{_line_of(GHOST, needle)}:" in line, line
    (ws / "policies" / "ghost.yaml").unlink()
    (ws / "policies" / "ghost-authorities.yaml").unlink()
    assert _run(["policy", "check", pol, "-w", str(ws)], capsys)[0] == 0


# --------------------------------------------------------------------------- devices nobody inventoried


@dataclass(frozen=True)
class Demo:
    exports: Path
    android_ws: Path
    full_ws: Path
    platform_of: dict[str, str]
    """device key -> platform, as the MDM exports (not the directory) say."""
    imported: frozenset[str]
    """Keys in the Android Management API pages (the only inventory of android_ws)."""
    holder: dict[str, str]
    """device key -> person, from the directory file."""


def _export_platforms(exports: Path) -> tuple[dict[str, str], set[str]]:
    platform: dict[str, str] = {}
    amapi: set[str] = set()
    for page in sorted(exports.glob("amapi-*.json")):
        for dev in json.loads(page.read_text(encoding="utf-8"))["devices"]:
            key = dev["name"].rsplit("/", 1)[1]
            platform[key] = "android"
            amapi.add(key)
    for part in sorted(exports.glob("intune-*.csv")):
        with part.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                platform[row["DeviceId"]] = row["Platform"].lower()
    for batch in sorted(exports.glob("apple-*.plist")):
        for response in plistlib.loads(batch.read_bytes()):
            info = response.get("QueryResponses")
            if info:
                platform[response["UDID"]] = "ipados" if info["ProductName"].startswith("iPad") else "ios"
    return platform, amapi


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("android-only")
    taken = datetime(2023, 6, 1, 6, 0, tzinfo=UTC)
    summary = generate(root / "exports", people=400, seed=13, taken_at=taken)
    sources = dict(summary.sources)
    workspaces = {}
    for name, imported in (("android", ("amapi",)), ("full", ("amapi", "apple", "intune-csv"))):
        ws = root / name
        init_workspace(ws)
        for f in ("authorities.yaml", "be-federal-tiktok.yaml", "be-brussels-government-tiktok.yaml"):
            shutil.copy(EXAMPLES / f, ws / "policies" / f)
        with load_workspace(ws).open_store() as store:
            parsed = read_directory(root / "exports" / "directory.json")
            import_directory(store, parsed.directory, file="directory.json", source="json", now=taken)
            for source in imported:
                import_inventory(store, source, list(sources[source]), at=taken, now=taken)
        workspaces[name] = ws
    platform, amapi = _export_platforms(root / "exports")
    holder = {}
    for person in json.loads((root / "exports" / "directory.json").read_text(encoding="utf-8"))["people"]:
        for d in person["devices"]:
            holder[d["id"] if isinstance(d, dict) else d] = person["id"]
    yield Demo(
        root / "exports", workspaces["android"], workspaces["full"], platform, frozenset(amapi), holder
    )


def _evaluation(ws: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    code, out, err = _run(
        ["fleet", "evaluate", "--at", "2023-06-01", "--format", "json", "-w", str(ws)], capsys
    )
    assert code == 0, err
    doc: dict[str, object] = json.loads(out)
    return doc


def test_devices_the_directory_lists_without_inventory_are_unknown_per_platform(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    full = _evaluation(demo.full_ws, capsys)
    android = _evaluation(demo.android_ws, capsys)
    # every device the exports hold is known in both workspaces, from the directory or an inventory
    assert android["devices_total"] == full["devices_total"] == len(demo.platform_of)
    assert android["devices_observed"] == len(demo.imported)
    by_platform = {p["platform"]: p for p in android["platforms"]}  # type: ignore[attr-defined]
    for platform in ("ios", "ipados", "android"):
        keys = [k for k, p in demo.platform_of.items() if p == platform]
        seen = [k for k in keys if k in demo.imported]
        assert by_platform[platform]["devices"] == len(keys), platform
        assert by_platform[platform]["unknown"] == len(keys) - len(seen), platform
    assert by_platform["ios"]["unknown"] > 0 and by_platform["ipados"]["unknown"] > 0

    # every iPhone, iPad and Intune-managed phone that the full evaluation judged is unknown here, not absent
    def key(device: str) -> str:  # "amapi:enterprises/E/devices/KEY", "apple:KEY", "directory:KEY"
        return device.split(":", 1)[1].rsplit("/", 1)[-1]

    def not_imported(doc: dict[str, object]) -> set[tuple[str, str]]:
        return {
            (r["decision"], key(r["device"]))
            for r in doc["results"]  # type: ignore[attr-defined]
            if r["device"] and key(r["device"]) not in demo.imported
        }

    judged = not_imported(full)
    unknown = {
        (r["decision"], key(r["device"]))
        for r in android["results"]  # type: ignore[attr-defined]
        if r["status"] == "unknown" and r["reason"] == "directory-only"
    }
    assert judged and judged <= unknown
    assert {demo.platform_of[k] for _, k in unknown} == {"android", "ios", "ipados"}
    assert not_imported(android) == unknown  # a device nobody inventoried has no other status

    # per decision and platform, and per unit
    fed = next(d for d in android["decisions"] if d["id"] == "be-fed-2023-tiktok")  # type: ignore[attr-defined]
    fed_unknown = [r for r in android["results"] if r["decision"] == fed["id"] and r["status"] == "unknown"]  # type: ignore[attr-defined]
    per_platform = {p["platform"]: p["unknown"] for p in fed["platforms"]}
    for platform in ("ios", "ipados"):
        assert per_platform[platform] == len({r["device"] for r in fed_unknown if r["platform"] == platform})
    assert fed["counts"]["unknown"]["devices"] == len({r["device"] for r in fed_unknown})
    services = next(
        r
        for r in android["rollups"]
        if r["kind"] == "org_unit" and r["id"] == "be-fed-public-services"  # type: ignore[attr-defined]
    )
    assert services["counts"]["unknown"] > 0

    code, out, _ = _run(["fleet", "evaluate", "--at", "2023-06-01", "-w", str(demo.android_ws)], capsys)
    assert code == 0
    platform_line = next(x for x in out.splitlines() if "by platform" in x)
    assert "ios" in platform_line and "ipados" in platform_line and "unknown" in platform_line


def test_explain_names_the_source_that_is_missing(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    full = _evaluation(demo.full_ws, capsys)
    apple_only = {
        p: keys
        for p in set(demo.holder.values())
        if (keys := sorted(k for k, h in demo.holder.items() if h == p))
        and all(demo.platform_of[k] in ("ios", "ipados") for k in keys)
    }
    person = next(
        r["person"]
        for r in full["results"]  # type: ignore[attr-defined]
        if r["decision"] == "be-fed-2023-tiktok" and r["person"] in apple_only
    )
    code, out, _ = _run(
        ["fleet", "explain", "--person", person, "--at", "2023-06-01", "-w", str(demo.android_ws)], capsys
    )
    assert code == 0
    assert "holds no device known to the inventory" not in out
    for key in apple_only[person]:
        assert key in out
    assert "listed by the directory" in out and "no inventory" in out and "amapi" in out
    assert "unknown" in out

    code, out, _ = _run(
        [
            "fleet",
            "explain",
            "--device",
            apple_only[person][0],
            "--at",
            "2023-06-01",
            "-w",
            str(demo.android_ws),
        ],
        capsys,
    )
    assert code == 0 and "listed by the directory" in out and person in out


def test_people_in_scope_without_any_device_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody = (
        {"id": "p-nodev", "org_unit": "fed-digital", "roles": ["civil_servant"]},
        {"id": "p-nodev-parl", "org_unit": "parl-members", "roles": ["member_of_parliament"]},
        {"id": "p-nodev-gone", "org_unit": "fed-digital", "roles": ["civil_servant"], "active": False},
    )
    ws = _world_ws(tmp_path / "with", extra_people=nobody)
    plain = _world_ws(tmp_path / "without")
    evaluations = []
    for folder in (ws, plain):
        with load_workspace(folder).open_store() as store:
            evaluations.append(
                evaluate(load_policies(folder / "policies"), StoreFleet(store), at=date(2024, 3, 20))
            )
    ev, before = evaluations
    mine = [r for r in ev.results if r.person_id and r.person_id.startswith("p-nodev")]
    assert [(r.person_id, r.decision_id, r.status, r.device_id) for r in mine] == [
        ("p-nodev", "fed-ban", Status.UNKNOWN, None)
    ]
    fed, fed_before = ev.decision("fed-ban"), before.decision("fed-ban")
    assert fed is not None and fed_before is not None
    assert fed.people_in_scope == fed_before.people_in_scope + 1
    assert fed.devices_in_scope == fed_before.devices_in_scope

    code, out, _ = _run(["fleet", "evaluate", "--at", AT, "--format", "json", "-w", str(ws)], capsys)
    doc = json.loads(out)
    row = next(r for r in doc["results"] if r["person"] == "p-nodev")
    assert code == 0 and row["status"] == "unknown" and row["reason"] == "no-device" and not row["device"]
    assert doc["people_without_devices"] == 1
    code, out, _ = _run(["fleet", "evaluate", "--at", AT, "-w", str(ws)], capsys)
    assert "1 person in scope holds no known device" in out
    code, out, _ = _run(["fleet", "explain", "--person", "p-nodev", "--at", AT, "-w", str(ws)], capsys)
    assert code == 0 and "holds no known device" in out and "fed-ban" in out and "unknown" in out


def test_explain_a_stale_device_names_its_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _world_ws(tmp_path)
    code, out, _ = _run(["fleet", "explain", "--person", "p-stale", "--at", AT, "-w", str(ws)], capsys)
    assert code == 0
    line = next(x for x in out.splitlines() if "older than 30 days" in x)
    assert "generic-csv" in line


# --------------------------------------------------------------------------- gate and changes


def test_fail_on_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _world_ws(tmp_path, extra={"category.yaml": CATEGORIES})
    w = ["-w", str(ws)]
    on_time = ["fleet", "evaluate", "--at", AT, *w]  # violations, an unknown device, nothing overdue
    late = ["fleet", "evaluate", "--at", "2024-04-01", "--stale-days", "365", *w]  # overdue, nothing unknown
    assert _run(on_time, capsys)[0] == 0
    assert _run([*on_time, "--fail-on", "overdue"], capsys)[0] == 0
    code, _, err = _run([*on_time, "--fail-on", "violation"], capsys)
    assert code == 1 and "violation" in err
    code, _, err = _run([*on_time, "--fail-on", "unknown"], capsys)
    assert code == 1 and "unknown" in err
    code, _, err = _run([*on_time, "--fail-on", "limitation"], capsys)
    assert code == 1 and "limitation" in err  # category selectors cannot be matched
    code, _, err = _run([*late, "--fail-on", "overdue"], capsys)
    assert code == 1 and "overdue" in err
    assert _run([*late, "--fail-on", "unknown"], capsys)[0] == 0
    assert _run([*on_time, "--fail-on", "overdue,unknown"], capsys)[0] == 1
    for fmt in ("json", "csv", "html"):
        out_file = tmp_path / f"report.{fmt}"
        code, _, _ = _run([*late, "--fail-on", "overdue", "--format", fmt, "-o", str(out_file)], capsys)
        assert code == 1 and out_file.stat().st_size > 0  # the report is written, then the gate
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main([*on_time, "--fail-on", "severe"])
    assert exit_info.value.code == 2


def test_a_first_evaluation_has_no_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _world_ws(tmp_path, snapshots=("new",))
    code, out, _ = _run(["fleet", "evaluate", "--at", AT, "--format", "json", "-w", str(ws)], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["results"] and doc["changes"] == []
    code, out, _ = _run(["fleet", "evaluate", "--at", AT, "-w", str(ws)], capsys)
    assert " new" not in out and "no earlier snapshot" in out


def test_a_device_gone_stale_is_not_resolved(tmp_path: Path) -> None:
    ws = _world_ws(tmp_path)
    with load_workspace(ws).open_store() as store:
        fleet = StoreFleet(store)
        policies = load_policies(ws / "policies")
        fresh = evaluate(policies, fleet, at=date(2024, 3, 20))
        # p-clean removed TikTok between the snapshots: resolved, while that inventory counts
        assert ("p-clean", "resolved") in {(c.person_id, c.kind) for c in fresh.changes}
        later = evaluate(policies, fleet, at=date(2024, 3, 20) + timedelta(days=31))
    assert {r.status for r in later.results if r.person_id == "p-clean"} == {Status.UNKNOWN}
    assert not [c for c in later.changes if c.kind == "resolved"]


# --------------------------------------------------------------------------- explain --person


def test_explain_a_person_by_email_or_user_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twins = (
        {"id": "p-twin-a", "email": "twin@example.org", "org_unit": "fed-digital"},
        {"id": "p-twin-b", "user_name": "TWIN@example.org", "org_unit": "fed-digital"},
    )
    ws = _world_ws(tmp_path, extra_people=twins)
    w = ["--at", AT, "-w", str(ws)]
    by_id = _run(["fleet", "explain", "--person", "p-viol", *w], capsys)
    assert by_id[0] == 0
    for who in ("p-viol@example.org", "P-Viol@Example.org", "viol", "VIOL"):
        assert _run(["fleet", "explain", "--person", who, *w], capsys)[:2] == by_id[:2], who
    code, out, err = _run(["fleet", "explain", "--person", "twin@example.org", *w], capsys)
    assert code == 2 and not out
    assert "p-twin-a" in err and "p-twin-b" in err and "ambiguous" in err
    code, out, err = _run(["fleet", "explain", "--person", "nobody@example.org", *w], capsys)
    assert code == 2 and not out
    assert "nobody@example.org" in err and "e-mail" in err and "user name" in err and "ID" in err
