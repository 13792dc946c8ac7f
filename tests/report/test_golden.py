"""Golden files (snapshots) for JSON, SARIF and text on corpus APKs with a fixed --now.

Two questions, kept apart so that a change in the checks does not look like a
rendering bug:

* rendering: JSON, SARIF and text rendered from a frozen scan (``golden/*.scan.json``)
  must equal their goldens byte for byte;
* pipeline: a fresh scan of the APK must equal the frozen scan.

Neither ever skips because an output changed: a difference fails with the diff. After an
intended change of the reader, checks, scoring or reference data, ``make goldens``
regenerates them, and the diff is reviewed in the commit. The only skip is for a missing
input (the corpus APK, through ``require_shared``; a failure in CI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appveto.report.json_report import render_json
from appveto.report.sarif import sarif_log
from appveto.report.text import render_scan_text
from tests import goldens
from tests.report.helpers import GOLDEN, GOLDEN_APKS, check_golden, frozen, record


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
    check_golden(f"{Path(name).stem}.scan.json", render_json([record(name)]))


def test_a_one_character_change_fails_with_its_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison itself, also under ``make goldens``: one changed character in a scan is a
    failure (never a skip) that shows the changed line."""
    monkeypatch.setattr(goldens, "UPDATE", False)
    name = GOLDEN_APKS[0]
    text = render_json([frozen(name)])
    golden = tmp_path / "a.scan.json"
    golden.write_text(text, encoding="utf-8")
    goldens.assert_golden(golden, text)  # the same bytes pass
    changed = text.replace('"package": "', '"package": "x', 1)
    assert len(changed) == len(text) + 1
    with pytest.raises(pytest.fail.Exception) as failed:
        goldens.assert_golden(golden, changed)
    message = str(failed.value)
    assert "+" in message and '"package": "x' in message and "make goldens" in message
    golden.unlink()
    with pytest.raises(pytest.fail.Exception, match="is missing"):
        goldens.assert_golden(golden, text)
    assert not golden.exists()  # a test never writes a golden unless asked to
