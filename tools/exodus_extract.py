"""Derive the tracker table appveto ships from a list Exodus Privacy publishes.

    python tools/exodus_extract.py exodus_trackers.json > src/appveto/kb/exodus/trackers.json

The input is the answer of ``GET https://reports.exodus-privacy.eu.org/api/trackers``
(``{"trackers": {id: {...}}}``). The output keeps, for every tracker, only the fields appveto
reads (id, name, website, categories, code and network signatures, creation date): the
long prose descriptions and documentation links stay with Exodus. The result is a derived
database under the same licence (ODbL 1.0, contents DbCL 1.0, attribution "εxodus Privacy /
ETIP"); see src/appveto/kb/exodus/SOURCE.md. The output is deterministic (sorted by id, one
tracker per line), so deriving it again from the same list gives the same bytes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

KEPT = ("id", "name", "website", "categories", "code_signature", "network_signature", "creation_date")


def extract(published: bytes) -> bytes:
    doc = json.loads(published.decode("utf-8-sig"))
    table: dict[str, Any] = doc["trackers"]
    rows = sorted(table.items(), key=lambda kv: int(kv[1].get("id", kv[0])))
    lines = []
    for key, t in rows:
        kept = {k: t[k] for k in KEPT if k in t}
        lines.append(f"  {json.dumps(key)}: {json.dumps(kept, ensure_ascii=False, sort_keys=True)}")
    return ('{"trackers": {\n' + ",\n".join(lines) + "\n}}\n").encode("utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python tools/exodus_extract.py PUBLISHED_LIST.json > trackers.json\n")
        return 2
    with open(argv[0], "rb") as f:
        sys.stdout.buffer.write(extract(f.read()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
