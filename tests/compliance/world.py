"""A small administration built for the compliance tests: policies, directory, two snapshots.

Every fact the tests assert is set up here on purpose, person by person (see PEOPLE).
The fleet is imported through the real directory JSON and generic-CSV importers into a
real store, so the tests exercise the same path as ``appveto fleet import``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from appveto.fleet.directory import read_directory
from appveto.fleet.ingest import import_directory, import_inventory
from appveto.fleet.store import Store

AUTHORITIES = """\
kind: authorities
authorities:
  - id: fed
    name: Federal government
    level: federal
    country: BE
    units:
      - {id: fed-services, name: Federal public services}
      - {id: fed-digital, name: Digital directorate, parent: fed-services}
  - id: region
    name: Regional government
    level: regional
    country: BE
    units:
      - {id: region-services, name: Regional services}
  - {id: muni-a, name: Municipality A, level: local, parent: region, country: BE}
  - {id: muni-b, name: Municipality B, level: local, parent: region, country: BE}
  - id: parl
    name: Parliament
    level: parliament
    country: BE
    units:
      - {id: parl-members, name: Members}
"""

FED = """\
kind: decision
id: fed-ban
title: TikTok banned on federal devices
authority: fed
instrument: decision
apps:
  - name: TikTok
    android: [com.zhiliaoapp.musically]
    ios: [com.zhiliaoapp.musically]
    web: [tiktok.com]
scope:
  - id: service-devices
    mode: mandatory
    units: [fed-services]
    roles: {include: [civil_servant]}
    devices: [issued]
  - id: personal-advice
    mode: advisory
    units: [fed-services]
    devices: [personal]
term:
  effective: 2024-01-10
  deadlines:
    - {kind: remove_by, date: 2024-03-31}
  expires: 2025-01-10
exception_rules:
  grounds: [institutional_communication]
  approver: Federal security officer
exceptions:
  - id: comms-team
    subject: {kind: person, id: p-exempt}
    grounds: institutional_communication
    approver: Federal security officer
    granted: 2024-01-15
    expires: 2024-06-01
  - id: old-pilot
    subject: {kind: device, id: D4}
    grounds: institutional_communication
    approver: Federal security officer
    granted: 2023-06-01
    expires: 2024-02-01
  - id: digital-unit
    subject: {kind: unit, id: fed-services}
    grounds: institutional_communication
    approver: Federal security officer
    granted: 2024-01-15
    expires: 2024-12-01
"""

REGION = """\
kind: decision
id: region-ban
title: Region follows the federal ban
authority: region
instrument: decision
follows: {decision: fed-ban, inherit: [apps]}
scope:
  - id: regional-devices
    mode: mandatory
    units: [region-services]
    devices: [issued]
term:
  effective: 2024-01-20
asks:
  - {authority: muni-a, status: adopted, date: 2024-02-01}
  - {authority: muni-b, status: pending}
"""

PARL = """\
kind: decision
id: parl-ban
title: TikTok blocked on the Parliament's networks
authority: parl
instrument: decision
follows: {decision: fed-ban, inherit: [apps]}
network_zones:
  - {name: parl-lan, cidrs: [192.0.2.0/24]}
scope:
  - id: parl-networks
    mode: mandatory
    networks: [parl-lan]
term:
  effective: 2024-01-10
"""

TIKTOK = "com.zhiliaoapp.musically"

# person id, org unit, authority, roles, device, ownership, management mode, platform,
# apps in the old snapshot (2024-01-05), apps in the new one (2024-03-20; None: not in it)
PEOPLE: tuple[tuple[str, str | None, str | None, str, str, str, str, str, str, str | None], ...] = (
    (
        "p-viol",
        "fed-digital",
        None,
        "civil_servant",
        "D1",
        "company",
        "fully_managed",
        "android",
        f"{TIKTOK};com.whatsapp",
        f"{TIKTOK};com.whatsapp",
    ),
    (
        "p-adv",
        "fed-digital",
        None,
        "civil_servant",
        "D2",
        "personal",
        "work_profile",
        "android",
        TIKTOK,
        TIKTOK,
    ),
    (
        "p-exempt",
        "fed-digital",
        None,
        "civil_servant",
        "D3",
        "company",
        "fully_managed",
        "android",
        TIKTOK,
        TIKTOK,
    ),
    (
        "p-devexc",
        "fed-digital",
        None,
        "civil_servant",
        "D4",
        "company",
        "fully_managed",
        "android",
        TIKTOK,
        TIKTOK,
    ),
    (
        "p-clean",
        "fed-digital",
        None,
        "civil_servant",
        "D5",
        "company",
        "fully_managed",
        "android",
        TIKTOK,
        "com.whatsapp",
    ),
    (
        "p-stale",
        "fed-digital",
        None,
        "civil_servant",
        "D6",
        "company",
        "fully_managed",
        "android",
        TIKTOK,
        None,
    ),
    ("p-muni-a", None, "muni-a", "staff", "D7", "company", "fully_managed", "android", TIKTOK, TIKTOK),
    ("p-muni-b", None, "muni-b", "staff", "D8", "company", "fully_managed", "android", TIKTOK, TIKTOK),
    (
        "p-parl",
        "parl-members",
        None,
        "member_of_parliament",
        "D9",
        "company",
        "fully_managed",
        "android",
        TIKTOK,
        TIKTOK,
    ),
    (
        "p-minister",
        "fed-digital",
        None,
        "minister",
        "D10",
        "company",
        "fully_managed",
        "android",
        TIKTOK,
        TIKTOK,
    ),
    ("p-ios", "fed-digital", None, "Civil Servant", "D11", "company", "supervised", "ios", "", TIKTOK),
    (
        "p-unitexc",
        "fed-services",
        None,
        "civil_servant",
        "D12",
        "company",
        "fully_managed",
        "android",
        "",
        TIKTOK,
    ),
    (
        "p-region",
        "region-services",
        None,
        "staff",
        "D13",
        "company",
        "fully_managed",
        "android",
        TIKTOK,
        TIKTOK,
    ),
)

OLD = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)
NEW = datetime(2024, 3, 20, 9, 0, tzinfo=UTC)


def write_policies(root: Path) -> Path:
    folder = root / "policies"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("authorities", AUTHORITIES), ("fed", FED), ("region", REGION), ("parl", PARL)):
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


NETWORK_ZONES = ({"id": "parl-lan", "name": "Parliament LAN"},)
"""The networks the directory declares (the parliament's decision names ``parl-lan``)."""


def directory_json(extra_people: Sequence[dict[str, object]] = ()) -> str:
    """The directory of PEOPLE (plus ``extra_people``, appveto directory JSON entries)."""
    people: list[dict[str, object]] = []
    for pid, unit, auth, role, dev, *_ in PEOPLE:
        entry: dict[str, object] = {
            "id": pid,
            "user_name": pid.removeprefix("p-"),
            "email": f"{pid}@example.org",
            # p-region holds two roles (the regional part has no role criterion): multi-role reads
            "roles": [role, "civil_servant"] if pid == "p-region" else [role],
            "devices": [dev],
        }
        if unit:
            entry["org_unit"] = unit
        if auth:
            entry["authority"] = auth
        people.append(entry)
    people += extra_people
    roles = sorted({p[3] for p in PEOPLE})
    return json.dumps(
        {
            "authorities": [
                {"id": "fed", "name": "Federal government"},
                {"id": "region", "name": "Regional government"},
                {"id": "muni-a", "name": "Municipality A", "parent": "region"},
                {"id": "muni-b", "name": "Municipality B", "parent": "region"},
                {"id": "parl", "name": "Parliament"},
            ],
            "org_units": [
                {"id": "fed-services", "name": "Federal public services", "authority": "fed"},
                {"id": "fed-digital", "name": "Digital directorate", "parent": "fed-services"},
                {"id": "region-services", "name": "Regional services", "authority": "region"},
                {"id": "parl-members", "name": "Members", "authority": "parl"},
            ],
            "roles": [{"id": r, "name": r} for r in roles],
            "network_zones": list(NETWORK_ZONES),
            "people": people,
        },
        indent=1,
    )


def inventory_csv(new: bool) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["device_id", "platform", "ownership", "management_mode", "app_id", "app_name"])
    for *_, dev, own, mode, platform, old_apps, new_apps in PEOPLE:
        apps = new_apps if new else old_apps
        if apps is None:
            continue
        ids = [a for a in apps.split(";") if a]
        if not ids:
            w.writerow([dev, platform, own, mode, "", ""])
        for a in ids:
            w.writerow([dev, platform, own, mode, a, "TikTok" if a == TIKTOK else a])
    return out.getvalue()


def load_fleet(
    store: Store,
    root: Path,
    *,
    extra_people: Sequence[dict[str, object]] = (),
    snapshots: Sequence[str] = ("old", "new"),
) -> None:
    """Directory, then the old and the new snapshot (``snapshots`` chooses which)."""
    (root / "directory.json").write_text(directory_json(extra_people), encoding="utf-8")
    parsed = read_directory(root / "directory.json", "json")
    import_directory(store, parsed.directory, file="directory.json", source="json", now=NEW)
    for name, at, new in (("old.csv", OLD, False), ("new.csv", NEW, True)):
        if name.removesuffix(".csv") not in snapshots:
            continue
        (root / name).write_text(inventory_csv(new), encoding="utf-8")
        import_inventory(store, "generic-csv", [root / name], at=at, now=at)
