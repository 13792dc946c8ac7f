"""The Android Management API export validates against Google's discovery document."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from appveto.errors import ExportError
from appveto.export.amapi import build_policy
from appveto.export.discovery import validate
from appveto.export.registry import EXPORTERS
from tests.export.fixtures import policy_targets, sample_target


@pytest.fixture(scope="module")
def discovery() -> dict[str, Any]:
    googleapiclient = pytest.importorskip("googleapiclient")
    doc = resources.files(googleapiclient) / "discovery_cache/documents/androidmanagement.v1.json"
    data: dict[str, Any] = json.loads(doc.read_text(encoding="utf-8"))
    assert data["name"] == "androidmanagement" and data["version"] == "v1"
    return data


def test_policy_validates_against_discovery_schema(discovery: dict[str, Any]) -> None:
    for target in (sample_target(), *policy_targets().values()):
        body = json.loads(EXPORTERS["amapi"].export(target).content)
        problems = validate(body, "Policy", discovery)
        assert problems == (), [str(p) for p in problems]
        blocked = {a["packageName"] for a in body["applications"] if a["installType"] == "BLOCKED"}
        assert blocked == set(target.android_packages)
        assert body["statusReportingSettings"]["applicationReportsEnabled"] is True
        assert body["playStoreMode"] == "BLACKLIST"


def test_enum_values_used_are_documented(discovery: dict[str, Any]) -> None:
    schemas = discovery["schemas"]
    assert "BLOCKED" in schemas["ApplicationPolicy"]["properties"]["installType"]["enum"]
    assert "BLACKLIST" in schemas["Policy"]["properties"]["playStoreMode"]["enum"]
    assert "BLOCKED" in schemas["PersonalApplicationPolicy"]["properties"]["installType"]["enum"]


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda b: b.update(blockApps=True), "$.blockApps", "unknown property"),
        (
            lambda b: b["applications"][0].update(installType="BANNED"),
            "$.applications[0].installType",
            "not one of",
        ),
        (lambda b: b.update(playStoreMode=1), "$.playStoreMode", "expected a string"),
        (
            lambda b: b["statusReportingSettings"].update(applicationReportsEnabled="yes"),
            "$.statusReportingSettings.applicationReportsEnabled",
            "expected a boolean",
        ),
        (lambda b: b.update(blockApplicationsEnabled=True), "$.blockApplicationsEnabled", "deprecated"),
        (lambda b: b.update(version="three"), "$.version", "expected a decimal int64"),
        (lambda b: b.update(applications={}), "$.applications", "expected an array"),
    ],
)
def test_validator_reports_each_kind_of_mistake(
    discovery: dict[str, Any], mutate: Any, path: str, fragment: str
) -> None:
    body = build_policy(sample_target())
    mutate(body)
    problems = validate(body, "Policy", discovery)
    assert any(p.path == path and fragment in p.message for p in problems), [str(p) for p in problems]


def test_validator_unknown_schema(discovery: dict[str, Any]) -> None:
    assert validate({}, "NoSuchSchema", discovery)[0].message.startswith("the discovery document has no")


def test_no_android_package_is_an_error() -> None:
    target = sample_target(apps=())
    with pytest.raises(ExportError) as exc:
        EXPORTERS["amapi"].export(target)
    assert exc.value.diagnostics()[0].file == "policies/test.yaml"
    assert "no Android package" in str(exc.value)
