"""Whole-process robustness of ``appveto scan``, ``policy`` and ``export`` on hostile input.

Each case runs the CLI as its own process and checks the project's standard: bad input
gets exit code 2 (0/1 where documented) and a message naming the file, never a
traceback or a hang; one bad file in a batch never stops the batch; nothing the user
gave is overwritten; memory stays bounded.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import corpus_apk

POLICIES = Path(__file__).resolve().parents[1] / "export" / "policies"

# The child reports its own peak RSS so a test can bound memory without GNU time. VmHWM
# belongs to the process image (ru_maxrss would carry the forking test worker's peak over).
# It reports its CPU time too: a bound on that holds on a loaded machine, a wall-clock one
# does not.
_CHILD = """
import re, resource, sys, time
from appveto.cli.main import main

def peak():
    try:
        with open("/proc/self/status") as fh:
            return int(re.search(r"VmHWM:\\s*(\\d+)", fh.read()).group(1))
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

try:
    rc = main(sys.argv[1:])
finally:
    sys.stderr.write("\\n@maxrss-kib %d\\n@cpu-s %.3f\\n" % (peak(), time.process_time()))
sys.exit(rc)
"""


@dataclass(frozen=True, slots=True)
class Done:
    rc: int
    out: bytes
    err: str
    cpu_seconds: float
    """the child's own CPU time (not wall-clock: the machine is shared)"""
    rss_mib: float


def run(
    argv: list[str],
    cwd: Path,
    *,
    stdout: int | None = None,
    timeout: float = 300,  # a hang guard only (the machine is loaded): bounds are on CPU time
    env: dict[str, str] | None = None,
) -> Done:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *argv],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    err = proc.stderr.decode("utf-8", "replace")
    m = re.search(r"@maxrss-kib (\d+)", err)
    rss = int(m.group(1)) / 1024 if m else 0.0
    c = re.search(r"@cpu-s ([\d.]+)", err)
    cpu = float(c.group(1)) if c else float("nan")  # no figure: every bound on it fails
    err = re.sub(r"\n?@maxrss-kib \d+\n@cpu-s [\d.]+\n", "", err)
    return Done(proc.returncode, proc.stdout or b"", err, cpu, rss)


def assert_clean(done: Done, rc: int, *needles: str) -> None:
    assert "Traceback" not in done.err, done.err
    assert done.rc == rc, (done.rc, done.err)
    for n in needles:
        assert n in done.err, (n, done.err)


@pytest.fixture()
def pol(tmp_path: Path) -> Path:
    """A writable copy of a valid policy folder."""
    dst = tmp_path / "pol"
    shutil.copytree(POLICIES, dst)
    return dst


def _decision(body_term: str) -> str:
    base = (POLICIES / "test-family.yaml").read_text(encoding="utf-8")
    return base[: base.index("term:")] + body_term


# --------------------------------------------------------------------------- scan


def _scan_inputs(tmp: Path) -> dict[str, Path]:
    (tmp / "empty.apk").write_bytes(b"")
    (tmp / "garbage.apk").write_bytes(os.urandom(3000))
    (tmp / "folder.apk").mkdir()
    os.mkfifo(tmp / "pipe.apk")
    (tmp / "loop-a.apk").symlink_to("loop-b.apk")
    (tmp / "loop-b.apk").symlink_to("loop-a.apk")
    return {
        "fifo": tmp / "pipe.apk",
        "symlink-loop": tmp / "loop-a.apk",
        "missing": tmp / "missing.apk",
        "folder": tmp / "folder.apk",
        "empty": tmp / "empty.apk",
        "garbage": tmp / "garbage.apk",
        "devnull": Path(os.devnull),
    }


@pytest.mark.parametrize(
    "which", ["missing", "folder", "empty", "garbage", "devnull", "fifo", "symlink-loop"]
)
def test_scan_unreadable_input(tmp_path: Path, which: str) -> None:
    path = _scan_inputs(tmp_path)[which]
    done = run(["scan", str(path)], tmp_path)
    assert_clean(done, 2, str(path))


def test_scan_batch_of_bad_files_reports_every_one(tmp_path: Path) -> None:
    inputs = _scan_inputs(tmp_path)
    good = corpus_apk("fdroid-urzip-badsig.apk")
    argv = ["scan", "--format", "json", *(str(p) for p in inputs.values()), str(good)]
    done = run(argv, tmp_path)
    assert_clean(done, 2, *(str(p) for p in inputs.values()))
    assert b'"fdroid-urzip-badsig.apk"' in done.out or b"fdroid-urzip-badsig.apk" in done.out


def test_scan_truncated_corpus_copies_in_one_batch(tmp_path: Path) -> None:
    data = corpus_apk("owasp-uncrackable-l1.apk").read_bytes()
    n = len(data)
    offsets = sorted({1, 4, 21, 22, 30, 64, 1000, n // 7, n // 3, n // 2, n - 100, n - 23, n - 22, n - 1})
    files = []
    for off in offsets:
        f = tmp_path / f"cut-{off}.apk"
        f.write_bytes(data[:off])
        files.append(f)
    done = run(["scan", "--format", "json", *(str(f) for f in files)], tmp_path)
    assert_clean(done, 2)
    for f in files:
        assert f.name in done.err, f"{f.name} not reported: {done.err}"


def test_scan_output_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    done = run(["scan", str(corpus_apk("fdroid-urzip-badsig.apk")), "--output", "out"], tmp_path)
    assert_clean(done, 2, "out", "is a directory")


def test_scan_output_is_the_input(tmp_path: Path) -> None:
    apk = tmp_path / "in.apk"
    shutil.copy(corpus_apk("fdroid-urzip-badsig.apk"), apk)
    before = apk.read_bytes()
    done = run(["scan", str(apk), "--output", "./in.apk"], tmp_path)
    assert_clean(done, 2, "refusing to overwrite an input")
    assert apk.read_bytes() == before


def test_scan_output_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    done = run(["scan", str(corpus_apk("fdroid-urzip-badsig.apk")), "--output", "plain/report.txt"], tmp_path)
    assert_clean(done, 2, "plain/report.txt", "cannot write")
    assert (tmp_path / "plain").read_text() == "not a folder"


def test_output_into_a_fifo_writes_into_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = run(["policy", "schema", "--output", str(fifo)], tmp_path)
    reader.join(10)
    assert_clean(done, 0)
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the FIFO was replaced by a regular file"
    assert got and got[0].startswith(b"{")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("argv", [["policy", "schema"], ["scan", os.devnull]], ids=["policy-schema", "scan"])
def test_stdout_that_cannot_be_written(tmp_path: Path, argv: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = run(argv, tmp_path, stdout=full.fileno())
    assert_clean(done, 2, "standard output", "cannot write")


# --------------------------------------------------------------------------- hostile APKs


def _deflate_zeros(size: int) -> bytes:
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    return b"".join([*(c.compress(chunk) for _ in range(size >> 20)), c.flush()])


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    """A zip of (name, deflated body, declared uncompressed size); CRCs left at 0."""
    import struct

    body: list[bytes] = []
    cds: list[bytes] = []
    pos = 0
    for name, comp, usize in entries:
        nb = name.encode()
        rec = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(comp), usize, len(nb), 0) + nb
        cds.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                0,
                len(comp),
                usize,
                len(nb),
                0,
                0,
                0,
                0,
                0,
                pos,
            )
            + nb
        )
        body.append(rec + comp)
        pos += len(rec) + len(comp)
    cd = b"".join(cds)
    n = min(len(entries), 0xFFFF)
    return b"".join(body) + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), pos, 0)


def test_scan_batch_of_bombs_is_bounded(tmp_path: Path) -> None:
    """Zip bombs (300 MiB of zeros in 300 KiB) under every name the reader parses, a lying size,
    a nested bomb in assets and a central directory claiming huge counts: the batch ends,
    every file is in the report, memory stays far below what the bombs would inflate to."""
    import struct

    size = 300 << 20
    bomb = _deflate_zeros(size)
    names = ["classes.dex", "AndroidManifest.xml", "resources.arsc", "assets/x.bin", "lib/arm64-v8a/libx.so"]
    files: list[Path] = []
    for name in names:
        f = tmp_path / f"bomb-{name.replace('/', '_')}.apk"
        f.write_bytes(_zip([(name, bomb, size)]))
        files.append(f)
    lying = tmp_path / "bomb-lying-size.apk"
    lying.write_bytes(_zip([("classes.dex", bomb, 1000)]))
    nested = tmp_path / "bomb-nested.apk"
    nested.write_bytes(_zip([("assets/inner.zip", *_stored(_zip([("x.dex", bomb, size)])))]))
    huge_count = tmp_path / "cd-count.apk"
    z = bytearray(_zip([("a.txt", b"\x03\x00", 0)]))
    eocd = z.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", z, eocd + 8, 0xFFFF, 0xFFFF)
    huge_count.write_bytes(bytes(z))
    files += [lying, nested, huge_count]
    done = run(["scan", "--format", "json", *(str(f) for f in files)], tmp_path)
    assert "Traceback" not in done.err, done.err
    assert done.rc in (0, 2), done.err
    report = done.out.decode("utf-8", "replace")
    for f in files:
        assert f.name in report
    assert done.rss_mib < 400, f"peak RSS {done.rss_mib:.0f} MiB"
    # the declared sizes the reader refused are in the report, not dropped
    assert "max_entry_inflated" in report and "inflates to more than the declared" in report


def _stored(blob: bytes) -> tuple[bytes, int]:
    """A raw-deflate body that inflates to ``blob`` (stored blocks)."""
    import zlib

    c = zlib.compressobj(0, zlib.DEFLATED, -15)
    return c.compress(blob) + c.flush(), len(blob)


def test_scan_nested_archive_with_many_dex_entries_is_bounded(tmp_path: Path) -> None:
    """15,000 ``.dex`` names in a nested zip of 500 KiB: the report stays small."""
    inner = _zip([(f"e{i}.dex", b"\x03\x00", 0) for i in range(15_000)])
    apk = tmp_path / "nested-many.apk"
    apk.write_bytes(_zip([("assets/many.zip", *_stored(inner))]))
    done = run(["scan", "--format", "json", str(apk)], tmp_path)
    assert_clean(done, 0)
    assert done.rss_mib < 200, f"peak RSS {done.rss_mib:.0f} MiB"


# --------------------------------------------------------------------------- policy


def _policy_case(kind: str, folder: Path) -> None:
    """Break a copy of a valid policy folder in one way."""
    bad = folder / "bad.yaml"
    if kind == "binary":
        bad.write_bytes(bytes(range(256)) * 8)
    elif kind == "invalid-utf8":
        bad.write_bytes(b'kind: decision\nid: "\xff\xfe"\n')
    elif kind == "alias-bomb":
        lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
        lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
        bad.write_text("\n".join([*lines, "kind: decision"]) + "\n")
    elif kind == "huge":
        bad.write_text("kind: decision\nnotes: '" + "A" * (3 << 20) + "'\n")
    elif kind == "deep-flow":
        bad.write_text("kind: decision\nx: " + "[" * 50_000 + "\n")
    elif kind == "deep-block":
        bad.write_text("".join(" " * i + "k:\n" for i in range(1200)))
    elif kind == "symlink-loop":
        (folder / "loop-a.yaml").symlink_to("loop-b.yaml")
        (folder / "loop-b.yaml").symlink_to("loop-a.yaml")
        (folder / "sub").symlink_to("..")
    elif kind == "dangling-symlink":
        bad.symlink_to("nowhere.yaml")
    elif kind == "fifo":
        os.mkfifo(bad)
    elif kind == "device":
        bad.symlink_to("/dev/zero")
    else:
        raise AssertionError(kind)


POLICY_CASES = [
    ("binary", "bad.yaml"),
    ("invalid-utf8", "bad.yaml"),
    ("alias-bomb", "bad.yaml"),
    ("huge", "bad.yaml"),
    ("deep-flow", "bad.yaml"),
    ("deep-block", "bad.yaml"),
    ("symlink-loop", "loop-a.yaml"),
    ("dangling-symlink", "bad.yaml"),
    ("fifo", "bad.yaml"),
    ("device", "bad.yaml"),
]


@pytest.mark.parametrize(("kind", "named"), POLICY_CASES, ids=[c[0] for c in POLICY_CASES])
def test_policy_check_hostile_file(pol: Path, kind: str, named: str) -> None:
    _policy_case(kind, pol)
    done = run(["policy", "check", "pol"], pol.parent)
    assert_clean(done, 2, f"pol/{named}")
    assert done.cpu_seconds < 30, f"{done.cpu_seconds:.1f} s of CPU"
    assert done.rss_mib < 400, f"peak RSS {done.rss_mib:.0f} MiB"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["policy", "check", "missing"], "missing: not a folder"),
        (["policy", "check", "pol/authorities.yaml"], "pol/authorities.yaml: not a folder"),
        (["policy", "check", "empty"], "empty: no *.yaml policy files"),
        (["policy", "check", ""], "'': not a folder"),
        (["policy", "show", "pol", "no-such-decision"], "no-such-decision"),
        (["policy", "lint", "pol", "--at", "2025-13-45"], "2025-13-45"),
        (["policy", "show", "pol", "--at", "yesterday"], "yesterday"),
        (["policy", "timeline", "pol", "--days", "-1"], "-1"),
        (["policy", "diff", "pol", "missing"], "missing: not a folder"),
        (["policy", "diff", "--rev", "HEAD", "pol"], "pol: git"),
        (["policy", "diff", "--rev=-x", "pol"], "not a git revision"),
        (["policy", "schema", "--output", "pol/authorities.yaml/x.json"], "cannot write"),
    ],
    ids=lambda v: "_".join(v) if isinstance(v, list) else None,
)
def test_policy_bad_arguments(pol: Path, argv: list[str], needle: str) -> None:
    (pol.parent / "empty").mkdir()
    done = run(argv, pol.parent)
    assert_clean(done, 2, needle)


EDGE_TERMS = {
    "deadline-past-year-9999": (
        "term:\n  effective: 9999-12-01\n  deadlines:\n    - kind: remove_by\n      days: 3650\n"
    ),
    "renewal-on-day-one": (
        "term:\n  effective: 0001-01-01\n  expires: 0001-01-02\n  renewals:\n"
        "    - decided: 0001-01-01\n      extends_to: 9999-12-31\n"
    ),
}


_LATE, _EARLY = "deadline-past-year-9999", "renewal-on-day-one"


@pytest.mark.parametrize(
    ("term", "argv"),
    [
        (_LATE, ["policy", "check", "pol"]),
        (_EARLY, ["policy", "lint", "pol", "--at", "0001-01-01"]),
        (_LATE, ["policy", "lint", "pol", "--at", "9999-12-31", "--soon", "36500"]),
        (_EARLY, ["policy", "show", "pol", "test-family", "--at", "9999-12-31"]),
        (_LATE, ["policy", "timeline", "pol", "--at", "9999-12-31", "--days", "36500"]),
        (
            _EARLY,
            ["policy", "timeline", "pol", "--at", "0001-01-01", "--days", "36500", "--review-days", "36500"],
        ),
        (_LATE, ["export", "hosts", "--policies", "pol", "--decision", "test-family", "--at", "9999-12-31"]),
        (_EARLY, ["export", "amapi", "--policies", "pol", "--decision", "test-family", "--at", "0001-01-01"]),
    ],
    ids=lambda v: "_".join(v[:3]) if isinstance(v, list) else v,
)
def test_dates_at_the_ends_of_the_calendar(tmp_path: Path, term: str, argv: list[str]) -> None:
    folder = tmp_path / "pol"
    folder.mkdir()
    shutil.copy(POLICIES / "authorities.yaml", folder)
    (folder / "test-family.yaml").write_text(_decision(EDGE_TERMS[term]), encoding="utf-8")
    done = run(argv, tmp_path)
    assert "Traceback" not in done.err, done.err
    assert done.rc in (0, 2), done.err
    if done.rc == 2:  # a refusal must say why and where
        assert "test-family" in done.err or "pol" in done.err, done.err


# --------------------------------------------------------------------------- export

HOSTS = ["export", "hosts", "--policies", "pol", "--decision", "test-family"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([*HOSTS, "--at", "2025-02-30"], "2025-02-30"),
        (["export", "hosts", "--policies", "pol", "--at", "99999-01-01"], "99999-01-01"),
        (["export", "hosts", "--policies", "pol", "--decision", "../../etc/passwd"], "no decision"),
        (["export", "hosts", "--policies", "pol"], "choose one with --decision"),
        (["export", "hosts", "--policies", "missing", "--decision", "x"], "missing"),
        (["export", "hosts", "--policies", "", "--decision", "x"], "''"),
        (["export", "nope", "--policies", "pol"], "invalid choice"),
        ([*HOSTS, "-o", "out"], "out: is a directory"),
        ([*HOSTS, "-o", "pol/test-family.yaml"], "refusing to overwrite an input"),
        ([*HOSTS, "-o", "pol/../pol/authorities.yaml"], "refusing to overwrite an input"),
        ([*HOSTS, "-o", "pol/authorities.yaml/x"], "cannot write"),
        (["export", "all", "--policies", "pol", "-o", "pol/test-family.yaml"], "is not a folder"),
        (["export", "all", "--policies", "pol", "-o", "pol"], "inside the policy folder"),
        (["export", "all", "--policies", "pol", "-o", "pol/bundle"], "inside the policy folder"),
        (["export", "all", "--policies", "pol"], "--output FOLDER"),
    ],
    ids=lambda v: "_".join(v[1:2] + v[-2:]) if isinstance(v, list) else None,
)
def test_export_bad_arguments_leave_inputs_alone(pol: Path, argv: list[str], needle: str) -> None:
    (pol.parent / "out").mkdir()
    (pol / "README.md").write_text("the policy repository's own README\n")
    before = {p: p.read_bytes() for p in pol.rglob("*") if p.is_file()}
    done = run(argv, pol.parent)
    assert_clean(done, 2, needle)
    after = {p: p.read_bytes() for p in pol.rglob("*") if p.is_file()}
    assert after == before


def test_export_with_a_hostile_file_in_the_policy_folder(pol: Path) -> None:
    _policy_case("fifo", pol)
    done = run(["export", "all", "--policies", "pol", "-o", "bundle"], pol.parent)
    assert_clean(done, 2, "pol/bad.yaml")
    assert not (pol.parent / "bundle").exists()


# --------------------------------------------------------------------------- names that are not UTF-8


@pytest.mark.parametrize(
    "argv",
    [
        ["policy", "check", "pol\udcff"],
        ["scan", "app\udcff.apk", "--format", "json"],
        ["scan", "missing\udcff.apk"],
        ["export", "all", "--policies", "pol\udcff", "--output", "out\udcff"],
    ],
    ids=lambda v: "_".join(v[:2] + v[3:4]),
)
def test_names_that_are_not_utf8_with_a_strict_output_encoding(tmp_path: Path, argv: list[str]) -> None:
    """A file name with a byte that is not UTF-8 (Python holds it as a lone surrogate) must not
    crash an output stream that encodes strictly, as it does under a UTF-8 locale."""
    shutil.copytree(POLICIES, tmp_path / os.fsdecode(b"pol\xff"))
    shutil.copy(corpus_apk("fdroid-urzip-badsig.apk"), tmp_path / os.fsdecode(b"app\xff.apk"))
    done = run(argv, tmp_path, env={"PYTHONIOENCODING": "utf-8:strict"})
    assert "Traceback" not in done.err, done.err
    assert done.rc == (2 if "missing" in argv[1] else 0), done.err
    if "json" in argv:
        import json

        json.loads(done.out)
    shown = done.out.decode("utf-8") + done.err
    if argv[0] == "scan" or argv[1] == "check":  # the name is shown, escaped
        assert "\\udcff" in shown, shown
