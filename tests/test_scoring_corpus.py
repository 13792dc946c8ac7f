"""Ranking on the real corpus: every APK the corpus labels malware, spyware or packed scores
above every APK it labels a real or benign test app. The kinds come from the ``kind``
column of ``corpus/apk/MANIFEST.tsv``, never from file names."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

from appveto.errors import AppvetoError
from appveto.kb import load_baseline
from appveto.scan import scan_apk
from tests.conftest import require_shared

HIGH = frozenset({"malware-sample", "spyware", "packed"})
LOW = frozenset({"real-app", "benign-test-app"})


def test_malware_spyware_and_packed_apps_score_above_real_and_benign_apps() -> None:
    folder = require_shared("corpus/apk")
    with (folder / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        kinds = {row["file"]: row["kind"] for row in csv.DictReader(fh, delimiter="\t")}
    kb = load_baseline()
    now = datetime(2026, 11, 29, tzinfo=UTC)
    scored: dict[str, list[tuple[float, str]]] = {"high": [], "low": []}
    for name, kind in sorted(kinds.items()):
        group = "high" if kind in HIGH else "low" if kind in LOW else None
        if group is None:
            continue
        try:
            total = scan_apk(str(folder / name), kb, now=now).score.total
        except AppvetoError as exc:  # every labelled app of both groups must be readable
            raise AssertionError(f"{name} ({kind}) could not be scanned: {exc}") from exc
        scored[group].append((total, f"{name} ({kind})"))
    assert len(scored["high"]) >= 10 and len(scored["low"]) >= 7, scored
    lowest, highest = min(scored["high"]), max(scored["low"])
    assert lowest[0] > highest[0], (
        f"{lowest[1]} scores {lowest[0]}, not above {highest[1]} at {highest[0]}; "
        f"all: {sorted(scored['high'] + scored['low'])}"
    )
