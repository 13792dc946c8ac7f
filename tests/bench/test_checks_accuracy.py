"""bench/checks_accuracy.py on a corpus of two files, laid out as ../shared is: the table,
the tracker invariant and the score by kind come out; truth is read from the labels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import require_shared

REPO = Path(__file__).resolve().parents[2]


def test_precision_recall_table_on_a_tiny_corpus(tmp_path: Path) -> None:
    shared = require_shared("corpus")
    manifest = (shared / "apk/MANIFEST.tsv").read_text("utf-8").splitlines()
    keep = [ln for ln in manifest[1:] if ln.split("\t")[0] in ("fdroid-janus.apk", "fdroid-v2-only-sig.apk")]
    assert len(keep) == 2
    apk = tmp_path / "corpus/apk"
    apk.mkdir(parents=True)
    (apk / "MANIFEST.tsv").write_text("\n".join([manifest[0], *keep]) + "\n", "utf-8")
    for ln in keep:
        name = ln.split("\t")[0]
        (apk / name).symlink_to(shared / "apk" / name)
    labels = tmp_path / "corpus/labels"
    labels.mkdir()
    (labels / "expectations.json").write_text('{"entries": []}', "utf-8")
    out = subprocess.run(
        [sys.executable, str(REPO / "bench/checks_accuracy.py"), "--shared", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    assert "family     TP   FP   FN   TN  precision  recall" in out
    # Janus: data before the archive (TAMP), v1 only and a debug certificate (SIG), debuggable (MAN)
    rows = {ln.split()[0]: ln.split()[1:] for ln in out.splitlines() if ln[:4] in ("TAMP", "SIG ", "MAN ")}
    assert rows["TAMP"][:3] == ["1", "0", "0"], out
    assert "trackers reported without classes: 0" in out
    assert "evasive" in out and "signing-test" in out
