"""The importers read the field names the vendors' own schemas define.

* Android Management API: the discovery document shipped in google-api-python-client;
* Apple MDM: ``mdm/commands/application.installed.list.yaml`` (../shared/data/schemas/apple);
* Microsoft Graph: the v1.0 CSDL excerpt (../shared/data/schemas/msgraph).
"""

from __future__ import annotations

import importlib.resources
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appveto.fleet.importers._platforms import platform_of
from appveto.fleet.ingest import import_inventory
from appveto.fleet.model import ManagementMode, Ownership, Platform
from appveto.fleet.store import Store
from tests.conftest import require_shared
from tests.fleet import payloads as pl

Write = Callable[[str, "str | bytes"], Path]
AT = datetime(2024, 5, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def amapi() -> dict[str, Any]:
    doc = importlib.resources.files("googleapiclient") / "discovery_cache/documents/androidmanagement.v1.json"
    schemas: dict[str, Any] = json.loads(doc.read_text(encoding="utf-8"))["schemas"]
    return schemas


def _props(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    props: dict[str, Any] = schemas[name]["properties"]
    return props


def test_amapi_payload_keys_are_in_the_discovery_document(amapi: dict[str, Any]) -> None:
    device = pl.amapi_device("d", [(pl.TIKTOK, "TikTok", "1")])
    assert set(device) <= set(_props(amapi, "Device"))
    assert set(device["applicationReports"][0]) <= set(_props(amapi, "ApplicationReport"))
    assert set(device["hardwareInfo"]) <= set(_props(amapi, "HardwareInfo"))
    assert set(device["softwareInfo"]) <= set(_props(amapi, "SoftwareInfo"))
    assert set(json.loads(pl.amapi_page([device]))) <= set(_props(amapi, "ListDevicesResponse"))
    assert "REMOVED" in _props(amapi, "ApplicationReport")["state"]["enum"]
    assert "DELETED" in _props(amapi, "Device")["state"]["enum"]
    source_enum = _props(amapi, "ApplicationReport")["applicationSource"]["enum"]
    assert device["applicationReports"][0]["applicationSource"] in source_enum


def test_every_amapi_ownership_and_mode_value_is_read(
    amapi: dict[str, Any], sqlite_store: Store, write: Write
) -> None:
    ownerships = _props(amapi, "Device")["ownership"]["enum"]
    modes = _props(amapi, "Device")["managementMode"]["enum"]
    devices = [
        pl.amapi_device(f"o{i}-m{j}", [], ownership=o, mode=m)
        for i, o in enumerate(ownerships)
        for j, m in enumerate(modes)
    ]
    summary = import_inventory(sqlite_store, "amapi", [write("all.json", pl.amapi_page(devices))], at=AT)
    assert summary.rows_bad == 0 and summary.devices == len(devices)
    got = {d.name: (d.ownership, d.management_mode) for d in sqlite_store.devices()}
    for i, o in enumerate(ownerships):
        for j, m in enumerate(modes):
            own, mode = got[f"o{i}-m{j}"]
            assert (own is Ownership.UNKNOWN) == o.endswith("UNSPECIFIED"), o
            assert (mode is ManagementMode.UNKNOWN) == m.endswith("UNSPECIFIED"), m


def test_apple_item_keys_are_in_apples_command_schema() -> None:
    from ruamel.yaml import YAML

    path = require_shared("data/schemas/apple/application.installed.list.yaml")
    doc = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    (response,) = [k for k in doc["responsekeys"] if k["key"] == "InstalledApplicationList"]
    item_keys = {k["key"] for k in response["subkeys"][0]["subkeys"]}
    assert {"Identifier", "Name", "Version", "ShortVersion"} <= item_keys
    assert set(pl.apple_app(pl.TIKTOK, "TikTok", "1", "1")) <= item_keys


def test_graph_detected_app_and_platforms_match_the_csdl() -> None:
    path = require_shared("data/schemas/msgraph/graph-v1.0-app-types.excerpt.csdl.xml")
    ns = {"e": "http://docs.oasis-open.org/odata/ns/edm"}
    root = ET.fromstring(path.read_bytes())
    entity = root.find(".//e:EntityType[@Name='detectedApp']", ns)
    assert entity is not None
    names = {p.get("Name") for p in entity} - {None}
    app = pl.graph_detected_app("TikTok", "1", "ios", [])
    assert set(app) - {"id"} <= names  # "id" comes from graph.entity
    members = [
        m.get("Name") for m in root.findall(".//e:EnumType[@Name='detectedAppPlatformType']/e:Member", ns)
    ]
    expected = {"ios": Platform.IOS, "macOS": Platform.MACOS, "chromeOS": Platform.CHROMEOS}
    for member in members:
        assert member is not None
        got = platform_of(member)
        if member in expected:
            assert got is expected[member]
        elif member.startswith("windows"):
            assert got is Platform.WINDOWS
        elif member.startswith("android"):
            assert got is Platform.ANDROID
        else:
            assert member in ("unknown", "unknownFutureValue") and got is Platform.UNKNOWN
