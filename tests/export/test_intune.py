"""The Intune bodies use only properties and enum members Microsoft Graph's metadata declares."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from appveto.errors import ExportError
from appveto.export.registry import EXPORTERS
from tests.conftest import require_shared
from tests.export.fixtures import policy_targets, sample_target

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

# Properties of base types the excerpt does not hold (graph.deviceConfiguration), as
# published for Graph v1.0; the excerpt holds deviceCompliancePolicy itself.
DEVICE_CONFIGURATION_BASE = {
    "displayName",
    "description",
    "version",
    "createdDateTime",
    "lastModifiedDateTime",
}


class Csdl:
    def __init__(self) -> None:
        path = require_shared("data/schemas/msgraph") / "graph-v1.0-app-types.excerpt.csdl.xml"
        root = ET.parse(path).getroot()
        assert root.tag == "{http://docs.oasis-open.org/odata/ns/edmx}Edmx"
        self.types: dict[str, ET.Element] = {}
        for el in root.iter():
            if el.tag in (f"{EDM}EntityType", f"{EDM}ComplexType", f"{EDM}EnumType"):
                self.types[el.get("Name", "")] = el

    def properties(self, type_name: str) -> dict[str, ET.Element]:
        out: dict[str, ET.Element] = {}
        el = self.types.get(type_name)
        while el is not None:
            for p in el:
                if p.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                    out.setdefault(p.get("Name", ""), p)
            base = el.get("BaseType", "")
            el = self.types.get(base.removeprefix("graph.")) if base else None
        return out

    def members(self, enum_name: str) -> set[str]:
        return {m.get("Name", "") for m in self.types[enum_name] if m.tag == f"{EDM}Member"}


@pytest.fixture(scope="module")
def csdl() -> Csdl:
    return Csdl()


def _check_items(items: list[dict[str, Any]], csdl: Csdl) -> None:
    props = csdl.properties("appListItem")
    for item in items:
        assert item["@odata.type"] == "#microsoft.graph.appListItem"
        unknown = set(item) - set(props) - {"@odata.type"}
        assert unknown == set()
        assert props["name"].get("Nullable") == "false" and item["name"]


def _targets() -> list[Any]:
    return [sample_target(), *policy_targets().values()]


def test_device_configuration_matches_graph_v1(csdl: Csdl) -> None:
    props = csdl.properties("iosGeneralDeviceConfiguration")
    for target in _targets():
        body = json.loads(EXPORTERS["intune"].export(target).content)
        assert body["@odata.type"] == "#microsoft.graph.iosGeneralDeviceConfiguration"
        unknown = set(body) - set(props) - DEVICE_CONFIGURATION_BASE - {"@odata.type"}
        assert unknown == set()
        for key in ("appsVisibilityListType", "compliantAppListType"):
            assert props[key].get("Type") == "graph.appListType"
            assert body[key] in csdl.members("appListType")
            # 'appsNotInListCompliant': the apps in the list are the non-compliant (hidden) ones.
            assert body[key] == "appsNotInListCompliant"
        for key in ("appsVisibilityList", "compliantAppsList"):
            assert props[key].get("Type") == "Collection(graph.appListItem)"
            _check_items(body[key], csdl)
            assert {i["appId"] for i in body[key]} == set(target.ios_bundle_ids)


def test_compliance_policy_is_beta_and_otherwise_declared(csdl: Csdl) -> None:
    v1 = csdl.properties("iosCompliancePolicy")
    # restrictedApps is beta-only: the v1.0 metadata must not have it, which is why the
    # export targets the beta endpoint and says so.
    assert "restrictedApps" not in v1
    for target in _targets():
        art = EXPORTERS["intune-compliance"].export(target)
        assert "/beta/" in art.destination and any("BETA" in c for c in art.caveats)
        body = json.loads(art.content)
        assert body["@odata.type"] == "#microsoft.graph.iosCompliancePolicy"
        unknown = set(body) - set(v1) - {"@odata.type", "restrictedApps"}
        assert unknown == set()
        assert v1["scheduledActionsForRule"].tag == f"{EDM}NavigationProperty"
        _check_items(body["restrictedApps"], csdl)
        actions = body["scheduledActionsForRule"][0]["scheduledActionConfigurations"]
        assert [a["actionType"] for a in actions].count("block") == 1


def test_caveats_state_report_only_versus_block() -> None:
    caveats = " ".join(EXPORTERS["intune"].export(sample_target()).caveats)
    assert "REPORT-ONLY" in caveats and "SUPERVISED" in caveats


def test_no_ios_app_is_an_error() -> None:
    with pytest.raises(ExportError):
        EXPORTERS["intune"].export(sample_target(apps=()))
    with pytest.raises(ExportError):
        EXPORTERS["intune-compliance"].export(sample_target(apps=()))
