"""Precision and recall of appveto's checks, per check family, against the corpus's labels.

Ground truth comes only from ``../shared/corpus`` and Exodus's tracker list, through rules
that apply to every file alike (no expectation is written per file, none is keyed by a file
name):

* ``apk/MANIFEST.tsv``: the ``kind`` column and the structured part of ``notes`` (after
  `` | ``: ``key=value`` fields and flags separated by ``; ``, e.g. ``signing=v1``,
  ``debuggable``, ``zip anomalies=...``, ``packer hints=...``, ``native=...``, ``sdk=9/16``);
* ``labels/expectations.json``: APKiD labels transcribed from APKiD's rule metadata;
* ``labels/quark-json-report-sample-*.json``: Quark's behaviours at 100% confidence (their
  permissions are used), tied to a corpus file by MD5;
* Exodus's tracker list applied as exodus-core applies it: a tracker is present when its
  code signature ``re.search``-es one of the app's class names (slash-separated, as
  ``dexdump`` prints them).

Each rule decides, for a (file, check) pair, whether the check should fire (``True``), must
not fire (``False``) or cannot be judged (no label: not counted). Prints one table row per
family (TP, FP, FN, TN, precision, recall), the disagreements, whether any tracker was
reported without classes, and the score of every corpus sample by kind.

    python bench/checks_accuracy.py [--shared DIR] [--exodus FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from appveto.apk import load_apk  # noqa: E402
from appveto.apk.model import Apk  # noqa: E402
from appveto.checks.coverage import measure  # noqa: E402
from appveto.checks.sdk import match_trackers  # noqa: E402
from appveto.errors import AppvetoError  # noqa: E402
from appveto.kb import load_baseline  # noqa: E402
from appveto.kb.load import EXODUS_LICENCE, parse_exodus_trackers, with_extra  # noqa: E402
from appveto.kb.model import KnowledgeBase  # noqa: E402
from appveto.scan import ScanRecord, analyse  # noqa: E402

NOW = datetime(2026, 11, 29, tzinfo=UTC)
RANKED_HIGH = ("malware-sample", "spyware", "packed")
RANKED_LOW = ("real-app", "benign-test-app")


@dataclass(frozen=True, slots=True)
class Label:
    """What the corpus says about one file."""

    name: str
    kind: str
    description: str
    fields: dict[str, str]
    """The structured notes: ``key=value`` fields; flags map to ``""``."""
    apkid: tuple[str, ...] = ()
    used_permissions: tuple[str, ...] = ()

    def has(self, key: str) -> bool:
        return key in self.fields


def read_labels(shared: Path) -> dict[str, Label]:
    corpus = shared / "corpus"
    lines = (corpus / "apk/MANIFEST.tsv").read_text("utf-8").splitlines()
    header = lines[0].split("\t")
    col = {n: i for i, n in enumerate(header)}
    out: dict[str, Label] = {}
    for line in lines[1:]:
        r = line.split("\t")
        notes = r[col["notes"]] if len(r) > col["notes"] else ""
        description, _, structured = notes.partition(" | ")
        fields: dict[str, str] = {}
        for part in structured.split("; "):
            key, _, value = part.partition("=")
            if key.strip():
                fields[key.strip()] = value.strip()
        out[r[col["file"]]] = Label(r[col["file"]], r[col["kind"]], description, fields)
    expectations = json.loads((corpus / "labels/expectations.json").read_text("utf-8"))
    for e in expectations["entries"]:
        labels = tuple(
            name.split(" ", 1)[0]
            for per_file in e.get("expected", {}).get("apkid", {}).values()
            for names in per_file.values()
            for name in names
        )
        if labels and e["file"] in out:
            old = out[e["file"]]
            out[e["file"]] = Label(old.name, old.kind, old.description, old.fields, old.apkid + labels)
    md5s = {hashlib.md5((corpus / "apk" / n).read_bytes()).hexdigest(): n for n in out}
    for report in sorted((corpus / "labels").glob("quark-json-report-*.json")):
        doc = json.loads(report.read_text("utf-8"))
        name = md5s.get(str(doc.get("md5", "")))
        if name is None:
            continue
        perms = tuple(
            sorted(
                {p for c in doc.get("crimes", []) if c.get("confidence") == "100%" for p in c["permissions"]}
            )
        )
        old = out[name]
        out[name] = Label(old.name, old.kind, old.description, old.fields, old.apkid, perms)
    return out


# ------------------------------------------------------------------ the rules


@dataclass(frozen=True, slots=True)
class Seen:
    """What appveto reported about one file."""

    result: ScanRecord
    auditability: str
    total: float
    level: str
    fired: frozenset[tuple[str, str | None]]
    """(check ID, subject) of every finding."""
    protectors: tuple[str, ...]
    trackers: frozenset[str]
    verdicts: dict[str, str]

    def fires(self, check_id: str) -> bool:
        return any(cid == check_id for cid, _ in self.fired)


@dataclass(frozen=True, slots=True)
class Rule:
    family: str
    what: str
    truth: Callable[[Label, KnowledgeBase], bool | None]
    found: Callable[[Seen], bool]


def _sdk(label: Label) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d+)/(\d+|-)", label.fields.get("sdk", ""))
    if m is None:
        return None
    lo = int(m.group(1))
    return lo, (lo if m.group(2) == "-" else int(m.group(2)))


def _anomalies(label: Label) -> str | None:
    """The zip anomalies field; "" when the manifest row was written with a readable file and none."""
    if "zip anomalies" in label.fields:
        return label.fields["zip anomalies"]
    return "" if label.has("pkg") else None


def _signing(label: Label) -> set[str] | None:
    s = label.fields.get("signing")
    return None if s is None else set(s.split("+"))


def _packer_hints(label: Label) -> tuple[str, ...]:
    hints = label.fields.get("packer hints", "")
    return tuple(
        h.split(" ", 1)[0] for h in hints.split(";") if h and not h.startswith(("heuristic", "stub"))
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "MAN",
        "AV-MAN-001 debuggable",
        lambda lb, kb: lb.has("debuggable") if lb.has("pkg") else None,
        lambda s: s.fires("AV-MAN-001"),
    ),
    Rule(
        "MAN",
        "AV-MAN-006 target SDK below the store minimum",
        lambda lb, kb: None if (sdk := _sdk(lb)) is None else sdk[1] < kb.min_target_sdk,
        lambda s: s.fires("AV-MAN-006"),
    ),
    Rule(
        "SIG",
        "AV-SIG-001 debug certificate",
        lambda lb, kb: ("CN = Android Debug" in lb.fields["cert sha256"]) if lb.has("cert sha256") else None,
        lambda s: s.fires("AV-SIG-001"),
    ),
    Rule(
        "SIG",
        "AV-SIG-002 public AOSP test key",
        lambda lb, kb: ("public AOSP test key" in lb.description) if lb.has("cert sha256") else None,
        lambda s: s.fires("AV-SIG-002"),
    ),
    Rule(
        "SIG",
        "AV-SIG-003 v1 scheme only",
        lambda lb, kb: None if (sg := _signing(lb)) is None else sg == {"v1"},
        lambda s: s.fires("AV-SIG-003"),
    ),
    Rule(
        "SIG",
        "AV-SIG-007 unsigned",
        lambda lb, kb: None if (sg := _signing(lb)) is None or lb.kind == "malformed" else sg == {"unsigned"},
        lambda s: s.fires("AV-SIG-007"),
    ),
    Rule(
        "TAMP",
        "AV-TAMP-001 data before the archive",
        lambda lb, kb: None if (a := _anomalies(lb)) is None else "data-before-first-local-header" in a,
        lambda s: s.fires("AV-TAMP-001"),
    ),
    Rule(
        "TAMP",
        "AV-TAMP-002 header tricks",
        lambda lb, kb: (
            None
            if (a := _anomalies(lb)) is None
            else ("unusual-compression-method" in a or "name-mismatch" in a)
        ),
        lambda s: s.fires("AV-TAMP-002"),
    ),
    Rule(
        "TAMP",
        "AV-TAMP-003 entry names",
        lambda lb, kb: None if (a := _anomalies(lb)) is None else "path-traversal-name" in a,
        lambda s: s.fires("AV-TAMP-003"),
    ),
    Rule(
        "OBF",
        "AV-OBF-001 packer named by the labels",
        lambda lb, kb: True if _packer_hints(lb) or lb.apkid else (False if lb.kind in RANKED_LOW else None),
        lambda s: s.fires("AV-OBF-001"),
    ),
    Rule(
        "OBF",
        "AV-OBF-007 native code",
        lambda lb, kb: lb.has("native") if lb.has("dex") else None,
        lambda s: s.fires("AV-OBF-007"),
    ),
    Rule(
        "OBF",
        "coverage: packed code is low auditability",
        lambda lb, kb: True if lb.kind == "packed" else None,
        lambda s: s.auditability == "low",
    ),
    Rule(
        "PERM",
        "AV-PERM-001 never for packed code",
        lambda lb, kb: False if lb.kind == "packed" or _packer_hints(lb) else None,
        lambda s: s.fires("AV-PERM-001"),
    ),
)


def _exodus_truth(apk: Apk, exodus: KnowledgeBase) -> frozenset[str]:
    """exodus-core's own test: ``re.search(signature, class)`` over dexdump-style names."""
    names = [c[1:-1] for d in apk.dex for c in d.class_defs if c.startswith("L") and c.endswith(";")]
    found: set[str] = set()
    for t in exodus.trackers:
        rx = t.code_pattern()
        if rx is not None and t.id.startswith("exodus-") and any(rx.search(n) for n in names):
            found.add(t.name)
    return frozenset(found)


# ------------------------------------------------------------------ counting


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, want: bool, got: bool, what: str) -> None:
        if want and got:
            self.tp += 1
        elif want:
            self.fn += 1
            self.misses.append(f"missed: {what}")
        elif got:
            self.fp += 1
            self.misses.append(f"false: {what}")
        else:
            self.tn += 1

    @staticmethod
    def ratio(a: int, b: int) -> str:
        return f"{a / b:.2f}" if b else "-"


def _scan(path: Path, kb: KnowledgeBase) -> tuple[Apk, Seen] | None:
    try:
        apk = load_apk(str(path))
    except AppvetoError:
        return None
    trackers = frozenset(m.tracker.name for m in match_trackers(apk, kb))
    cov = measure(apk, kb)
    protectors = tuple(p.name for p in cov.protectors)
    auditability = str(cov.auditability)
    result = analyse(apk, kb, now=NOW)
    if result.score is None:
        return None
    seen = Seen(
        result,
        auditability,
        result.score.total,
        str(result.score.level),
        frozenset((f.check_id, f.subject) for f in result.findings),
        protectors,
        trackers,
        {v.permission: str(v.verdict) for v in result.permission_verdicts},
    )
    return apk, seen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.environ.get("APPVETO_SHARED", str(REPO.parent / "shared")))
    ap.add_argument("--exodus", help="Exodus tracker JSON for the oracle (default: the list appveto ships)")
    ap.add_argument(
        "--large",
        type=int,
        default=0,
        metavar="N",
        help="also time reader vs checks on a multidex APK of N classes built by bench/multidex.py",
    )
    args = ap.parse_args(argv)
    shared = Path(args.shared)
    if not (shared / "corpus/apk/MANIFEST.tsv").is_file():
        print(f"no corpus at {shared}", file=sys.stderr)
        return 2
    kb = load_baseline()
    exodus = kb
    if args.exodus:
        path = Path(args.exodus)
        info, trackers = parse_exodus_trackers(
            path.read_bytes(),
            str(path),
            entities=kb.entities,
            origin="bench",
            source=path.name,
            licence=EXODUS_LICENCE,
            date="",
        )
        exodus = with_extra(kb, trackers=trackers, datasets=(info,))
    labels = read_labels(shared)
    tallies: dict[str, Tally] = {}
    scores: list[tuple[str, str, float, str]] = []
    bare_trackers: list[str] = []
    for name, label in sorted(labels.items()):
        got = _scan(shared / "corpus/apk" / name, kb)
        if got is None:
            scores.append((label.kind, name, float("nan"), "unreadable"))
            continue
        apk, seen = got
        scores.append((label.kind, name, seen.total, seen.level))
        bare_trackers += [f"{name}: {t.name}" for t in seen.result.trackers if t.class_count == 0]
        for rule in RULES:
            want = rule.truth(label, kb)
            if want is not None:
                tallies.setdefault(rule.family, Tally()).add(want, rule.found(seen), f"{name}: {rule.what}")
        perm = tallies.setdefault("PERM", Tally())
        for p in label.used_permissions:
            v = seen.verdicts.get(p)
            perm.add(True, v == "used", f"{name}: {p.rsplit('.', 1)[-1]} used (Quark) -> {v}")
        trk = tallies.setdefault("TRK", Tally())
        truth = _exodus_truth(apk, exodus)
        ours = {
            n for n in seen.trackers if any(t.name == n and t.id.startswith("exodus-") for t in kb.trackers)
        }
        for t in sorted(truth | ours):
            trk.add(t in truth, t in ours, f"{name}: tracker {t}")
        if not truth and not ours:
            trk.tn += 1
    print("precision and recall per check family (ground truth: corpus labels, Exodus's list)\n")
    print(f"{'family':8} {'TP':>4} {'FP':>4} {'FN':>4} {'TN':>4} {'precision':>10} {'recall':>7}")
    for fam in sorted(tallies):
        c = tallies[fam]
        print(
            f"{fam:8} {c.tp:4} {c.fp:4} {c.fn:4} {c.tn:4} {Tally.ratio(c.tp, c.tp + c.fp):>10} "
            f"{Tally.ratio(c.tp, c.tp + c.fn):>7}"
        )
    print("\ndisagreements:")
    for fam in sorted(tallies):
        for m in tallies[fam].misses:
            print(f"  {fam:5} {m}")
    print(
        f"\ntrackers reported without classes: {len(bare_trackers)}"
        + "".join(f"\n  {b}" for b in bare_trackers)
    )
    print("\nrisk score per corpus sample, by kind:")
    for kind, name, total, level in sorted(scores, key=lambda r: (r[0], -r[2] if r[2] == r[2] else 0.0)):
        print(f"  {kind:20} {name:40} {total:5.1f} {level}")
    high = [s for s in scores if s[0] in RANKED_HIGH and s[2] == s[2]]
    low = [s for s in scores if s[0] in RANKED_LOW and s[2] == s[2]]
    if high and low:
        lo_high = min(high, key=lambda s: s[2])
        hi_low = max(low, key=lambda s: s[2])
        ok = lo_high[2] > hi_low[2]
        print(
            f"\nranking: lowest of {'/'.join(RANKED_HIGH)} {lo_high[2]:.1f} ({lo_high[1]}) "
            f"{'>' if ok else '<='} highest of {'/'.join(RANKED_LOW)} {hi_low[2]:.1f} ({hi_low[1]})"
        )
    if args.large:
        large_app(kb, args.large)
    return 0


def large_app(kb: KnowledgeBase, classes: int) -> None:
    """Reader vs checks on one large multidex APK (built from the corpus's DEX files)."""
    import resource
    import tempfile
    import time

    sys.path.insert(0, str(REPO / "bench"))
    from multidex import build_large_multidex

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "large.apk"
        print(f"\nlarge app: {build_large_multidex(out, min_classes=classes)}")
        t0 = time.perf_counter()
        apk = load_apk(str(out))
        t1 = time.perf_counter()
        result = analyse(apk, kb, now=NOW)
        t2 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"reader {t1 - t0:.2f}s, checks+score {t2 - t1:.2f}s, ratio {(t2 - t1) / (t1 - t0):.2f}x "
            f"(goal <= 2x); {len(result.findings)} findings, peak RSS {rss:.0f} MB"
        )


if __name__ == "__main__":
    raise SystemExit(main())
