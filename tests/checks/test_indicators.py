"""AV-OBF-008: anti-analysis indicators are whole tokens of the code, shown as such."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.apk.model import NativeLib
from appveto.checks import obf
from appveto.checks.indicators import indicator_hits, literal_forms, name_words
from appveto.kb import load_baseline
from tests.checks.factory import dex, make_apk

KB = load_baseline()


def _findings(*strings: str, libs: tuple[NativeLib, ...] = ()) -> list[tuple[str | None, str]]:
    apk = make_apk(dex_files=(dex(strings=strings),), native_libs=libs)
    return [(f.subject, f.message) for f in obf.anti_analysis(apk, KB)]


def test_words_that_contain_an_indicator_are_no_evidence() -> None:
    assert (
        _findings(
            "blackfriday",
            "BlackFriday sale",
            "Lcom/shop/BlackFridayActivity;",
            "exposed",
            "isExposed",
            "Lcom/google/android/material/textfield/ExposedDropdownMenu;",
            "unexposed_state",
            "Frida detected, exiting",  # a sentence: the literal is not the indicator
            "ro.kernel.qemu.gles",  # another property than the indicator
        )
        == []
    )


def test_literals_that_are_an_indicator_match_and_the_finding_names_the_token() -> None:
    found = dict(_findings("frida-server", "TracerPid:", "/system/xbin/su", "ro.kernel.qemu"))
    assert found == {
        "debugger / instrumentation detection": "debugger / instrumentation detection indicators: "
        "'TracerPid', 'frida-server'",
        "root detection": "root detection indicators: '/system/xbin/su'",
        "emulator detection": "emulator detection indicators: 'ro.kernel.qemu'",
    }


def test_a_path_counts_by_its_last_component() -> None:
    (hit,) = indicator_hits(make_apk(dex_files=(dex(strings=("/data/local/tmp/frida-server",)),)))
    assert (hit.token, hit.where) == ("frida-server", "/data/local/tmp/frida-server")


def test_names_in_the_code_match_by_word() -> None:
    apk = make_apk(
        dex_files=(dex(strings=("Lde/robv/android/xposed/XposedBridge;", "isFridaRunning")),),
        native_libs=(NativeLib("lib/arm64-v8a/libfrida-gadget.so", "arm64-v8a", "libfrida-gadget.so", 10),),
    )
    got = {(h.token, h.where) for h in indicator_hits(apk)}
    assert got == {
        ("xposed", "Lde/robv/android/xposed/XposedBridge;"),
        ("frida", "isFridaRunning"),
        ("frida", "frida-gadget.so"),
    }
    (f,) = obf.anti_analysis(apk, KB)
    assert f.message == "debugger / instrumentation detection indicators: 'frida', 'xposed'"
    assert "|" not in f.message and "\\" not in f.message  # never a pattern


def test_debugger_api_alone_is_reported() -> None:
    apk = make_apk(dex_files=(dex(methods=(("Landroid/os/Debug;", "isDebuggerConnected", "()Z"),)),))
    (f,) = obf.anti_analysis(apk, KB)
    assert f.message == "debugger / instrumentation detection indicators: the debugger API"


def test_word_splitting() -> None:
    assert name_words("Lde/robv/XposedBridge;") == {"de", "robv", "xposedbridge", "xposed", "bridge"}
    assert name_words("isFridaRunning") == {"isfridarunning", "is", "frida", "running"}
    assert literal_forms(" TracerPid:\t") == ("TracerPid",)
    assert literal_forms("/system/bin/su") == ("/system/bin/su", "su")


_LOWER = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_LOWER, st.sampled_from(["frida", "xposed", "goldfish", "magisk", "qemu"]), _LOWER)
def test_an_indicator_inside_a_longer_word_never_matches(pre: str, word: str, post: str) -> None:
    s = pre + word + post
    assert indicator_hits(make_apk(dex_files=(dex(strings=(s, s.capitalize(), f"L{s}/{s};")),))) == ()
