"""SARIF 2.1.0 against the OASIS schema, rules from the check registry, locations into the APK."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jsonschema

from appveto.checks.registry import Status, all_checks
from appveto.report.json_report import scan_schema
from appveto.report.sarif import DOCS_BASE, sarif_log
from appveto.scan import error_record
from tests.conftest import REPO, require_shared
from tests.report.helpers import GOLDEN_APKS, record


@lru_cache(maxsize=1)
def sarif_validator() -> Any:
    schema = json.loads((require_shared("data/schemas/sarif") / "sarif-schema-2.1.0.json").read_text("utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@lru_cache(maxsize=1)
def own_validator() -> Any:
    return jsonschema.Draft202012Validator(scan_schema())


def errors(validator: Any, doc: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(doc)][
        :5
    ]


def test_error_input_is_a_run_with_a_notification() -> None:
    log = sarif_log([error_record("gone.apk", "gone.apk: no such file")])
    assert errors(sarif_validator(), log) == []
    inv = log["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert "no such file" in inv["toolExecutionNotifications"][0]["message"]["text"]


def test_rules_come_from_the_registry() -> None:
    log = sarif_log([record("quark-ahmyth-rat.apk")])
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    checks = all_checks()
    assert [r["id"] for r in rules] == [c.id for c in checks]
    for rule, c in zip(rules, checks, strict=True):
        assert rule["name"] == c.slug
        assert rule["shortDescription"]["text"] == c.title
        assert rule["helpUri"] == f"{DOCS_BASE}{c.id}.md"
        sev = float(rule["properties"]["security-severity"])
        assert 0.0 <= sev <= 10.0
        assert c.slug in rule["properties"]["tags"]
        if c.status is Status.ACTIVE:
            assert "## Why it matters" in rule["help"]["markdown"]
            page = REPO / "docs" / "checks" / f"{c.id}.md"
            if page.parent.is_dir():
                assert page.exists(), f"helpUri points at a missing page {page.name}"


def test_results_point_into_the_apk() -> None:
    rec = record("quark-ahmyth-rat.apk")
    run = sarif_log([rec])["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    kinds: set[str] = set()
    for res, f in zip(run["results"], rec.findings, strict=True):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] == f.check_id
        loc = res["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "quark-ahmyth-rat.apk"
        kinds |= {ll["kind"] for ll in loc.get("logicalLocations", [])}
        assert len(res["properties"]["evidence"]) == len(f.evidence)
        assert res["partialFingerprints"]["appvetoFinding/v1"]
    # manifest evidence -> entry + element; code evidence -> class + method
    assert {"module", "element", "type", "function"} <= kinds, kinds


def test_one_run_per_scan_in_input_order() -> None:
    recs = [record(n) for n in GOLDEN_APKS]
    runs = sarif_log(recs)["runs"]
    assert [r["artifacts"][0]["location"]["uri"] for r in runs] == list(GOLDEN_APKS)
    categories = [r["automationDetails"]["id"] for r in runs]
    assert len(set(categories)) == len(runs), "each run needs its own code-scanning category"


def test_absolute_paths_become_file_uris() -> None:
    from appveto.report.sarif import artifact_uri

    assert artifact_uri("/srv/apks/a b.apk") == "file:///srv/apks/a%20b.apk"
    assert artifact_uri("apks/a b.apk") == "apks/a%20b.apk"
