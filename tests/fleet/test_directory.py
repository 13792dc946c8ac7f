"""Directory files: CSV, JSON and SCIM 2.0 (RFC 7643 core + enterprise extension)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from appveto.errors import FleetError
from appveto.fleet.directory import (
    SCIM_APPVETO,
    SCIM_ENTERPRISE,
    SCIM_GROUP,
    SCIM_USER,
    detect_format,
    read_directory,
)

Write = Callable[[str, "str | bytes"], Path]


def msgs(result: object) -> list[str]:
    return [str(i) for i in result.issues]  # type: ignore[attr-defined]


def test_csv_builds_the_unit_tree_authorities_roles_and_holdings(write: Write) -> None:
    text = (
        "\n".join(
            [
                "id,user_name,display_name,email,title,org_unit,authority,authority_kind,manager,roles,devices,active",
                "p1,jpeeters,Jan Peeters,j.peeters@example.org,Adviser,FPS BOSA/DG DT/Cloud,fed,federal,p2,"
                "staff;it,FED-IPH-0193;R5CW30XXXXX,true",
                "p2,amertens,An Mertens,a.mertens@example.org,Director,FPS BOSA/DG DT,fed,federal,,"
                "staff,,yes",
                "p3,old,Old Account,old@example.org,,FPS BOSA,fed,federal,ghost,,FED-IPH-0193,false",
                "p1,dup,Dup,dup@example.org,,,,,,,,",
                ",noid,,,,,,,,,,",
                "p4,short",
                "p5,x,X,x@example.org,,Gent/ICT,gent,municipality,,,,maybe",
            ]
        )
        + "\n"
    )
    r = read_directory(write("staff.csv", text), display="staff.csv")
    d = r.directory
    assert r.format == "csv" and r.rows_bad == 3
    assert [p.id for p in d.people] == ["p1", "p2", "p3", "p5"]
    units = {u.id: u for u in d.org_units}
    assert units["FPS BOSA/DG DT/Cloud"].parent_id == "FPS BOSA/DG DT"
    assert units["FPS BOSA/DG DT"].parent_id == "FPS BOSA" and units["FPS BOSA"].parent_id is None
    assert units["Gent/ICT"].authority_id == "gent" and units["Gent"].authority_id is None
    assert {(a.id, a.kind) for a in d.authorities} == {("fed", "federal"), ("gent", "municipality")}
    p1, _p2, p3, p5 = d.people
    assert p1.roles == ("it", "staff") and p1.devices == ("FED-IPH-0193", "R5CW30XXXXX")
    assert p1.manager_id == "p2" and p1.authority_id == "fed" and p1.org_unit_id == "FPS BOSA/DG DT/Cloud"
    assert p3.active is False and p3.devices == () and p3.manager_id is None and p5.active is True
    m = msgs(r)
    assert "staff.csv:5: duplicate person ID 'p1' (first at line 2); this entry is not imported" in m
    assert "staff.csv:6: empty id" in m
    assert "staff.csv:7: expected 12 fields, found 2" in m
    assert "staff.csv:8: active 'maybe' is not true/false; read as true" in m
    assert any("person 'p3': unknown manager 'ghost'" in x for x in m)
    assert any("person 'p3': device 'FED-IPH-0193' is already held by 'p1'" in x for x in m)


def test_json_with_references_checked(write: Write) -> None:
    doc = {
        "authorities": [
            {"id": "be", "name": "Belgium"},
            {"id": "fed", "name": "Federal", "parent": "be"},
            {"id": "loop", "name": "Loop", "parent": "loop"},
        ],
        "org_units": [
            {"id": "u1", "name": "Unit 1", "authority": "fed"},
            {"id": "u2", "name": "Unit 2", "parent": "u1"},
            {"id": "u3", "name": "Unit 3", "parent": "u4"},
            {"id": "u4", "name": "Unit 4", "parent": "u3"},
            {"id": "u5", "name": "Orphan", "parent": "missing"},
        ],
        "roles": [{"id": "staff", "name": "Staff"}],
        "people": [
            {
                "id": "p1",
                "email": "a@example.org",
                "org_unit": "u2",
                "roles": ["staff", "ghost"],
                "devices": ["D1"],
            },
            {"id": "p2", "org_unit": "nowhere", "active": "yes"},
            {"name": "no id"},
            "not an object",
        ],
    }
    r = read_directory(write("dir.json", json.dumps(doc)))
    d = r.directory
    assert r.format == "json" and r.rows_bad == 2
    units = {u.id: u for u in d.org_units}
    assert units["u2"].authority_id == "fed"  # inherited from u1
    assert units["u5"].parent_id is None
    assert sum(1 for u in ("u3", "u4") if units[u].parent_id is None) >= 1  # the cycle is broken
    p1 = d.people[0]
    assert p1.authority_id == "fed" and p1.roles == ("staff",) and p1.devices == ("D1",)
    m = msgs(r)
    assert any("people[0]" in x and "unknown role 'ghost'" in x for x in m)
    assert any("people[1]" in x and "unknown org unit 'nowhere'" in x for x in m)
    assert any("people[1]" in x and "'active' must be true or false" in x for x in m)
    assert any("people[2]" in x and "person without 'id'" in x for x in m)
    assert any(
        "org unit 'u3' is its own ancestor" in x or "org unit 'u4' is its own ancestor" in x for x in m
    )
    assert any("authority 'loop' is its own ancestor" in x for x in m)


def _user(
    uid: str,
    user: str,
    email: str,
    org: str | None,
    dept: str | None,
    manager: str | None = None,
    **extra: object,
) -> dict[str, object]:
    ent: dict[str, object] = {"employeeNumber": "701984"}
    if org:
        ent["organization"] = org
    if dept:
        ent["department"] = dept
    if manager:
        ent["manager"] = {"value": manager, "displayName": "Boss"}
    u: dict[str, object] = {
        "schemas": [SCIM_USER, SCIM_ENTERPRISE],
        "id": uid,
        "externalId": user,
        "userName": user,
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "active": True,
        "emails": [
            {"value": "home@example.com", "type": "home"},
            {"value": email, "type": "work", "primary": True},
        ],
        SCIM_ENTERPRISE: ent,
        "meta": {"resourceType": "User"},
    }
    u.update(extra)
    return u


def test_scim_list_response(write: Write) -> None:
    resources = [
        _user(
            "2819c223",
            "bjensen@example.com",
            "bjensen@example.com",
            "Example Inc.",
            "Tour Operations",
            "26118915",
            **{SCIM_APPVETO: {"devices": ["FED-IPH-0193"]}},
        ),
        _user("26118915", "boss@example.com", "boss@example.com", "Example Inc.", None),
        _user("x1", "free@example.com", "free@example.com", None, "Lonely Dept", active=False),
        {
            "schemas": [SCIM_GROUP],
            "id": "e9e30dba",
            "displayName": "Tour Guides",
            "members": [
                {"value": "2819c223", "$ref": "https://example.com/v2/Users/2819c223", "display": "Babs"},
                {"value": "nobody"},
                {"value": "g2", "type": "Group"},
            ],
        },
        {"schemas": ["urn:example:Thing"], "id": "thing"},
        {"schemas": [SCIM_USER], "userName": "noid"},
    ]
    doc = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(resources),
        "Resources": resources,
    }
    path = write("scim.json", json.dumps(doc))
    assert detect_format(path) == "scim"
    r = read_directory(path)
    d = r.directory
    people = {p.id: p for p in d.people}
    b = people["2819c223"]
    assert (b.user_name, b.email, b.display_name, b.title) == (
        "bjensen@example.com",
        "bjensen@example.com",
        "Babs Jensen",
        "Tour Guide",
    )
    assert b.org_unit_id == "Example Inc./Tour Operations" and b.authority_id == "Example Inc."
    assert b.manager_id == "26118915" and b.roles == ("e9e30dba",) and b.devices == ("FED-IPH-0193",)
    assert people["26118915"].org_unit_id == "Example Inc."
    assert people["x1"].active is False and people["x1"].org_unit_id == "Lonely Dept"
    assert [(x.id, x.name) for x in d.roles] == [("e9e30dba", "Tour Guides")]
    assert r.rows_bad == 2
    m = msgs(r)
    assert any("Resources[4]" in x and "neither a SCIM User nor a Group" in x for x in m)
    assert any("Resources[5]" in x and "User without 'id'" in x for x in m)
    assert any("nested group 'g2'" in x for x in m)
    assert any("unknown member 'nobody'" in x for x in m)


def test_scim_users_and_groups_object(write: Write) -> None:
    doc = {
        "Users": [_user("u1", "a", "a@example.org", "Org", "Dept")],
        "Groups": {
            "Resources": [
                {"schemas": [SCIM_GROUP], "id": "g", "displayName": "G", "members": [{"value": "u1"}]}
            ]
        },
    }
    r = read_directory(write("bundle.json", json.dumps(doc)), "scim")
    assert r.directory.people[0].roles == ("g",)


def test_refusals(write: Write) -> None:
    with pytest.raises(FleetError, match=r"staff.csv:1: not a directory CSV: missing column id"):
        read_directory(write("staff.csv", "name,email\nx,y\n"), display="staff.csv")
    with pytest.raises(FleetError, match=r"d.json:1:\d+: truncated JSON"):
        read_directory(write("d.json", '{"people": [{"id": "p1"'), "json", display="d.json")
    with pytest.raises(FleetError, match=r"n.json: a number too long to read \(more than 4300 digits\)"):
        read_directory(write("n.json", '{"people": [{"id": ' + "9" * 5000 + "}]}"), "json", display="n.json")
    with pytest.raises(FleetError, match=r"not SCIM 2\.0 Users/Groups"):
        read_directory(write("s.json", json.dumps({"people": []})), "scim")
    with pytest.raises(FleetError, match="not an appveto directory JSON"):
        read_directory(write("v.json", json.dumps({"value": []})), "json")
    with pytest.raises(FleetError, match="the file is empty"):
        read_directory(write("e.json", ""), "json")


def test_a_file_without_any_person_is_refused(write: Write) -> None:
    with pytest.raises(FleetError) as info:
        read_directory(write("none.csv", "id,email\n,a@example.org\n"), display="none.csv")
    diags = [str(d) for d in info.value.diagnostics()]
    assert diags == [
        "none.csv:2: empty id",
        "none.csv: no person could be read; the stored directory is left as it is",
    ]
    with pytest.raises(FleetError, match="no person could be read"):
        read_directory(
            write("groups.json", json.dumps({"Resources": [{"schemas": [SCIM_GROUP], "id": "g"}]}))
        )


def test_json_held_devices_with_platforms_systems_and_networks(write: Write) -> None:
    doc = {
        "systems": [{"id": "mail", "name": "Mail"}, {"id": "docs"}, {"name": "no id"}],
        "network_zones": [{"id": "lan", "name": "Wired network"}],
        "people": [
            {
                "id": "p1",
                "devices": [
                    "D1",
                    {"id": "I1", "platform": "ios"},
                    {"id": "P1", "platform": "iPad"},
                    {"id": "W1", "platform": "toaster"},
                    {"platform": "android"},
                ],
            },
            {
                "id": "p2",
                "devices": [{"id": "I1", "platform": "android"}, {"id": "A2", "platform": "android"}],
            },
        ],
    }
    r = read_directory(write("dir.json", json.dumps(doc)))
    d = r.directory
    assert [(s.id, s.name) for s in d.systems] == [("docs", "docs"), ("mail", "Mail")]
    assert [(n.id, n.name) for n in d.networks] == [("lan", "Wired network")]
    assert d.people[0].devices == ("D1", "I1", "P1", "W1")
    assert d.people[1].devices == ("A2",)  # I1 is already held by p1
    assert dict(d.device_platforms) == {"I1": "ios", "P1": "ipados", "A2": "android"}
    m = msgs(r)
    assert any("people[0].devices[3]" in x and "unknown platform 'toaster'" in x for x in m)
    assert any("people[0].devices[4]" in x and "held device without 'id'" in x for x in m)
    assert any("systems[2]" in x and "system without 'id'" in x for x in m)


def test_scim_held_devices_may_give_their_platform(write: Write) -> None:
    user = {
        "schemas": [SCIM_USER, SCIM_APPVETO],
        "id": "u1",
        "userName": "jpeeters",
        SCIM_APPVETO: {"devices": ["D1", {"id": "I1", "platform": "iOS"}]},
    }
    r = read_directory(write("scim.json", json.dumps({"Resources": [user]})))
    assert r.directory.people[0].devices == ("D1", "I1")
    assert r.directory.device_platforms == (("I1", "ios"),)
