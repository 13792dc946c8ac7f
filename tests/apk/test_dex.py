"""DEX reader: MUTF-8, header anomalies, located errors; the corpus against dexdump and androguard."""

from __future__ import annotations

import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.apk.archive import open_archive
from appveto.apk.dex import (
    MAX_TABLE_ITEMS,
    _Dex,
    _string_slow,
    decode_mutf8,
    looks_like_dex,
    parse_dex,
)
from appveto.apk.model import DexFile, DexLocation, FieldRef, MethodRef
from appveto.errors import ApkError, LimitExceeded
from tests.apkbuilder import ClassSpec, FieldSpec, MethodSpec, build_dex
from tests.conftest import corpus_apks, corpus_params, require_shared, require_tool

PRIMARY = re.compile(r"^classes\d*\.dex$")


def mutf8(text: str) -> bytes:
    """Reference encoder written from the DEX format document (independent of the reader)."""
    out = bytearray()
    for ch in text:
        cp = ord(ch)
        units = [cp] if cp < 0x10000 else [0xD800 + ((cp - 0x10000) >> 10), 0xDC00 + ((cp - 0x10000) & 0x3FF)]
        for u in units:
            if 0 < u < 0x80:
                out.append(u)
            elif u < 0x800:
                out += bytes((0xC0 | (u >> 6), 0x80 | (u & 0x3F)))
            else:
                out += bytes((0xE0 | (u >> 12), 0x80 | ((u >> 6) & 0x3F), 0x80 | (u & 0x3F)))
    return bytes(out)


# ------------------------------------------------------------------------- MUTF-8


def test_mutf8_nul_is_two_bytes() -> None:
    assert decode_mutf8(b"a\xc0\x80b") == "a\x00b"


def test_mutf8_two_and_three_byte_forms() -> None:
    assert decode_mutf8("é€".encode()) == "é€"


def test_mutf8_supplementary_character_from_surrogate_pair() -> None:
    # U+1F600 as MUTF-8: the surrogates D83D DE00, each as a 3-byte sequence.
    raw = b"\xed\xa0\xbd\xed\xb8\x80"
    assert decode_mutf8(raw) == "\U0001f600"
    assert decode_mutf8(b"x" + raw + b"\xc0\x80") == "x\U0001f600\x00"


def test_mutf8_lone_surrogates_become_replacement() -> None:
    assert decode_mutf8(b"\xed\xa0\xbd") == "\ufffd"  # high surrogate alone
    assert decode_mutf8(b"\xed\xb8\x80a") == "\ufffda"  # low surrogate alone
    assert decode_mutf8(b"\xed\xb8\x80\xed\xa0\xbd") == "\ufffd\ufffd"  # reversed pair


@pytest.mark.parametrize(
    "raw",
    [b"\x80", b"a\xbf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98\x80", b"\xff\xfe", b"\xe2\x28\xa1"],
)
def test_mutf8_invalid_bytes_become_replacement(raw: bytes) -> None:
    text = decode_mutf8(raw)
    assert "\ufffd" in text
    text.encode("utf-8")  # never a lone surrogate in the result


def test_mutf8_four_byte_utf8_is_not_accepted() -> None:
    # MUTF-8 has no 4-byte form: ART's verifier rejects F0..F7 leads.
    assert "\U0001f600" not in decode_mutf8("\U0001f600".encode())


def test_mutf8_huge_invalid_string_is_fast() -> None:
    import time

    raw = b"\xff\x80" * 4_000_000 + b"ok"
    t0 = time.process_time()
    text = decode_mutf8(raw)
    assert time.process_time() - t0 < 2.0
    assert text.endswith("ok") and "\ufffd" in text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_mutf8_round_trip(text: str) -> None:
    assert decode_mutf8(mutf8(text)) == text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_mutf8_decodes_any_bytes_to_text_that_reencodes_to_itself(raw: bytes) -> None:
    text = decode_mutf8(raw)
    text.encode("utf-8")  # no lone surrogate left
    assert len(text) <= len(raw)  # each character came from at least one byte
    assert decode_mutf8(mutf8(text)) == text  # what was decoded reads back the same
    try:
        standard = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    if all(c < "\U00010000" for c in standard):
        assert text == standard  # valid UTF-8 of the BMP is MUTF-8 unchanged


# ------------------------------------------------------------------ synthetic DEX


def _synthetic() -> bytes:
    return build_dex(
        (
            ClassSpec(
                "Lcom/example/Main;",
                methods=(
                    MethodSpec(
                        "Landroid/telephony/SmsManager;",
                        "sendTextMessage",
                        "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;"
                        "Landroid/app/PendingIntent;Landroid/app/PendingIntent;)V",
                    ),
                    MethodSpec("Lcom/example/Main;", "<init>", "()V"),
                    MethodSpec("Lcom/example/Main;", "sum", "([IJ)J"),
                ),
                fields=(FieldSpec("Lcom/example/Main;", "count", "I"),),
                strings=(
                    "",
                    "https://example.org/a",
                    "nul\x00inside",
                    "emoji \U0001f600",
                    "é" * 200,
                    "x" * 300,
                ),
            ),
            ClassSpec("Lcom/example/Other;", superclass="Lcom/example/Main;"),
        )
    )


def test_looks_like_dex() -> None:
    assert looks_like_dex(b"dex\n035\x00")
    assert looks_like_dex(b"dex\n039\x00rest")
    assert not looks_like_dex(b"dex\n35\x00\x00")
    assert not looks_like_dex(b"PK\x03\x04")
    assert not looks_like_dex(b"")


def test_synthetic_dex_tables() -> None:
    dex = parse_dex(_synthetic(), entry="classes.dex")
    assert isinstance(dex, DexFile)
    assert dex.location is DexLocation.PRIMARY
    assert dex.version == "035"
    assert dex.header_anomalies == ()
    assert set(dex.class_defs) == {"Lcom/example/Main;", "Lcom/example/Other;"}
    assert set(dex.class_names) == {"com.example.Main", "com.example.Other"}
    for s in ("", "https://example.org/a", "nul\x00inside", "emoji \U0001f600", "é" * 200, "x" * 300):
        assert s in dex.strings
    assert list(dex.strings) == sorted(dex.strings, key=lambda s: s.encode("utf-16-be"))
    sms = MethodRef(
        "Landroid/telephony/SmsManager;",
        "sendTextMessage",
        "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Landroid/app/PendingIntent;"
        "Landroid/app/PendingIntent;)V",
    )
    assert sms in dex.method_refs
    assert MethodRef("Lcom/example/Main;", "sum", "([IJ)J") in dex.method_refs
    assert all(type(m) is MethodRef for m in dex.method_refs)
    assert dex.method_refs[0].class_name.startswith("L")
    assert dex.field_refs == (FieldRef("Lcom/example/Main;", "count", "I"),)
    assert dex.field_refs[0].type == "I"
    assert "[I" in dex.types


def _with_checksum(data: bytearray) -> bytes:
    struct.pack_into("<I", data, 8, zlib.adler32(bytes(data[12:])) & 0xFFFFFFFF)
    return bytes(data)


def test_header_size_anomaly_is_recorded_and_tables_still_read() -> None:
    data = bytearray(_synthetic())
    struct.pack_into("<I", data, 0x24, 6880)
    dex = parse_dex(_with_checksum(data), entry="classes.dex")
    assert any("header_size is 6880" in a for a in dex.header_anomalies)
    assert "Lcom/example/Main;" in dex.class_defs


def test_checksum_endian_and_size_anomalies() -> None:
    good = _synthetic()
    bad_sum = bytearray(good)
    bad_sum[8] ^= 0xFF
    assert any("checksum" in a for a in parse_dex(bytes(bad_sum), entry="c.dex").header_anomalies)
    endian = bytearray(good)
    struct.pack_into("<I", endian, 0x28, 0x78563412)
    assert any("endian_tag" in a for a in parse_dex(_with_checksum(endian), entry="c.dex").header_anomalies)
    padded = good + b"\x00" * 16
    assert any("file_size" in a for a in parse_dex(padded, entry="c.dex").header_anomalies)
    version = bytearray(good)
    version[4:8] = b"036\x00"
    assert any("version 036" in a for a in parse_dex(_with_checksum(version), entry="c.dex").header_anomalies)


def test_map_list_disagreeing_with_header_is_an_anomaly() -> None:
    data = bytearray(_synthetic())
    assert parse_dex(bytes(data), entry="c.dex").header_anomalies == ()
    map_off = struct.unpack_from("<I", data, 0x34)[0]
    (n,) = struct.unpack_from("<I", data, map_off)
    for i in range(n):
        at = map_off + 4 + 12 * i
        if struct.unpack_from("<H", data, at)[0] == 0x0005:  # method_id_item
            struct.pack_into("<I", data, at + 8, 0x70)
    anomalies = parse_dex(_with_checksum(data), entry="c.dex").header_anomalies
    assert any("map_list puts method_ids" in a for a in anomalies)


def test_duplicate_class_definitions_are_an_anomaly() -> None:
    data = bytearray(_synthetic())
    n, off = struct.unpack_from("<II", data, 0x60)
    assert n == 2
    data[off + 32 : off + 36] = data[off : off + 4]  # class_def 1 now defines class_def 0's type
    dex = parse_dex(_with_checksum(data), entry="c.dex")
    assert dex.class_defs[0] == dex.class_defs[1]
    assert any("defined more than once" in a for a in dex.header_anomalies)


@pytest.mark.parametrize(
    ("field_offset", "value"),
    [
        (0x3C, 0x7FFFFFF0),  # string_ids_off past the end
        (0x38, 0x10000000),  # string_ids_size far too large
        (0x44, 0xFFFFFF00),  # type_ids_off
        (0x5C, 0x7FFFFFF0),  # method_ids_off
        (0x64, 0x7FFFFFF0),  # class_defs_off
        (0x4C, 0x7FFFFFF0),  # proto_ids_off
    ],
)
def test_tables_outside_the_file_raise_located_errors(field_offset: int, value: int) -> None:
    data = bytearray(_synthetic())
    struct.pack_into("<I", data, field_offset, value)
    with pytest.raises(ApkError) as info:
        parse_dex(bytes(data), entry="classes7.dex")
    diag = info.value.diagnostics()[0]
    assert diag.entry == "classes7.dex"
    assert diag.offset is not None


def test_oversized_table_is_a_limit() -> None:
    data = bytearray(_synthetic())
    big = MAX_TABLE_ITEMS + 1
    data += b"\x00" * (4 * big)  # a string_ids table that really fits in the file
    struct.pack_into("<II", data, 0x38, big, len(data) - 4 * big)
    with pytest.raises(LimitExceeded) as info:
        parse_dex(bytes(data), entry="classes.dex")
    assert info.value.diagnostics()[0].entry == "classes.dex"


def test_index_out_of_range_raises_located_error() -> None:
    data = bytearray(_synthetic())
    n_types, types_off = struct.unpack_from("<II", data, 0x40)
    assert n_types > 1
    struct.pack_into("<I", data, types_off + 4, 0xFFFF)  # type 1 -> a string index that does not exist
    with pytest.raises(ApkError, match="type_ids item 1 refers to string 65535") as info:
        parse_dex(bytes(data), entry="classes.dex")
    assert info.value.diagnostics()[0].offset == types_off + 4


@pytest.mark.parametrize(
    ("table_field", "item_size", "word", "what"),
    [
        (0x58, 8, 1, "string"),  # method_ids: name_idx
        (0x50, 8, 1, "string"),  # field_ids: name_idx
        (0x60, 32, 0, "type"),  # class_defs: class_idx
    ],
)
def test_ref_index_out_of_range_is_located(table_field: int, item_size: int, word: int, what: str) -> None:
    data = bytearray(_synthetic())
    count, offset = struct.unpack_from("<II", data, table_field)
    assert count > 0
    at = offset + (count - 1) * item_size + 4 * word
    struct.pack_into("<I", data, at, 0xFFFFFF)
    with pytest.raises(ApkError, match=f"item {count - 1} refers to {what}") as info:
        parse_dex(bytes(data), entry="classes3.dex")
    diag = info.value.diagnostics()[0]
    assert (diag.entry, diag.offset) == ("classes3.dex", offset + (count - 1) * item_size)


def test_not_a_dex_and_truncated_header() -> None:
    with pytest.raises(ApkError, match="not a DEX"):
        parse_dex(b"PK\x03\x04" + b"\x00" * 200, entry="classes.dex")
    with pytest.raises(ApkError, match="header"):
        parse_dex(_synthetic()[:0x40], entry="classes.dex")


def test_shuffled_string_data_is_read_like_the_contiguous_layout() -> None:
    """String data not laid out in ID order (protectors do this) takes the per-string path."""
    data = bytearray(_synthetic())
    n, off = struct.unpack_from("<II", data, 0x38)
    expected = parse_dex(bytes(data), entry="a.dex").strings
    # Move every string_data_item to the end of the file, in reverse order.
    offsets = list(struct.unpack_from(f"<{n}I", data, off))
    for i in reversed(range(n)):
        start = offsets[i]
        while data[start] & 0x80:  # skip a multi-byte uleb128 before looking for the NUL
            start += 1
        end = data.index(b"\x00", start + 1)
        item = bytes(data[offsets[i] : end + 1])
        struct.pack_into("<I", data, off + 4 * i, len(data))
        data += item
    struct.pack_into("<I", data, 0x20, len(data))
    dex = parse_dex(_with_checksum(data), entry="a.dex")
    assert dex.strings == expected
    assert dex.header_anomalies == ()


# --------------------------------------------------------------------------- corpus


def _primary_dex(apk: Path) -> list[tuple[str, bytes]]:
    """The classes*.dex entries, read with appveto's archive reader (lenient like Android's)."""
    try:
        with open_archive(apk) as archive:
            out: list[tuple[str, bytes]] = []
            for e in archive.entries:
                if PRIMARY.match(e.name):
                    try:
                        out.append((e.name, archive.read(e)))
                    except ApkError:
                        continue
            return out
    except ApkError:
        return []


def _dexdump(path: Path) -> tuple[dict[str, int], list[str]] | None:
    proc = subprocess.run(
        [require_tool("dexdump"), "-f", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    header: dict[str, int] = {}
    for key in ("class_defs_size", "method_ids_size", "string_ids_size", "field_ids_size", "type_ids_size"):
        m = re.search(rf"^{key}\s*: (\d+)", proc.stdout, re.M)
        if m is None:
            return None  # dexdump refused the file (it runs ART's verifier)
        header[key] = int(m.group(1))
    classes = re.findall(r"^  Class descriptor  : '(.*)'$", proc.stdout, re.M)
    return header, classes


@pytest.mark.parametrize("corpus_file", corpus_params(), indirect=True)
def test_corpus_dex_matches_dexdump(corpus_file: Path, tmp_path: Path) -> None:
    for name, data in _primary_dex(corpus_file):
        try:
            dex = parse_dex(data, entry=name)
        except ApkError as exc:
            assert exc.diagnostics()[0].entry == name
            continue
        assert dex.entry == name
        path = tmp_path / name
        path.write_bytes(data)
        dumped = _dexdump(path)
        if dumped is None:
            # dexdump applies ART's verifier; a file it rejects must carry a header anomaly.
            assert dex.header_anomalies, f"{name}: dexdump refused a file we found no anomaly in"
            continue
        header, classes = dumped
        assert len(dex.class_defs) == header["class_defs_size"]
        assert len(dex.method_refs) == header["method_ids_size"]
        assert len(dex.strings) == header["string_ids_size"]
        assert len(dex.field_refs) == header["field_ids_size"]
        assert len(dex.types) == header["type_ids_size"]
        assert list(dex.class_defs[: len(classes)]) == classes[: len(dex.class_defs)]
        assert len(classes) == len(dex.class_defs)
        # The bulk string path must agree with the one-string-at-a-time reader.
        state = _Dex(data, name)
        n, off = struct.unpack_from("<II", data, 0x38)
        assert dex.strings == tuple(_string_slow(state, o) for o in struct.unpack_from(f"<{n}I", data, off))
    if not _primary_dex(corpus_file):
        pytest.skip("the APK has no readable classes*.dex")


def _androguard_sample() -> list[tuple[str, str, bytes]]:
    """Three corpus DEX files spread over the size range (small, median, ~1 MB)."""
    found: list[tuple[str, str, bytes]] = []
    for apk in corpus_apks():
        for name, data in _primary_dex(apk):
            if len(data) <= 1_100_000:
                found.append((apk.name, name, data))
    found.sort(key=lambda t: len(t[2]))
    if len(found) < 3:
        return found
    return [found[len(found) // 4], found[len(found) // 2], found[-1]]


def test_corpus_dex_matches_androguard() -> None:
    require_shared("corpus/apk")
    from androguard.core.dex import DEX
    from loguru import logger

    logger.remove()  # androguard logs every map item at DEBUG
    sample = _androguard_sample()
    assert sample, "no corpus DEX to compare"
    for apk, name, data in sample:
        ours = parse_dex(data, entry=name)
        theirs = DEX(data)
        assert list(ours.strings) == [str(s) for s in theirs.get_strings()], f"{apk}!{name}: strings differ"
        assert list(ours.class_defs) == list(theirs.get_classes_names())
        n = len(ours.method_refs)
        for i in range(0, n, max(1, n // 300)):
            cls, mname, (params, ret) = theirs.get_cm_method(i)
            assert ours.method_refs[i] == MethodRef(cls, mname, params.replace(" ", "") + ret), (
                f"{apk}!{name} #{i}"
            )
        n = len(ours.field_refs)
        for i in range(0, n, max(1, n // 300)):
            cls, ftype, fname = theirs.get_cm_field(i)
            assert ours.field_refs[i] == FieldRef(cls, fname, ftype), f"{apk}!{name} field #{i}"


def test_collector_state_is_left_as_found() -> None:
    import gc

    data = _synthetic()
    was = gc.isenabled()
    try:
        gc.enable()
        parse_dex(data, entry="c.dex")
        assert gc.isenabled()
        gc.disable()
        parse_dex(data, entry="c.dex")
        assert not gc.isenabled()
        gc.enable()
        keep = [[i] for i in range(100)]
        gc.freeze()  # an application that keeps objects frozen on purpose
        frozen = gc.get_freeze_count()
        parse_dex(data, entry="c.dex")
        assert gc.get_freeze_count() == frozen
        del keep
    finally:
        gc.unfreeze()
        if was:
            gc.enable()
        else:
            gc.disable()
