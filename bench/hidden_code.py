"""Print, per corpus APK, the hidden code, class loaders and string encryption appveto finds.

``python bench/hidden_code.py [--corpus DIR]`` reads every APK of the corpus (the
``kind`` column of its MANIFEST.tsv is printed beside it), and prints one row per APK:
the loaders found (how they are reached), the payloads decoded (where from, which
encodings) and those that could not be, the string-decoder routines (call sites,
constants, how many decoded, share of the string constants), whether the code is hidden
and how many dangerous permissions are ``not-observed`` / ``undeterminable``, and the
CPU seconds the hidden-code work took (code reading and payload decoding) beside the
budget spent.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = Path(os.environ.get("APPVETO_SHARED", REPO.parent / "shared")) / "corpus" / "apk"


def _kinds(corpus: Path) -> dict[str, str]:
    manifest = corpus / "MANIFEST.tsv"
    if not manifest.exists():
        return {}
    with manifest.open(newline="") as fh:
        return {row["file"]: row["kind"] for row in csv.DictReader(fh, delimiter="\t")}


def row(path: Path, kind: str) -> str:
    from appveto.apk import load_apk
    from appveto.checks.coverage import measure
    from appveto.checks.facts import facts, release
    from appveto.checks.perm import Verdict, permission_verdicts
    from appveto.errors import AppvetoError
    from appveto.kb import load_baseline

    kb = load_baseline()
    try:
        apk = load_apk(str(path))
    except AppvetoError as exc:
        return f"{path.name}\t{kind}\tnot an APK: {exc}"
    t0 = time.process_time()
    f = facts(apk)
    code, hidden = f.code, f.hidden
    spent = time.process_time() - t0
    cov = measure(apk, kb)
    verdicts = [v for v in permission_verdicts(apk, kb) if v.dangerous]
    not_obs = sum(v.verdict is Verdict.NOT_OBSERVED for v in verdicts)
    undet = sum(v.verdict is Verdict.UNDETERMINABLE for v in verdicts)
    loaders = "; ".join(sorted({u.how for u in code.loaders})) or "-"
    decoded = "; ".join(c.origin for c in hidden.code) or "-"
    undecoded = f"{len(hidden.undecoded)}" + (
        f" ({hidden.undecoded[0].source}: {hidden.undecoded[0].reason})" if hidden.undecoded else ""
    )
    decoders = (
        "; ".join(
            f"{d.java} [{d.scheme}] {d.call_sites} sites, {d.literals} consts, {len(d.decoded)} decoded"
            for d in code.decoders[:3]
        )
        + (f" (share {100 * code.decoded_share:.1f}%)" if code.decoders else "")
    ) or "-"
    release(apk)
    return "\t".join(
        (
            path.name, kind, loaders, decoded, undecoded, decoders,
            "hidden" if cov.code_hidden else "readable", f"{not_obs}/{undet}/{len(verdicts)}", f"{spent:.2f}",
        )
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}")
        return
    kinds = _kinds(args.corpus)
    columns = ("apk", "kind", "loaders", "decoded payloads", "undecoded", "string decoders", "code",
               "dangerous not-observed/undeterminable/all", "hidden-code CPU s")  # fmt: skip
    print("\t".join(columns))
    for path in sorted(args.corpus.glob("*.apk")):
        print(row(path, kinds.get(path.name, "?")), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
