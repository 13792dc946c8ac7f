"""The reader's fast paths give exactly what the slower library calls they replace give.

Each fast path exists for speed (issue 2's start-up and per-APK budgets); these tests pin
it to the library it stands in for, on the real corpus and on names built from the list.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from publicsuffixlist import PublicSuffixList

from appveto.apk import native
from appveto.apk.archive import open_archive
from tests.conftest import corpus_params

_PRINTABLE = re.compile(rb"[\x20-\x7e]{6,512}")
_HOST = re.compile(r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,10}[A-Za-z]{2,24}\b")


def _same_as_psl(names: list[str]) -> list[str]:
    psl = PublicSuffixList()
    return [
        n
        for n in names
        if native._listed_suffix(n) != (psl.publicsuffix(n, accept_unknown=False) is not None)
    ]


def test_listed_suffix_matches_publicsuffixlist_on_rules() -> None:
    rules = sorted(native._psl_rules(idn=True))
    rng = random.Random(2)
    names = [
        "foo.com", "city.kobe.jp", "kobe.jp", "x.ck", "www.ck", "ck", "foo.local", "com", "a..b",
        "foo.xn--p1ai", "xn--p1ai", "a.b.blogspot.com", "localhost.localdomain", "x.y.z",
    ]  # fmt: skip
    for rule in rng.sample(rules, 2000):
        base = rule.lstrip("!").replace("*", "w")
        names += [base, "a." + base, "q.b." + base, base + ".zz"]
    assert _same_as_psl([n.lower() for n in names]) == []


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_listed_suffix_matches_publicsuffixlist_on_corpus_strings(corpus_file: Path) -> None:
    names: set[str] = set()
    with open_archive(corpus_file) as archive:
        for e in archive.entries:
            if e.name.endswith(".so") and e.uncompressed_size < 8_000_000:
                try:
                    blob = archive.read(e)
                except Exception:
                    continue
                for m in _PRINTABLE.finditer(blob):
                    names.update(h.group().lower() for h in _HOST.finditer(m.group().decode("ascii")))
    assert _same_as_psl(sorted(names)) == []
