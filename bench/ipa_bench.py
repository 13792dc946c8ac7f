"""IPA read speed against APK read speed, per MB, as separate processes.

    python bench/ipa_bench.py [--runs 5]

Reads every IPA of ../shared/corpus/ipa and a synthetic IPA laid out like a real one
(a linked arm64 executable with thousands of classes, URL strings and code-sized
sections, image resources, Info.plist, privacy manifest, provisioning profile; built with
llvm-mc and ld64.lld as the tests do) sized like the largest corpus APKs, and the corpus
APKs of that size. Each file is read in a fresh process (imports excluded, the read
itself timed: ``load_ipa`` / ``load_apk``); the median of the runs is printed with MB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import plistlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("APPVETO_SHARED", ROOT.parent / "shared"))


def one(kind: str, path: str) -> None:
    t_imp = time.perf_counter()
    if kind == "ipa":
        # import everything first (as bench/_one.py does for the APK parsers): the read is
        # timed alone, the imports are reported beside it (LIEF's native module is large)
        import asn1crypto.cms  # noqa: F401
        import lief  # noqa: F401
        from cryptography import x509  # noqa: F401

        from appveto.ipa.loader import load_ipa

        imports = time.perf_counter() - t_imp
        t0 = time.perf_counter()
        ipa = load_ipa(path)
        n = sum(len(s.objc_classes) + len(s.urls) for b in ipa.all_binaries() for s in b.slices)
    else:
        from appveto.apk.loader import load_apk

        imports = time.perf_counter() - t_imp
        t0 = time.perf_counter()
        apk = load_apk(path)
        n = sum(len(d.class_defs) + len(d.strings) for d in apk.dex)
    print(json.dumps({"seconds": time.perf_counter() - t0, "items": n, "imports": imports}))


def synthetic_ipa(work: Path, target_mb: float) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests import ipabuilder as b

    rnd = random.Random(7)
    classes = tuple(f"SDK{i:05d}Manager" for i in range(4000))
    urls = tuple(f"https://api{i}.service{i % 97}.example.com/v{i % 5}/path" for i in range(6000))
    frameworks: dict[str, tuple[str, ...]] = {
        "AdSupport": ("ASIdentifierManager",),
        "CoreLocation": ("CLLocationManager",),
    }
    exe = b.link_macho(work, defined_classes=classes, strings=urls, imported=frameworks)
    identity = b.make_identity()
    ents = {"get-task-allow": False}
    signed = b.sign(
        exe, identifier="org.example.app", team_id="TEAM123456", entitlements=ents, identity=identity
    )
    # code-like filler: a real app's __TEXT compresses about 2:1
    filler_size = int(target_mb * 0.55 * 1024 * 1024)
    filler = bytes(rnd.getrandbits(8) if i % 2 else 0 for i in range(filler_size))
    files = {
        "Payload/Example.app/Info.plist": b.info_plist(),
        "Payload/Example.app/Example": signed + filler,
        "Payload/Example.app/PrivacyInfo.xcprivacy": plistlib.dumps({"NSPrivacyTracking": True}),
        "Payload/Example.app/embedded.mobileprovision": b.provisioning_profile({"Name": "p"}, identity),
    }
    for i in range(int(target_mb * 4)):  # images: already compressed
        files[f"Payload/Example.app/img{i}.png"] = rnd.randbytes(int(0.12 * 1024 * 1024))
    path = work / "synthetic.ipa"
    path.write_bytes(b.build_ipa(files))
    return path


def measure(kind: str, path: Path, runs: int) -> tuple[float, int, float]:
    times = []
    imports = []
    items = 0
    for _ in range(runs):
        cmd = [sys.executable, __file__, "--one", kind, str(path)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        row = json.loads(out)
        times.append(row["seconds"])
        imports.append(row["imports"])
        items = row["items"]
    return statistics.median(times), items, statistics.median(imports)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--one", nargs=2)
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return
    apks = sorted((SHARED / "corpus" / "apk").glob("*.apk"), key=lambda p: -p.stat().st_size)[:4]
    ipas = sorted((SHARED / "corpus" / "ipa").glob("*.ipa"))
    with tempfile.TemporaryDirectory() as tmp:
        target = apks[0].stat().st_size / 2**20 if apks else 4.0
        inputs = [("ipa", p) for p in ipas if p.name != "fastlane-not-an-ipa.ipa"]
        inputs.append(("ipa", synthetic_ipa(Path(tmp), target)))
        inputs += [("apk", p) for p in apks]
        print(f"{'kind':4} {'file':36} {'MB':>7} {'read s':>8} {'MB/s':>7} {'items':>7} {'imports s':>9}")
        for kind, path in inputs:
            mb = path.stat().st_size / 2**20
            secs, items, imp = measure(kind, path, args.runs)
            print(f"{kind:4} {path.name:36} {mb:7.2f} {secs:8.4f} {mb / secs:7.1f} {items:7} {imp:9.2f}")


if __name__ == "__main__":
    main()
