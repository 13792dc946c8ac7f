"""APKiD 3.2 and appveto side by side: which packers, protectors and obfuscators each names.

APKiD is GPL-3.0 and is never vendored or imported: it runs as a separate program.
If ``apkid`` is not on PATH, this script installs ``apkid==3.2.0`` into a throw-away
virtual environment in the system temp dir (``--venv`` to choose) on first use.

    python bench/apkid_compare.py [--shared DIR] [--corpus DIR] [--apkid PATH]

APKiD is no ground truth: both figures measure agreement with it. Recall is the share of
APKiD's product names (packers, protectors, obfuscators) that appveto also names; precision
is the share of appveto's product names that APKiD also names. APKiD's generic names (traits
such as "unreadable field names", not products) are left out of both, and counted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from appveto.apk import load_apk  # noqa: E402
from appveto.checks.coverage import measure  # noqa: E402
from appveto.errors import AppvetoError  # noqa: E402
from appveto.kb import load_baseline  # noqa: E402

TAGS = ("packer", "protector", "obfuscator")
GENERIC = ("unreadable", "one or two char", "obfuscated", "unicode")


def ensure_apkid(explicit: str | None, venv_dir: Path) -> str:
    if explicit:
        return explicit
    found = shutil.which("apkid")
    if found:
        return found
    exe = venv_dir / ("Scripts" if os.name == "nt" else "bin") / "apkid"
    if not exe.exists():
        print(f"installing apkid==3.2.0 into {venv_dir} (throw-away venv)", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        pip = venv_dir / ("Scripts" if os.name == "nt" else "bin") / "pip"
        subprocess.run([str(pip), "install", "-q", "apkid==3.2.0"], check=True)
    return str(exe)


def run_apkid(exe: str, apk: Path) -> dict[str, set[str]]:
    """APKiD's names by tag for one APK (all inner files merged); empty on failure."""
    proc = subprocess.run([exe, "-j", str(apk)], capture_output=True, text=True, timeout=300, check=False)
    out: dict[str, set[str]] = {}
    for raw in proc.stdout.splitlines():
        text = raw.strip()
        if not text.startswith("{"):
            continue
        doc = json.loads(text)
        for f in doc.get("files", []):
            for tag, names in f.get("matches", {}).items():
                out.setdefault(tag, set()).update(names)
    return out


def named_by_us(apkid_name: str, ours: list[str]) -> bool:
    key = apkid_name.split("(")[0].split()[0].lower().rstrip(",")
    return any(key in o.lower() for o in ours)


def generic(name: str) -> bool:
    """APKiD's names that describe a trait, not a product ("unreadable field names", ...)."""
    return any(g in name.lower() for g in GENERIC)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=os.environ.get("APPVETO_SHARED", str(REPO.parent / "shared")))
    ap.add_argument("--corpus", type=Path, help="folder of APKs (default: SHARED/corpus/apk)")
    ap.add_argument("--apkid", help="path of an apkid executable")
    ap.add_argument("--venv", default=str(Path(tempfile.gettempdir()) / "appveto-apkid-venv"))
    args = ap.parse_args(argv)
    corpus = args.corpus or Path(args.shared) / "corpus" / "apk"
    if not corpus.is_dir():
        print(f"no corpus at {corpus}", file=sys.stderr)
        return 2
    exe = ensure_apkid(args.apkid, Path(args.venv))
    kb = load_baseline()
    named: dict[str, int] = {t: 0 for t in TAGS}
    agreed: dict[str, int] = {t: 0 for t in TAGS}
    left_out: dict[str, int] = {}
    missed: list[str] = []
    ours_total = ours_confirmed = ours_only_apks = 0
    ours_unconfirmed: list[str] = []
    print(f"{'file':36} | {'APKiD (packer/protector/obfuscator)':58} | appveto")
    print("-" * 140)
    for path in sorted(corpus.glob("*.apk")):
        theirs = run_apkid(exe, path)
        their_names = sorted(n for t in TAGS for n in theirs.get(t, ()))
        try:
            cov = measure(load_apk(str(path)), kb)
            ours = [f"{p.name} [{p.kind}]" for p in cov.protectors]
            summary = f"; auditability {cov.auditability}"
        except AppvetoError as e:
            ours, summary = [], f"(unreadable: {str(e)[:40]})"
        specific = [n for n in their_names if not generic(n)]
        for n in their_names:
            if generic(n):
                left_out[n] = left_out.get(n, 0) + 1
        for tag in TAGS:
            for n in sorted(theirs.get(tag, ())):
                if generic(n):
                    continue
                named[tag] += 1
                if named_by_us(n, ours):
                    agreed[tag] += 1
                else:
                    missed.append(f"{path.name}: {tag} {n}")
        # precision side: each product appveto names, confirmed when APKiD names it too
        for o in ours:
            ours_total += 1
            if any(named_by_us(n, [o]) for n in specific):
                ours_confirmed += 1
            else:
                ours_unconfirmed.append(f"{path.name}: {o}")
        if ours and not specific:
            ours_only_apks += 1
        if their_names or ours:
            print(
                f"{path.name[:36]:36} | {', '.join(their_names)[:58]:58} | {', '.join(ours) or '-'}{summary}"
            )
    print("-" * 140)
    for tag in TAGS:
        print(f"APKiD {tag}s named: {named[tag]}; also named by appveto: {agreed[tag]}")
    total_named, total_agreed = sum(named.values()), sum(agreed.values())
    recall = f"{100 * total_agreed / total_named:.0f}%" if total_named else "n/a"
    precision = f"{100 * ours_confirmed / ours_total:.0f}%" if ours_total else "n/a"
    print(
        "recall against APKiD (its product names that appveto also names): "
        f"{total_agreed}/{total_named} = {recall}"
    )
    print(
        f"precision against APKiD (appveto's product names that APKiD also names): "
        f"{ours_confirmed}/{ours_total} = {precision}"
    )
    print(
        f"left out of both counts: {sum(left_out.values())} generic APKiD names (traits, not products) "
        f"on these APKs: " + (", ".join(f"{n} x{c}" for n, c in sorted(left_out.items())) or "none")
    )
    for m in missed:
        print(f"  not named by appveto: {m}")
    for u in ours_unconfirmed:
        print(f"  named by appveto, not by APKiD: {u}")
    print(f"APKs where appveto names a product and APKiD names none: {ours_only_apks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
