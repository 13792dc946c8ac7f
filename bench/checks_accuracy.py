"""Expected versus found, for every labelled corpus file, and the cost of the checks.

Expectations come from ../shared/corpus (MANIFEST.tsv kinds and notes, labels/
expectations.json); nothing here is tuned per file. Prints one line per
(file, aspect) and a summary, then reader vs checks time (goal: checks <= 2x reader).

    python bench/checks_accuracy.py [--shared DIR] [--exodus FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from appveto.apk import load_apk  # noqa: E402
from appveto.checks.coverage import measure  # noqa: E402
from appveto.checks.perm import Verdict, permission_verdicts  # noqa: E402
from appveto.checks.sdk import match_trackers  # noqa: E402
from appveto.errors import AppvetoError  # noqa: E402
from appveto.kb import load_baseline  # noqa: E402
from appveto.kb.load import parse_exodus_trackers, with_extra  # noqa: E402
from appveto.scan import analyse, run_checks  # noqa: E402

NOW = datetime(2026, 11, 29, tzinfo=UTC)
HINT_TO_PROTECTOR = {"Bangcle": "Bangcle", "APKProtect": "APKProtect", "Jiagu": "Jiagu", "Legu": "Legu"}
SDK_HINTS = {
    "Facebook": "Facebook",
    "Google AdMob": "AdMob",
    "Google Analytics": "Google Analytics",
    "Google Tag Manager": "Tag Manager",
    "Flurry": "Flurry",
    "Millennial Media": "Millennial",
    "Umeng": "Umeng",
    "Google Crashlytics": "Crashlytics",
    "Google Firebase": "Firebase",
}


def expectations(shared: Path) -> dict[str, list[tuple[str, str]]]:
    """file -> [(aspect, expected value)] from the corpus's own labels."""
    out: dict[str, list[tuple[str, str]]] = {}
    rows = [ln.split("\t") for ln in (shared / "corpus/apk/MANIFEST.tsv").read_text("utf-8").splitlines()[1:]]
    for r in rows:
        name, kind, notes = r[0], r[7], r[8] if len(r) > 8 else ""
        exp = out.setdefault(name, [])
        m = re.search(r"packer hints=([^;|]+)", notes)
        if m and not m.group(1).startswith("heuristic"):
            for hint, prot in HINT_TO_PROTECTOR.items():
                if hint in m.group(1):
                    exp.append(("protector", prot))
        if kind == "packed":
            exp.append(("auditability", "low"))
        if name.startswith("fdroid-") and kind in ("real-app", "benign-test-app", "signing-test"):
            exp.append(("protector", "none"))
        m = re.search(r"sdk-class hints=([^;|]+)", notes)
        if m:
            for hint, tracker in SDK_HINTS.items():
                if hint in m.group(1) and f"{hint} (any)" not in m.group(1):
                    exp.append(("tracker", tracker))
        if "debuggable" in notes:
            exp.append(("check", "AV-MAN-001"))
        if "signing=unsigned" in notes and kind != "malformed":
            exp.append(("check", "AV-SIG-007"))
        if "CN = Android Debug" in notes:
            exp.append(("check", "AV-SIG-001"))
        if "public AOSP test key" in notes:
            exp.append(("check", "AV-SIG-002"))
        if re.search(r"signing=v1;", notes):
            exp.append(("check", "AV-SIG-003"))
        if "data-before-first-local-header" in notes:
            exp.append(("check", "AV-TAMP-001"))
        if "path-traversal-name" in notes:
            exp.append(("check", "AV-TAMP-003"))
        if "unusual-compression-method" in notes:
            exp.append(("check", "AV-TAMP-002"))
    labels = json.loads((shared / "corpus/labels/expectations.json").read_text("utf-8"))
    for e in labels["entries"]:
        for per_file in e.get("expected", {}).get("apkid", {}).values():
            for names in per_file.values():
                for label in names:
                    out.setdefault(e["file"], []).append(("protector", label.split(" ", 1)[0]))
    for p in ("READ_SMS", "READ_CALL_LOG", "READ_CONTACTS", "CAMERA", "RECORD_AUDIO"):
        out.setdefault("quark-ahmyth-rat.apk", []).append(("permission-not-unused", p))
    for t in (
        "Facebook Analytics",
        "Facebook Login",
        "Facebook Places",
        "Facebook Share",
        "Crashlytics",
        "Firebase Analytics",
    ):
        out.setdefault("exodus-instapaper-trackers.apk", []).append(("tracker", t))
    return {k: v for k, v in out.items() if v}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=os.environ.get("APPVETO_SHARED", str(REPO.parent / "shared")))
    ap.add_argument(
        "--exodus", help="Exodus tracker JSON (default: <shared>/data/exodus-trackers/exodus_trackers.json)"
    )
    ap.add_argument(
        "--large",
        type=int,
        default=0,
        metavar="N",
        help="also time reader vs checks on a multidex APK of N classes built by bench/multidex.py",
    )
    args = ap.parse_args()
    shared = Path(args.shared)
    if not (shared / "corpus/apk").is_dir():
        print(f"no corpus at {shared}", file=sys.stderr)
        return 2
    kb = load_baseline()
    exo = Path(args.exodus) if args.exodus else shared / "data/exodus-trackers/exodus_trackers.json"
    if exo.is_file():
        info, trackers = parse_exodus_trackers(
            exo.read_bytes(),
            str(exo),
            entities=kb.entities,
            origin="bench",
            source=str(exo.name),
            licence="ODbL-1.0",
            date="",
        )
        kb = with_extra(kb, trackers=trackers, datasets=(info,))
    exp = expectations(shared)
    ok = bad = 0
    t_read = t_checks = 0.0
    kinds = {
        r.split("\t")[0]: r.split("\t")[7]
        for r in (shared / "corpus/apk/MANIFEST.tsv").read_text("utf-8").splitlines()[1:]
    }
    by_kind: dict[str, list[float]] = {}
    print(f"{'file':36} {'aspect':22} {'expected':22} {'found':46} ok")
    for path in sorted((shared / "corpus/apk").glob("*.apk")):
        t0 = time.perf_counter()
        try:
            apk = load_apk(str(path))
        except AppvetoError as e:
            print(f"{path.name:36} {'(unreadable)':22} {'':22} {str(e)[:46]:46} -")
            continue
        t1 = time.perf_counter()
        findings, failures = run_checks(apk, kb)
        t2 = time.perf_counter()
        by_kind.setdefault(kinds.get(path.name, "?"), []).append(analyse(apk, kb, now=NOW).score.total)
        t_read += t1 - t0
        t_checks += t2 - t1
        cov = measure(apk, kb)
        trackers = [m.tracker.name for m in match_trackers(apk, kb)]
        verdicts = {v.permission.rsplit(".", 1)[-1]: v.verdict for v in permission_verdicts(apk, kb)}
        ids = {f.check_id for f in findings}
        for aspect, want in exp.get(path.name, []):
            if aspect == "protector":
                names = [p.name for p in cov.protectors]
                good = (not names) if want == "none" else any(want.lower() in n.lower() for n in names)
                found = ", ".join(names) or "none"
            elif aspect == "auditability":
                good, found = cov.auditability == want, f"{cov.auditability} ({cov.readable_share:.2f})"
            elif aspect == "tracker":
                hits = [t for t in trackers if want.lower() in t.lower()]
                good, found = bool(hits), ", ".join(hits) or "-"
            elif aspect == "permission-not-unused":
                v = verdicts.get(want)
                good, found = v is not None and v is not Verdict.NOT_OBSERVED, str(v)
            else:
                good, found = want in ids, "yes" if want in ids else "no"
            ok += good
            bad += not good
            print(
                f"{path.name[:36]:36} {aspect:22} {want[:22]:22} {found[:46]:46} {'ok' if good else 'MISS'}"
            )
        if failures:
            print(f"{path.name:36} CHECK FAILURES: {failures}")
    print(f"\nexpectations met: {ok}/{ok + bad}")
    print("\nrisk score by corpus kind (mean, min-max):")
    for kind, totals in sorted(by_kind.items(), key=lambda kv: -sum(kv[1]) / len(kv[1])):
        mean = sum(totals) / len(totals)
        print(f"  {kind:20} n={len(totals):2}  mean {mean:5.1f}  range {min(totals):5.1f}-{max(totals):5.1f}")
    ratio = t_checks / t_read if t_read else 0.0
    print(f"reader {t_read:.2f}s, checks {t_checks:.2f}s, checks/reader = {ratio:.2f}x (goal <= 2x)")
    if args.large:
        large_app(kb, args.large)
    return 0 if bad == 0 else 1


def large_app(kb: object, classes: int) -> None:
    """Reader vs checks on one large multidex APK (built from the corpus's DEX files)."""
    import resource
    import tempfile

    sys.path.insert(0, str(REPO / "bench"))
    from multidex import build_large_multidex

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "large.apk"
        print(f"\nlarge app: {build_large_multidex(out, min_classes=classes)}")
        t0 = time.perf_counter()
        apk = load_apk(str(out))
        t1 = time.perf_counter()
        result = analyse(apk, kb, now=NOW)  # type: ignore[arg-type]
        t2 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"reader {t1 - t0:.2f}s, checks+score {t2 - t1:.2f}s, ratio {(t2 - t1) / (t1 - t0):.2f}x "
            f"(goal <= 2x); {len(result.findings)} findings, peak RSS {rss:.0f} MB"
        )


if __name__ == "__main__":
    raise SystemExit(main())
