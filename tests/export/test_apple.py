"""The Apple profile round-trips through plistlib and matches Apple's own payload schema."""

from __future__ import annotations

import datetime
import functools
import plistlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from appveto.errors import ExportError
from appveto.export.apple import build_profile
from appveto.export.registry import EXPORTERS
from tests.conftest import require_shared
from tests.export.fixtures import policy_targets, sample_target

_TYPES: dict[str, tuple[type, ...]] = {
    "<string>": (str,),
    "<integer>": (int,),
    "<boolean>": (bool,),
    "<array>": (list,),
    "<dictionary>": (dict,),
    "<data>": (bytes,),
    "<date>": (datetime.datetime,),
    "<real>": (float,),
}


def _load(name: str) -> dict[str, Any]:
    path: Path = require_shared("data/schemas/apple") / name
    return _parse(path)


@functools.cache
def _parse(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return data


def _keys(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["key"]: k for k in schema["payloadkeys"]}


def _check_dict(value: dict[str, Any], keys: dict[str, dict[str, Any]], where: str) -> list[str]:
    problems = []
    for name, spec in keys.items():
        if spec.get("presence") == "required" and name not in value:
            problems.append(f"{where}: required key {name} missing")
    for name, item in value.items():
        spec = keys.get(name)
        if spec is None:
            problems.append(f"{where}: key {name} is not in Apple's schema")
            continue
        kind = spec["type"]
        if kind != "<any>" and not (
            isinstance(item, _TYPES[kind]) and not (kind == "<integer>" and isinstance(item, bool))
        ):
            problems.append(f"{where}.{name}: expected {kind}, got {type(item).__name__}")
        if "rangelist" in spec and item not in spec["rangelist"]:
            problems.append(f"{where}.{name}: {item!r} not in {spec['rangelist']}")
        if kind == "<array>" and spec.get("subkeys") and spec["subkeys"][0]["type"] != "<dictionary>":
            sub = spec["subkeys"][0]["type"]
            for i, element in enumerate(item):
                if not isinstance(element, _TYPES[sub]):
                    problems.append(f"{where}.{name}[{i}]: expected {sub}")
    return problems


def _targets() -> list[Any]:
    return [sample_target(), *policy_targets().values()]


def test_profile_round_trips_through_plistlib() -> None:
    for target in _targets():
        art = EXPORTERS["apple"].export(target)
        assert art.content.startswith(b"<?xml")
        assert plistlib.loads(art.content) == build_profile(target)


def test_profile_matches_apple_schema() -> None:
    top = _keys(_load("TopLevel.yaml"))
    common = _keys(_load("CommonPayloadKeys.yaml"))
    access_doc = _load("com.apple.applicationaccess.yaml")
    access = {**common, **_keys(access_doc)}
    for target in _targets():
        profile = plistlib.loads(EXPORTERS["apple"].export(target).content)
        problems = _check_dict(profile, top, "profile")
        assert len(profile["PayloadContent"]) == 1
        payload = profile["PayloadContent"][0]
        problems += _check_dict(payload, access, "payload")
        assert problems == []
        assert payload["PayloadType"] == access_doc["payload"]["payloadtype"]
        assert payload["blockedAppBundleIDs"] == list(target.ios_bundle_ids)


def test_blocked_key_is_current_and_supervised_only_as_the_caveat_says() -> None:
    spec = _keys(_load("com.apple.applicationaccess.yaml"))["blockedAppBundleIDs"]
    ios = spec["supportedOS"]["iOS"]
    assert "deprecated" not in ios, "blockedAppBundleIDs is deprecated: move to the successor key"
    assert ios["supervised"] is True
    assert ios["userenrollment"]["mode"] == "forbidden"
    caveats = " ".join(EXPORTERS["apple"].export(sample_target()).caveats)
    assert "SUPERVISED" in caveats and "User Enrollment" in caveats and "HIDES" in caveats


def test_uuids_are_valid_stable_and_distinct_per_decision() -> None:
    a1 = build_profile(sample_target())
    a2 = build_profile(sample_target())
    b = build_profile(sample_target(decision_id="OTHER-BAN"))
    assert a1 == a2
    uuids = {a1["PayloadUUID"], a1["PayloadContent"][0]["PayloadUUID"]}
    assert len(uuids) == 2
    for u in uuids:
        assert str(uuid.UUID(u)).upper() == u
    assert b["PayloadUUID"] not in uuids
    assert a1["PayloadIdentifier"] != b["PayloadIdentifier"]
    assert a1["PayloadContent"][0]["PayloadIdentifier"].startswith(a1["PayloadIdentifier"] + ".")


def test_header_comment_cannot_break_the_xml() -> None:
    target = sample_target(title="a title with --> and <!-- inside", authority="A & B <Council>")
    content = EXPORTERS["apple"].export(target).content
    profile = plistlib.loads(content)
    assert profile["PayloadOrganization"] == "A & B <Council>"


def test_no_ios_app_is_an_error() -> None:
    with pytest.raises(ExportError, match="no iOS bundle ID"):
        EXPORTERS["apple"].export(sample_target(apps=()))
