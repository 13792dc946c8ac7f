"""The one writer (appveto.outputs.files): atomic, never over an input, no link followed,
collisions detected, one mode, a full disk leaves the previous file."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from appveto.errors import OutputError
from appveto.outputs.files import RECORD, Guard, OutputFolder, open_file, store_files, write_file


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".appveto-*.tmp"))


def test_write_replaces_atomically_with_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    old = os.umask(0o027)
    try:
        write_file(target, "one\n")
        first = target.stat().st_ino
        write_file(target, b"two\n")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"two\n"
    assert target.stat().st_ino != first  # a new file renamed into place, not rewritten
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # 0666 minus the umask
    assert _leftovers(tmp_path) == []


def test_every_output_gets_the_same_mode(tmp_path: Path) -> None:
    """A file, a file in a folder and a streamed file: 0666 minus the umask, all of them
    (the issue: scan/compare/export wrote 0600, fleet outputs 0644)."""
    mask = os.umask(0o022)
    try:
        write_file(tmp_path / "a", "x")
        with OutputFolder(tmp_path / "f") as f:
            f.write("sub/b", "x")
            with f.open("c", text=True) as out:
                out.write("x")
    finally:
        os.umask(mask)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "a", tmp_path / "f/sub/b", tmp_path / "f/c")}
    assert modes == {0o644}


def test_an_input_is_never_overwritten_by_identity(tmp_path: Path) -> None:
    store = tmp_path / "appveto.db"
    store.write_bytes(b"SQLite format 3\x00store")
    hard = tmp_path / "hardlink.html"
    os.link(store, hard)
    guard = Guard.of(store_files(f"sqlite:///{store}"))
    for target in (store, hard, tmp_path / "." / "appveto.db", tmp_path / "appveto.db-wal"):
        with pytest.raises(OutputError, match="refusing to overwrite an input"):
            write_file(target, "report", guard=guard)
    assert store.read_bytes() == b"SQLite format 3\x00store"
    assert not (tmp_path / "appveto.db-wal").exists()
    assert _leftovers(tmp_path) == []


def test_nothing_is_written_into_a_guarded_folder(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    guard = Guard.of([], folders=[policies])
    with pytest.raises(OutputError, match="refusing to write into"):
        write_file(policies / "new.yaml", "kind: decision\n", guard=guard)
    with pytest.raises(OutputError, match="refusing to write into"):
        OutputFolder(policies / "bundle", guard=guard)
    assert list(policies.iterdir()) == []


def test_a_symbolic_link_is_refused_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "report.txt"
    link.symlink_to(victim)
    with pytest.raises(OutputError, match="symbolic link"):
        write_file(link, "evil")
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="symbolic link"):
        write_file(dangling, "evil")
    assert victim.read_text() == "keep me\n" and link.is_symlink()
    assert not (tmp_path / "nowhere").exists()


def test_symbolic_links_inside_an_output_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.md").write_text("keep\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.md").symlink_to(outside / "x.md")
    (out / "sub").symlink_to(outside)
    with OutputFolder(out) as f:
        with pytest.raises(OutputError, match="symbolic link"):
            f.write("x.md", "evil")
        with pytest.raises(OutputError, match="symbolic link"):
            f.write("sub/y.md", "evil")
        f.write("ok.md", "fine")  # the batch goes on
    assert (outside / "x.md").read_text() == "keep\n" and not (outside / "y.md").exists()
    root_link = tmp_path / "link-to-out"
    root_link.symlink_to(out)
    with pytest.raises(OutputError, match="symbolic link"):
        OutputFolder(root_link)


def test_collisions_in_one_run_are_detected(tmp_path: Path) -> None:
    with OutputFolder(tmp_path / "out") as f:
        f.write("a_b.md", "first")
        for same in ("a_b.md", "A_B.md", "A_b.md"):
            with pytest.raises(OutputError, match="written twice"):
                f.write(same, "second")
        f.write("caf\u00e9.md", "x")
        with pytest.raises(OutputError, match="written twice"):
            f.write("cafe\u0301.md", "y")  # the same name in NFD, as macOS stores it
        assert f.written == ("a_b.md", "caf\u00e9.md")
    assert (tmp_path / "out" / "a_b.md").read_text() == "first"


def test_names_that_leave_the_folder_are_refused(tmp_path: Path) -> None:
    with OutputFolder(tmp_path / "out") as f:
        for bad in ("../x", "/etc/x", "a/../../x", "", "a//b", "."):
            with pytest.raises(OutputError, match="plain relative"):
                f.write(bad, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_empty_folder_can_be_required(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    with pytest.raises(OutputError, match=r"is not empty \(mine.txt\); use --force"):
        OutputFolder(out, empty=True, what="; use --force")


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "appveto.toml"
    write_file(target, "first", exclusive=True)
    with pytest.raises(OutputError, match="exists already"):
        write_file(target, "second", exclusive=True)
    assert target.read_text() == "first" and _leftovers(tmp_path) == []


def _null_device(tmp_path: Path) -> Path:
    """A character device to write into. As root (CI, containers) a private copy of the null
    device in ``tmp_path``: a broken writer (a mutant under ``make mutants``) that renamed over
    its target would otherwise replace the machine's own ``/dev/null`` with a regular file."""
    if os.geteuid() != 0:
        return Path("/dev/null")  # nobody else can rename over it
    dev = tmp_path / "null"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return dev


def test_a_device_or_fifo_is_written_into(tmp_path: Path) -> None:
    dev = _null_device(tmp_path)
    write_file(dev, "discarded")
    assert stat.S_ISCHR(os.stat(dev).st_mode)
    if dev.parent == tmp_path:
        assert os.listdir(tmp_path) == ["null"]  # no temporary file left beside it


def test_a_folder_is_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.md").write_text("previous a\n")
    with pytest.raises(RuntimeError), OutputFolder(out) as f:
        f.write("a.md", "new a")
        f.write("sub/b.md", "new b")
        assert (out / "a.md").read_text() == "previous a\n"  # nothing is in place before the end
        raise RuntimeError("the command failed half-way")
    assert (out / "a.md").read_text() == "previous a\n" and not (out / "sub" / "b.md").exists()
    assert _leftovers(out) == []
    with OutputFolder(out) as f:
        f.write("a.md", "new a")
    assert (out / "a.md").read_text() == "new a"


def test_a_failure_half_way_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("previous\n")
    with pytest.raises(RuntimeError), open_file(target, text=True) as out:
        out.write("half of the new report")
        raise RuntimeError("renderer crashed")
    assert target.read_text() == "previous\n" and _leftovers(tmp_path) == []


_FILL = """
import os, resource, signal, sys
from pathlib import Path
from appveto.errors import OutputError
from appveto.outputs.files import OutputFolder, write_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
if sys.argv[2] == "rlimit":
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    if sys.argv[3] == "file":
        write_file(sys.argv[1], b"new report " * 100_000)
    else:  # a folder: a small file, then one the disk cannot hold
        with OutputFolder(Path(sys.argv[1]).parent) as folder:
            folder.write("small.txt", b"new small\\n")
            folder.write(Path(sys.argv[1]).name, b"new report " * 100_000)
except OutputError as exc:
    print(exc)
    sys.exit(2)
"""


@contextlib.contextmanager
def _small_disk(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A 64 KiB tmpfs when this machine lets us mount one, else a file size limit."""
    mnt = tmp_path / "disk"
    mnt.mkdir(parents=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, check=False
        ).returncode
        == 0
    )
    try:
        yield mnt, "tmpfs" if mounted else "rlimit"
    finally:
        if mounted:
            subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_full_disk_leaves_the_previous_file(tmp_path: Path, what: str) -> None:
    for how in ("disk", "rlimit"):
        with _small_disk(tmp_path / how) as (mnt, disk):
            mode = "rlimit" if how == "rlimit" else disk
            target = mnt / "report.html"
            target.write_bytes(b"<p>previous report</p>\n")
            (mnt / "small.txt").write_bytes(b"previous small\n")
            done = subprocess.run(
                [sys.executable, "-c", _FILL, str(target), mode, what],
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 2, (mode, done)
            reason = os.strerror(errno.ENOSPC if mode == "tmpfs" else errno.EFBIG)
            assert str(target) in done.stdout and reason in done.stdout, done.stdout
            assert "previous file, if any, is unchanged" in done.stdout
            assert target.read_bytes() == b"<p>previous report</p>\n", mode
            assert (mnt / "small.txt").read_bytes() == b"previous small\n", mode  # a batch: all or nothing
            assert _leftovers(mnt) == [], mode


def test_a_full_disk_under_the_cli_keeps_the_previous_report(tmp_path: Path) -> None:
    """The command as users run it: ``appveto schema scan -o`` on a full disk (or over a
    file size limit, ``ulimit -f``) exits 2 naming the file, and the previous one stays."""
    import resource

    for how in ("disk", "rlimit"):
        with _small_disk(tmp_path / how) as (mnt, disk):
            mode = "rlimit" if how == "rlimit" else disk
            target = mnt / "schema.json"
            target.write_bytes(b"{}\n")
            if mode == "tmpfs":
                (mnt / "filler").write_bytes(b"x" * (60 * 1024))
            limit = (
                (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024)))
                if mode == "rlimit"
                else None
            )
            done = subprocess.run(
                [sys.executable, "-m", "appveto.cli.main", "schema", "scan", "-o", str(target)],
                capture_output=True,
                text=True,
                check=False,
                preexec_fn=limit,
            )
            assert done.returncode == 2 and "Traceback" not in done.stderr, (mode, done.stderr)
            assert str(target) in done.stderr and "previous file, if any, is unchanged" in done.stderr
            assert target.read_bytes() == b"{}\n" and _leftovers(mnt) == [], mode


# --------------------------------------------------------------------------- the record


def _run(root: Path, files: dict[str, str], **kw: object) -> OutputFolder:
    with OutputFolder(root, record=RECORD, owner="appveto test", **kw) as f:  # type: ignore[arg-type]
        for rel, text in files.items():
            f.write(rel, text)
    return f


def _listed(root: Path) -> list[str]:
    lines = (root / RECORD).read_text(encoding="utf-8").split("\n")
    assert lines[0] == "# the files appveto test wrote into this folder on its last run, one a line"
    assert lines[-1] == ""
    return lines[1:-1]


def test_a_file_the_command_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("ours\n")
    with OutputFolder(out, record=RECORD, owner="appveto test") as f:
        f.write("a.md", "A\n")
        with pytest.raises(OutputError) as info:
            f.write("README.md", "notice\n")
        f.write("b.md", "B\n")  # the batch goes on
    d = info.value.diagnostics()[0]
    assert d.file == str(out / "README.md")
    assert d.message == (
        "exists and was not written by appveto test (it is not in .appveto-written); "
        "move it away or give --force to replace it"
    )
    assert (out / "README.md").read_text() == "ours\n"
    assert _listed(out) == ["a.md", "b.md"]
    assert sorted(p.name for p in out.iterdir()) == [".appveto-written", "README.md", "a.md", "b.md"]


def test_force_replaces_a_file_the_command_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("ours\n")
    _run(out, {"README.md": "notice\n"}, replace_foreign=True)
    assert (out / "README.md").read_text() == "notice\n" and _listed(out) == ["README.md"]
    _run(out, {"README.md": "again\n"})  # its own now: replaced without force
    assert (out / "README.md").read_text() == "again\n"


def test_a_second_run_replaces_its_files_and_removes_those_no_longer_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _run(out, {"a.md": "1", "b.md": "1", "sub/c.md": "1", "sub/d.md": "1"})
    assert first.removed == [] and _listed(out) == ["a.md", "b.md", "sub/c.md", "sub/d.md"]
    (out / "mine.txt").write_text("mine")
    second = _run(out, {"b.md": "2", "sub/c.md": "2"})
    assert second.removed == ["a.md", "sub/d.md"]
    assert _listed(out) == ["b.md", "sub/c.md"]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        ".appveto-written",
        "b.md",
        "mine.txt",
        "sub",
        "sub/c.md",
    ]
    assert (out / "b.md").read_text() == "2" and (out / "mine.txt").read_text() == "mine"


def test_a_listed_name_that_is_no_longer_a_file_is_kept_and_still_listed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(out, {"a.md": "1", "b.md": "1", "c.md": "1"})
    (out / "a.md").unlink()
    (out / "a.md").mkdir()  # someone put a folder there: not the file the command wrote
    (out / "c.md").unlink()  # gone already
    (out / "b.md").unlink()
    (out / "b.md").symlink_to(tmp_path / "elsewhere")
    f = _run(out, {"z.md": "2"})
    assert f.removed == [] and _listed(out) == ["z.md", "a.md", "b.md"]
    assert (out / "a.md").is_dir() and (out / "b.md").is_symlink()


def test_a_failed_run_leaves_the_record_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(out, {"a.md": "1"})
    with pytest.raises(RuntimeError), OutputFolder(out, record=RECORD, owner="appveto test") as f:
        f.write("b.md", "2")
        raise RuntimeError("half-way")
    assert _listed(out) == ["a.md"] and sorted(os.listdir(out)) == [".appveto-written", "a.md"]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder"])
def test_a_record_that_is_no_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    record = out / RECORD
    if kind == "symlink":
        (tmp_path / "list").write_text("# x\nvictim\n")
        record.symlink_to(tmp_path / "list")
    elif kind == "fifo":
        os.mkfifo(record)
    else:
        record.mkdir()
    with pytest.raises(OutputError) as info:
        OutputFolder(out, record=RECORD)
    assert info.value.diagnostics()[0].file == str(record)


def test_the_record_itself_and_names_with_line_breaks_are_not_written(tmp_path: Path) -> None:
    with OutputFolder(tmp_path / "out", record=RECORD) as f:
        for bad in (RECORD, RECORD.upper(), "a\nb.md", "a\rb.md"):
            with pytest.raises(OutputError):
                f.write(bad, "x")
    assert _listed_any(tmp_path / "out") == []


def _listed_any(root: Path) -> list[str]:
    return (root / RECORD).read_text(encoding="utf-8").split("\n")[1:-1]


def test_a_record_too_large_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appveto.outputs import files

    out = tmp_path / "out"
    _run(out, {"a.md": "1", "b.md": "2"})
    monkeypatch.setattr(files, "_RECORD_MAX", (out / RECORD).stat().st_size - 1)
    with pytest.raises(OutputError, match="is larger than"):
        OutputFolder(out, record=RECORD)
    monkeypatch.setattr(files, "_RECORD_MAX", (out / RECORD).stat().st_size)
    _run(out, {"a.md": "3"})


# --------------------------------------------------------------------------- errors name the file


def _only(info: pytest.ExceptionInfo[OutputError]) -> tuple[str | None, str]:
    (d,) = info.value.diagnostics()
    assert str(info.value) == f"{d.file}: {d.message}"
    return d.file, d.message


def _failing(err: int) -> object:
    def fail(*_: object, **__: object) -> None:
        raise OSError(err, os.strerror(err))

    return fail


@pytest.mark.parametrize("name", ["", ".", ".."])
def test_a_target_that_names_a_folder_is_refused(tmp_path: Path, name: str) -> None:
    target = f"{tmp_path}/{name}" if name else f"{tmp_path}/"
    with pytest.raises(OutputError) as info:
        open_file(target if name else Path(target) / "")
    assert _only(info)[1] == "is a directory"


def test_a_full_disk_names_the_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")
    monkeypatch.setattr(os, "fsync", _failing(errno.ENOSPC))
    with pytest.raises(OutputError) as info:
        write_file(target, "new\n")
    assert _only(info) == (
        str(target),
        "cannot write: No space left on device (the previous file, if any, is unchanged)",
    )
    assert target.read_text() == "old\n" and _leftovers(tmp_path) == []


def test_a_failed_rename_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.txt"
    monkeypatch.setattr(os, "replace", _failing(errno.EACCES))
    with pytest.raises(OutputError) as info:
        write_file(target, "new\n")
    assert _only(info) == (str(target), "cannot write: Permission denied")
    assert not target.exists() and _leftovers(tmp_path) == []


def test_exclusive_names_the_file_that_exists(tmp_path: Path) -> None:
    target = tmp_path / "appveto.toml"
    target.write_text("mine")
    with pytest.raises(OutputError) as info:
        write_file(target, "x", exclusive=True)
    assert _only(info) == (str(target), "exists already; nothing was changed")


def test_exclusive_on_a_file_system_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No hard links (EPERM, as on vfat): the name is created exclusively and the data copied."""
    monkeypatch.setattr(os, "link", _failing(errno.EPERM))
    target = tmp_path / "appveto.toml"
    big = b"x" * ((1 << 20) + 5)  # more than one chunk of the copy
    write_file(target, big, exclusive=True)
    assert target.read_bytes() == big and _leftovers(tmp_path) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    with pytest.raises(OutputError) as info:
        write_file(target, "second", exclusive=True)
    assert _only(info) == (str(target), "exists already; nothing was changed")
    assert target.read_bytes() == big and _leftovers(tmp_path) == []


def test_exclusive_passes_other_link_errors_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "link", _failing(errno.EACCES))
    target = tmp_path / "appveto.toml"
    with pytest.raises(OutputError) as info:
        write_file(target, "x", exclusive=True)
    assert _only(info) == (str(target), "cannot write: Permission denied")
    assert not target.exists() and _leftovers(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_folder_that_cannot_be_flushed_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appveto.outputs import files

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.md").write_text("old")
    monkeypatch.setattr(files, "_sync", _failing(errno.ENOSPC))
    with pytest.raises(OutputError) as info, OutputFolder(out) as f:
        f.write("a.md", "new")
        f.write("b.md", "new")
    assert _only(info) == (
        str(out),
        "cannot write: No space left on device (the previous file, if any, is unchanged)",
    )
    assert sorted(os.listdir(out)) == ["a.md"] and (out / "a.md").read_text() == "old"


def test_a_file_of_a_folder_that_cannot_be_put_in_place_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    real_replace = os.replace

    def replace(src: str, dst: str, **kw: object) -> None:
        if dst == "b.md":
            raise OSError(errno.EACCES, "Permission denied")
        real_replace(src, dst, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as info, OutputFolder(out) as f:
        f.write("a.md", "A")
        f.write("b.md", "B")
        f.write("c.md", "C")
    assert _only(info) == (str(out / "b.md"), "cannot write: Permission denied")
    assert sorted(os.listdir(out)) == ["a.md", "c.md"]


def test_folder_errors_name_the_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "plain").write_text("x")
    (out / "dir.md").mkdir()
    with OutputFolder(out) as f:
        with pytest.raises(OutputError) as info:
            f.write("plain/x.md", "x")
        assert _only(info) == (str(out / "plain/x.md"), "'plain' on the way is not a folder")
        with pytest.raises(OutputError) as info:
            f.write("dir.md", "x")
        assert _only(info) == (str(out / "dir.md"), "is a directory")
        with pytest.raises(OutputError) as info:
            f.write("../x", "x")
        assert _only(info) == (str(out / "../x"), "is not a plain relative file name")
        f.write("a/b/c.md", "deep")
        f.write("a/b/d.md", "deep too")  # the folders opened once, reused
    assert (out / "a/b/c.md").read_text() == "deep" and (out / "a/b/d.md").read_text() == "deep too"
    assert _leftovers(out) == []


def test_a_folder_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError) as info:
        OutputFolder(tmp_path / "file")
    assert _only(info) == (str(tmp_path / "file"), "exists and is not a folder")


def test_text_mode_and_newlines(tmp_path: Path) -> None:
    with open_file(tmp_path / "a.txt", text=True, newline="\r\n") as out:
        out.write("one\ntwo \u00e9\udcff\n")
    assert (tmp_path / "a.txt").read_bytes() == b"one\r\ntwo \xc3\xa9\\udcff\r\n"
    with OutputFolder(tmp_path / "f") as f, f.open("b.txt", text=True) as out:
        out.write("x\n")
    assert (tmp_path / "f" / "b.txt").read_bytes() == b"x\n"
    write_file(tmp_path / "c.txt", "\udcff")
    assert (tmp_path / "c.txt").read_bytes() == b"\\udcff"


def test_an_exception_while_writing_discards_the_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), open_file(target) as out:
        out.write(b"new")
        raise RuntimeError("half-way")
    assert target.read_text() == "old" and _leftovers(tmp_path) == []
    with pytest.raises(OutputError) as info, open_file(target) as out:
        raise OSError(errno.EFBIG, "File too large")
    assert _only(info) == (
        str(target),
        "cannot write: File too large (the previous file, if any, is unchanged)",
    )
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_guard_of_reads_files_folders_and_names(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    a.write_text("x")
    folder = tmp_path / "pol"
    folder.mkdir()
    missing = tmp_path / "missing.db"
    g = Guard.of([missing, folder, a], folders=[tmp_path / "extra"])
    st = a.stat()
    assert g.files == frozenset({(st.st_dev, st.st_ino)})
    assert g.paths == frozenset(os.path.realpath(p) for p in (missing, folder, a))
    assert g.folders == (os.path.realpath(folder), os.path.realpath(tmp_path / "extra"))
    link = tmp_path / "other-name.yaml"
    os.link(a, link)
    with pytest.raises(OutputError) as info:
        write_file(link, "x", guard=g)
    assert _only(info) == (
        str(link),
        f"refusing to overwrite an input file of this command ({a})",
    )
    both = g | Guard.of([link])
    assert both.files == g.files and both.paths == g.paths | {os.path.realpath(link)}


@pytest.mark.parametrize(
    ("url", "files"),
    [
        (None, []),
        ("postgresql://h/db", []),
        ("sqlite:///:memory:", []),
        ("sqlite:////srv/ws/appveto.db?mode=ro", ["/srv/ws/appveto.db"]),
        ("sqlite:///rel.db", ["rel.db"]),
        ("/srv/ws/appveto.db", ["/srv/ws/appveto.db"]),
    ],
)
def test_store_files(url: str | None, files: list[str]) -> None:
    expected = [f + s for f in files for s in ("", "-wal", "-shm", "-journal")]
    assert store_files(url) == expected
