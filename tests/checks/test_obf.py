"""AV-OBF-008's case-insensitive search over an ASCII-lowered UTF-8 copy of the string blob
finds exactly the lines the ``re.IGNORECASE`` search over the str finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.checks import obf
from appveto.kb import load_baseline
from tests.checks.factory import dex, make_apk

_RX = next(rx for _, rx in obf._ANTI if rx.pattern in obf._ANTI_FOLDED)
_FOLDED = obf._ANTI_FOLDED[_RX.pattern]
# Text around the needles: ASCII, accents, CJK, emoji and lone surrogates (DEX strings are
# MUTF-8 and may hold them); not the few letters that re.IGNORECASE folds onto ASCII
# (long s, Kelvin sign, dotted/dotless i), which the ASCII fold leaves alone.
_FILLER = st.text(
    st.characters(
        blacklist_characters="\n\u017f\u212a\u0130\u0131",
        blacklist_categories=(),
        min_codepoint=0x20,
        max_codepoint=0x1F64F,
    ),
    max_size=30,
)
_NEEDLES = ("TracerPid", "frida", "xposed", "de.robv.android.xposed", "gum-js-loop")


def _case(data: st.DataObject, word: str) -> str:
    flips = data.draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.swapcase() if f else c for c, f in zip(word, flips, strict=True))


def _both(blob: str) -> tuple[list[str], list[str]]:
    raw = blob.encode("utf-8", "surrogatepass")
    return obf._first_lines(_RX, blob, 4), obf._first_lines_folded(_FOLDED, raw.lower(), raw, 4)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.data())
def test_folded_search_equals_ignorecase_search(data: st.DataObject) -> None:
    lines: set[str] = set()
    for _ in range(data.draw(st.integers(0, 12))):
        line = data.draw(_FILLER)
        if data.draw(st.booleans()):
            line += _case(data, data.draw(st.sampled_from(_NEEDLES))) + data.draw(_FILLER)
        lines.add(line)
    blob = "\n".join(sorted(lines))
    plain, folded = _both(blob)
    assert folded == plain


def test_mixed_case_after_multibyte_text_is_found_on_its_own_line() -> None:
    blob = "\n".join(
        sorted(["\u00e9\u00e8\u4e2d\u6587 \U0001f600 \ud800 x", "GUM-JS-Loop thread", "zzz FrIdA-server"])
    )
    plain, folded = _both(blob)
    assert folded == plain == ["GUM-JS-Loop thread", "zzz FrIdA-server"]
    strings = ("caf\u00e9 \u00fcber", "/proc/self/status TRACERPID")
    apk = make_apk(dex_files=(dex(strings=strings),))
    (found,) = [f for f in obf.anti_analysis(apk, load_baseline()) if f.subject and "debugger" in f.subject]
    assert [e.value for e in found.evidence] == ["/proc/self/status TRACERPID"]
