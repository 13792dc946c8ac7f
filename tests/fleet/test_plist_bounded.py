"""Binary plists are read in time and memory linear in the file: cycles and shared-reference
bombs are refused with a located error, never a RecursionError or an exponential walk."""

from __future__ import annotations

import plistlib
import struct
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appveto.fleet.importers._plist import PlistError, loads_binary
from appveto.fleet.ingest import import_inventory
from appveto.fleet.store import Store


def _bplist(objects: list[bytes], top: int) -> bytes:
    """A binary plist of hand-made objects (1-byte object references, 2-byte offsets)."""
    body = bytearray(b"bplist00")
    offsets = []
    for o in objects:
        offsets.append(len(body))
        body += o
    table = len(body)
    for off in offsets:
        body += struct.pack(">H", off)
    trailer = b"\0" * 6 + bytes([2, 1]) + struct.pack(">QQQ", len(objects), top, table)
    return bytes(body + trailer)


def shared_bomb(levels: int) -> bytes:
    """``A_0 = "x"``, ``A_i = [A_{i-1}, A_{i-1}]``: 2**levels leaves in a few hundred bytes."""
    objects = [b"\x51x"] + [bytes([0xA2, i - 1, i - 1]) for i in range(1, levels + 1)]
    return _bplist(objects, levels)


def cycle() -> bytes:
    """An array whose only element is itself."""
    return _bplist([bytes([0xA1, 0])], 0)


def dict_cycle() -> bytes:
    """{"InstalledApplicationList": <this dict>}."""
    return _bplist([bytes([0xD1, 1, 0]), b"\x5f\x10\x18InstalledApplicationList"], 0)


@pytest.mark.parametrize(
    "data",
    [cycle(), dict_cycle(), shared_bomb(24), shared_bomb(200)],
    ids=["cycle", "dict", "bomb24", "bomb200"],
)
def test_cycles_and_shared_references_are_refused_in_linear_memory(data: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(PlistError, match=r"referenced more than once|nested too deeply"):
            loads_binary(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) < 1100
    assert peak < 2_000_000  # an exponential walk of 2**24 leaves would need gigabytes


def test_strings_shared_as_apple_writes_them_are_fine() -> None:
    apps = [{"Identifier": "com.example.a", "Name": "A"} for _ in range(500)]
    data = plistlib.dumps({"InstalledApplicationList": apps, "UDID": "u"}, fmt=plistlib.FMT_BINARY)
    assert loads_binary(data) == plistlib.loads(data)


_VALUES = st.recursive(
    st.none().map(lambda _: "")
    | st.text(max_size=20)
    | st.integers(-(2**63), 2**63 - 1)
    | st.booleans()
    | st.binary(max_size=20)
    | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_VALUES)
def test_trees_read_as_plistlib_reads_them(value: Any) -> None:
    data = plistlib.dumps(value, fmt=plistlib.FMT_BINARY)
    assert loads_binary(data) == plistlib.loads(data)


@pytest.mark.parametrize(
    "data",
    [cycle(), dict_cycle(), shared_bomb(24), b"bplist00" + b"\xff" * 40],
    ids=["cycle", "dict", "bomb", "junk"],
)
def test_the_importer_refuses_them_with_a_located_error(tmp_path: Path, data: bytes) -> None:
    from appveto.errors import FleetError

    f = tmp_path / "device.plist"
    f.write_bytes(data)
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store, pytest.raises(FleetError) as info:
        import_inventory(store, "apple", [f], at=datetime(2024, 1, 1, tzinfo=UTC))
    diag = info.value.diagnostics()[0]
    assert diag.file is not None and diag.file.endswith("device.plist")
    assert "broken plist" in diag.message
