"""Golden files (snapshots) for JSON, SARIF and text on corpus APKs with a fixed --now.

Two questions, kept apart so that a change in the checks does not look like a
rendering bug:

* rendering: JSON, SARIF and text rendered from a frozen scan (``golden/*.scan.json``)
  must equal their goldens byte for byte;
* pipeline: a fresh scan of the APK must equal the frozen scan. When it does not and
  the reader, checks, scoring or reference data changed since the goldens were made
  (``golden/pipeline.sha256``), the test skips and says to regenerate the goldens
  (``APPVETO_UPDATE_GOLDEN=1 pytest tests/report``) and review the diff; with the
  same pipeline a different output fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appveto.report.json_report import render_json
from appveto.report.sarif import sarif_log
from appveto.report.text import render_scan_text
from tests.report.helpers import (
    FINGERPRINT,
    GOLDEN,
    GOLDEN_APKS,
    UPDATE,
    check_golden,
    frozen,
    pipeline_fingerprint,
    record,
)


def _sarif_without_registry(log: dict[str, Any]) -> str:
    """The SARIF golden leaves out what the check registry owns (rule texts, rule order);
    test_sarif checks those against the registry itself."""
    for run in log["runs"]:
        run["tool"]["driver"]["rules"] = []
        for res in run["results"]:
            res.pop("ruleIndex", None)
        for inv in run["invocations"]:
            for n in inv.get("toolExecutionNotifications", []):
                n.get("associatedRule", {}).pop("index", None)
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", GOLDEN_APKS)
def test_json_golden(name: str) -> None:
    rec = frozen(name)
    path = GOLDEN / f"{Path(name).stem}.scan.json"
    assert render_json([rec]) == path.read_text(encoding="utf-8"), "the JSON renderer changed its bytes"


@pytest.mark.parametrize("name", GOLDEN_APKS)
def test_sarif_golden(name: str) -> None:
    check_golden(f"{Path(name).stem}.sarif", _sarif_without_registry(sarif_log([frozen(name)])))


@pytest.mark.parametrize("name", GOLDEN_APKS)
def test_text_golden(name: str) -> None:
    check_golden(f"{Path(name).stem}.txt", render_scan_text([frozen(name)]))


@pytest.mark.parametrize("name", GOLDEN_APKS)
def test_fresh_scan_equals_the_frozen_one(name: str) -> None:
    frozen(name)
    path = GOLDEN / f"{Path(name).stem}.scan.json"
    fresh = render_json([record(name)])
    if fresh == path.read_text(encoding="utf-8"):
        return
    if not UPDATE and FINGERPRINT.read_text(encoding="utf-8").strip() != pipeline_fingerprint():
        pytest.skip(
            "the reader, checks, scoring or reference data changed since the goldens were made and the "
            "scan of this APK changed with them; regenerate with APPVETO_UPDATE_GOLDEN=1 pytest tests/report "
            "and review the diff"
        )
    check_golden(path.name, fresh)  # same pipeline, different output: a real regression
