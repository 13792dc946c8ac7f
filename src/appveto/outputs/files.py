"""The one writer of output files.

Every file a command writes (a report, an export, a notice, the synthetic fleet, the
reference data, a workspace's configuration) goes through :func:`write_file`,
:func:`open_file` or an :class:`OutputFolder`, which guarantee:

* **Atomic.** The content goes to a new temporary file in the same folder, is flushed to
  disk (``fsync``) and then renamed over the target: a reader sees the previous file or
  the new one, never a half-written one. When writing fails (a full disk, a file size
  limit) the temporary file is removed and the previous file is left as it was. The files
  of an :class:`OutputFolder` are put in place together when it is closed, after one
  ``syncfs`` (1,158 notices: 1.5-4 s instead of 14-17 s with an ``fsync`` per file, on
  this project's ext4 test machine); a command that fails half-way changes none of them.
* **Never over an input or the store.** A command names what it reads
  (:class:`Guard`): the APKs, policy files, the workspace's configuration and its SQLite
  store (with its ``-wal``/``-shm``/``-journal`` files), inventory files. A target that is
  one of them (the same file, by device and inode, whatever the path says, hard links
  included) is refused, and so is any target inside a guarded folder (the policy folder:
  a file written there would be read as a policy).
* **No symbolic link followed.** A target that is a symbolic link is refused; inside an
  output folder every folder on the way is opened without following links
  (``O_NOFOLLOW``), so a link already there is refused, never followed. The temporary
  file is created with ``O_EXCL | O_NOFOLLOW``.
* **Collisions detected.** An :class:`OutputFolder` remembers the names written in one
  run (compared as a case-insensitive file system would: Unicode NFC, case-folded); a
  second file under the same name is refused with a located error instead of replacing
  the first.
* **One mode.** New files get mode 0666 minus the umask (as ``touch`` or a shell
  redirection would), whatever the command.

* **Never over a file the command did not write** (an :class:`OutputFolder` given a
  ``record``): the folder keeps the list of the files the command's last run wrote there
  (``.appveto-written``); a file already in the folder under a name the command writes is
  replaced only when that list holds it (``replace_foreign=True``, a command's ``--force``,
  replaces it anyway), and the files of the last run that this one did not write again are
  removed, so the folder never mixes two runs' output.

An existing character device or FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is
written into, not replaced. Writing to standard output is the CLI's business.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from appveto.errors import Diagnostic, OutputError

FILE_MODE = 0o666
"""Mode of every new output file before the umask."""

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database; guarded with it."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _error(path: object, message: str) -> OutputError:
    where = str(path)
    return OutputError(f"{where}: {message}", diagnostics=(Diagnostic(message, file=where),))


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"cannot write: {exc.strerror} (the previous file, if any, is unchanged)"
    return f"cannot write: {exc.strerror or exc}"


def _identity(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


@dataclass(frozen=True, slots=True)
class Guard:
    """What a command must not write over (``files``) or into (``folders``).

    Build it with :meth:`of` from the paths the command reads; paths that do not exist
    are kept by name (they may be created later, e.g. a SQLite journal).
    """

    files: frozenset[tuple[int, int]] = frozenset()
    paths: frozenset[str] = frozenset()
    folders: tuple[str, ...] = ()
    names: dict[tuple[int, int], str] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def of(
        cls, inputs: Iterable[str | os.PathLike[str]] = (), folders: Iterable[str | os.PathLike[str]] = ()
    ) -> Guard:
        ids: set[tuple[int, int]] = set()
        names: dict[tuple[int, int], str] = {}
        paths: set[str] = set()
        dirs: list[str] = []
        for raw in inputs:
            p = os.fspath(raw)
            paths.add(os.path.realpath(p))
            try:
                st = os.stat(p)
            except (OSError, ValueError):
                continue
            if stat.S_ISDIR(st.st_mode):
                dirs.append(os.path.realpath(p))
            elif stat.S_ISREG(st.st_mode):
                ids.add(_identity(st))
                names.setdefault(_identity(st), p)
        dirs += [os.path.realpath(os.fspath(f)) for f in folders]
        return cls(frozenset(ids), frozenset(paths), tuple(dirs), names)

    def __or__(self, other: Guard) -> Guard:
        return Guard(
            self.files | other.files,
            self.paths | other.paths,
            (*self.folders, *other.folders),
            {**other.names, **self.names},
        )

    def check(self, shown: object, real: str, st: os.stat_result | None) -> None:
        """Refuse ``real`` (the target's path with its folders resolved) when guarded."""
        if st is not None and _identity(st) in self.files:
            name = self.names.get(_identity(st))
            same = f" ({name})" if name and os.path.realpath(name) != real else ""
            raise _error(shown, f"refusing to overwrite an input file of this command{same}")
        if real in self.paths:
            raise _error(shown, "refusing to overwrite an input file of this command")
        for folder in self.folders:
            if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
                raise _error(shown, f"refusing to write into {folder}, which this command reads")


NO_GUARD = Guard()


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data


def _open_dir(path: Path, shown: object) -> int:
    try:
        return os.open(path, _DIR_FLAGS)
    except OSError as exc:
        raise _error(shown, f"cannot write: cannot open its folder ({exc.strerror or exc})") from None


def _lstat_at(dfd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _check_target(shown: object, st: os.stat_result | None) -> bool:
    """Refuse what is never written; ``True`` when the target is a device or FIFO to write into."""
    if st is None:
        return False
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        raise _error(
            shown, "is a symbolic link; appveto never writes through one (remove it or choose another name)"
        )
    if stat.S_ISDIR(mode):
        raise _error(shown, "is a directory")
    if stat.S_ISREG(mode):
        return False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    raise _error(shown, "exists and is neither a regular file, a character device nor a pipe")


class _Pending:
    """A temporary file in ``dfd`` that becomes ``name`` on :meth:`commit`; in a ``batch``
    (an :class:`OutputFolder`'s), :meth:`commit` only closes it and the folder syncs and
    installs the whole batch when it is closed."""

    def __init__(
        self,
        dfd: int,
        name: str,
        shown: object,
        *,
        exclusive: bool,
        own_dfd: bool,
        batch: list[_Pending] | None = None,
    ) -> None:
        self.dfd = dfd
        self.name = name
        self.shown = shown
        self.exclusive = exclusive
        self.own_dfd = own_dfd
        self.batch = batch
        self.tmp = f".appveto-{secrets.token_hex(6)}.tmp"
        try:
            self.fd = os.open(self.tmp, _TMP_FLAGS, FILE_MODE, dir_fd=dfd)
        except OSError as exc:
            self._close_dir()
            raise _error(shown, _reason(exc)) from None
        self.fh: IO[bytes] = os.fdopen(self.fd, "wb", closefd=True)

    def commit(self) -> None:
        if self.batch is not None:
            try:
                self.fh.flush()
                self.fh.close()
            except OSError as exc:
                self.discard()
                raise _error(self.shown, _reason(exc)) from None
            except BaseException:
                self.discard()
                raise
            self.batch.append(self)
            return
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            if self.exclusive:
                self._link_new()
            else:
                os.replace(self.tmp, self.name, src_dir_fd=self.dfd, dst_dir_fd=self.dfd)
        except OSError as exc:
            self.discard()
            if isinstance(exc, FileExistsError):
                raise _error(self.shown, "exists already; nothing was changed") from None
            raise _error(self.shown, _reason(exc)) from None
        except BaseException:
            self.discard()
            raise
        with suppress(OSError):  # not every file system syncs a folder
            os.fsync(self.dfd)
        self._close_dir()

    def install(self) -> None:
        """A batch's file, its data on disk already: give it its name."""
        try:
            os.replace(self.tmp, self.name, src_dir_fd=self.dfd, dst_dir_fd=self.dfd)
        except OSError as exc:
            self.discard()
            raise _error(self.shown, _reason(exc)) from None

    def fsync_data(self) -> None:
        fd = os.open(self.tmp, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=self.dfd)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _link_new(self) -> None:
        """Give the finished file its name only if that name is free (no replace)."""
        try:
            os.link(self.tmp, self.name, src_dir_fd=self.dfd, dst_dir_fd=self.dfd, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            # a file system without hard links: create the name exclusively, copy into it
            fd = os.open(self.name, _TMP_FLAGS, FILE_MODE, dir_fd=self.dfd)
            with os.fdopen(fd, "wb") as out, open(self.tmp, "rb", opener=self._opener) as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        os.unlink(self.tmp, dir_fd=self.dfd)

    def _opener(self, path: str, flags: int) -> int:
        return os.open(path, flags | _NOFOLLOW, dir_fd=self.dfd)

    def discard(self) -> None:
        with suppress(OSError):
            self.fh.close()
        with suppress(OSError):
            os.unlink(self.tmp, dir_fd=self.dfd)
        self._close_dir()

    def _close_dir(self) -> None:
        if self.own_dfd and self.dfd >= 0:
            with suppress(OSError):
                os.close(self.dfd)
            self.dfd = -1


class OutputFile:
    """An output being written: write to :attr:`fh` (binary, or text with ``text=True``),
    then :meth:`commit` (or :meth:`discard`). Use it as a context manager to commit on
    success and discard on an exception."""

    def __init__(
        self,
        pending: _Pending | None,
        device: IO[bytes] | None,
        *,
        shown: object,
        text: bool,
        newline: str | None,
    ) -> None:
        self.shown = shown
        self._pending = pending
        self._device = device
        raw = pending.fh if pending is not None else device
        assert raw is not None
        self.raw: IO[bytes] = raw
        self.fh: Any = raw
        if text:
            import io

            self.fh = io.TextIOWrapper(
                raw, encoding="utf-8", errors="backslashreplace", newline=newline, write_through=False
            )
        self._text = text
        self.done = False

    def write(self, data: str | bytes) -> None:
        try:
            self.fh.write(data)
        except OSError as exc:
            self.discard()
            raise _error(self.shown, _reason(exc)) from None

    def commit(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            if self._text:
                self.fh.flush()
            if self._pending is not None:
                self._pending.commit()
            elif self._device is not None:
                self._device.close()
        except OSError as exc:
            self.discard()
            raise _error(self.shown, _reason(exc)) from None

    def discard(self) -> None:
        self.done = True
        if self._pending is not None:
            self._pending.discard()
        elif self._device is not None:
            with suppress(OSError):
                self._device.close()

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, exc_type: object, exc: object, _tb: object) -> None:
        if exc_type is None:
            self.commit()
            return
        self.discard()
        if isinstance(exc, OSError):  # written straight into fh: a full disk, a size limit
            raise _error(self.shown, _reason(exc)) from None


def _start(
    dfd: int,
    name: str,
    shown: object,
    real: str,
    guard: Guard,
    *,
    exclusive: bool,
    own_dfd: bool,
    text: bool,
    newline: str | None,
    batch: list[_Pending] | None = None,
) -> OutputFile:
    try:
        st = _lstat_at(dfd, name)
        if st is not None and stat.S_ISLNK(st.st_mode):  # say so when it points at an input
            with suppress(OSError):
                guard.check(shown, os.path.realpath(real), os.stat(name, dir_fd=dfd))
        device = _check_target(shown, st)
        guard.check(shown, real, st)
        if exclusive and st is not None:
            raise _error(shown, "exists already; nothing was changed")
        if device:
            try:
                fd = os.open(name, os.O_WRONLY | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=dfd)
            except OSError as exc:
                raise _error(shown, _reason(exc)) from None
            if own_dfd:
                os.close(dfd)
            return OutputFile(None, os.fdopen(fd, "wb"), shown=shown, text=text, newline=newline)
    except BaseException:
        if own_dfd:
            with suppress(OSError):
                os.close(dfd)
        raise
    return OutputFile(
        _Pending(dfd, name, shown, exclusive=exclusive, own_dfd=own_dfd, batch=batch),
        None,
        shown=shown,
        text=text,
        newline=newline,
    )


def open_file(
    path: str | os.PathLike[str],
    *,
    guard: Guard = NO_GUARD,
    text: bool = False,
    newline: str | None = None,
    exclusive: bool = False,
) -> OutputFile:
    """Start writing ``path`` (its folder is created when missing); see the module.

    ``exclusive``: refuse when ``path`` exists (and never replace it, even in a race).
    """
    target = Path(path)
    name = target.name
    if name in ("", ".", ".."):
        raise _error(path, "is a directory")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _error(path, f"cannot write: cannot create its folder ({exc.strerror or exc})") from None
    dfd = _open_dir(parent, path)
    real = os.path.join(os.path.realpath(parent), name)
    return _start(dfd, name, path, real, guard, exclusive=exclusive, own_dfd=True, text=text, newline=newline)


def write_file(
    path: str | os.PathLike[str], data: str | bytes, *, guard: Guard = NO_GUARD, exclusive: bool = False
) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` atomically; see the module."""
    with open_file(path, guard=guard, exclusive=exclusive) as out:
        out.write(_as_bytes(data))
    return Path(path)


def _syncfs() -> Any:
    """``syncfs(2)`` (Linux), or ``None``."""
    if not hasattr(os, "sched_getaffinity"):  # not Linux
        return None
    try:
        import ctypes

        fn = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    return fn


def _sync(batch: list[_Pending]) -> None:
    """Flush the data of every file of ``batch`` to disk: one ``syncfs`` per file system
    (which reports write-back errors, a full disk among them, since Linux 5.8), else one
    ``fsync`` per file."""
    import ctypes

    syncfs = _syncfs()
    synced: set[int] = set()
    for p in batch:
        dev = os.fstat(p.dfd).st_dev
        if dev in synced:
            continue
        if syncfs is not None:
            if syncfs(p.dfd) == 0:
                synced.add(dev)
                continue
            err = ctypes.get_errno()
            if err not in (errno.ENOSYS, errno.EINVAL):
                raise OSError(err, os.strerror(err))
        p.fsync_data()


def _collision_key(rel: str) -> str:
    return unicodedata.normalize("NFC", rel).casefold()


RECORD = ".appveto-written"
"""The list of the files a command's last run wrote into an :class:`OutputFolder`."""

_RECORD_HEAD = "# the files {owner} wrote into this folder on its last run, one a line\n"
_RECORD_MAX = 32 << 20


class OutputFolder:
    """A folder a command writes several files into (notices, an export bundle, pages).

    The folder itself (created when missing) and every folder inside it are opened
    without following symbolic links: a link already there is refused. With
    ``empty=True`` a folder that holds anything is refused. Close it (or use it as a
    context manager) to release the folder handles.

    With ``record`` (a file name such as :data:`RECORD`; ``owner`` names the command in
    messages), the folder keeps the list of the files written by the last run: an existing
    file under a name this run writes is refused unless that list holds it or
    ``replace_foreign``, and on a successful close the files of the last run not written
    again are removed (:attr:`removed`) before the list is replaced by this run's.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        guard: Guard = NO_GUARD,
        empty: bool = False,
        what: str = "",
        record: str | None = None,
        owner: str = "appveto",
        replace_foreign: bool = False,
    ) -> None:
        self.root = Path(root)
        self.guard = guard
        self.record = record
        self.owner = owner
        self.replace_foreign = replace_foreign
        self.removed: list[str] = []
        """Files of the last run (listed in ``record``) that this one removed."""
        self._previous: set[str] = set()
        self._batch: list[_Pending] = []
        self._written: dict[str, str] = {}
        self._dirs: dict[str, int] = {}
        try:
            st = os.stat(self.root, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise _error(self.root, f"cannot open the folder: {exc.strerror or exc}") from None
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise _error(
                self.root,
                "is a symbolic link; appveto never writes through one (give the folder it points to)",
            )
        if st is not None and not stat.S_ISDIR(st.st_mode):
            raise _error(self.root, "exists and is not a folder")
        self.real = os.path.realpath(self.root)
        guard.check(self.root, self.real, None)
        if st is None:
            try:
                self.root.mkdir(parents=True)
            except FileExistsError:
                pass
            except OSError as exc:
                raise _error(self.root, f"cannot create the folder: {exc.strerror or exc}") from None
        try:
            self._dirs[""] = os.open(self.root, _DIR_FLAGS | _NOFOLLOW)
        except OSError as exc:
            raise _error(self.root, f"cannot open the folder: {exc.strerror or exc}") from None
        if empty:
            left = sorted(os.listdir(self._dirs[""]))
            if left:
                self._close_dirs()
                shown = ", ".join(left[:3]) + (", ..." if len(left) > 3 else "")
                raise _error(self.root, f"is not empty ({shown}){what}")
        if record is not None:
            try:
                self._previous = self._read_record(record)
            except BaseException:
                self._close_dirs()
                raise

    def _read_record(self, record: str) -> set[str]:
        shown = self.root / record
        try:
            flags = os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)  # a FIFO: no wait
            fd = os.open(record, flags, dir_fd=self._dirs[""])
        except FileNotFoundError:
            return set()
        except OSError as exc:
            reason = f"cannot read the list of the files written here: {exc.strerror or exc}"
            raise _error(shown, reason) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _error(shown, "is not a regular file")
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(_RECORD_MAX + 1)
        if len(data) > _RECORD_MAX:
            raise _error(shown, f"is larger than {_RECORD_MAX >> 20} MiB")
        text = data.decode("utf-8", "surrogateescape")
        return {line for line in text.split("\n")[1:] if line}

    @property
    def written(self) -> tuple[str, ...]:
        """The relative names written so far, in order."""
        return tuple(self._written.values())

    def _dir(self, parts: list[str], shown: object) -> int:
        key = ""
        dfd = self._dirs[""]
        for part in parts:
            key = f"{key}/{part}"
            known = self._dirs.get(key)
            if known is not None:
                dfd = known
                continue
            st = _lstat_at(dfd, part)
            if st is None:
                try:
                    os.mkdir(part, 0o777, dir_fd=dfd)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise _error(shown, f"cannot create its folder: {exc.strerror or exc}") from None
                st = _lstat_at(dfd, part)
            if st is None or stat.S_ISLNK(st.st_mode):
                raise _error(
                    shown, f"'{part}' on the way is a symbolic link; appveto never writes through one"
                )
            if not stat.S_ISDIR(st.st_mode):
                raise _error(shown, f"'{part}' on the way is not a folder")
            try:
                dfd = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=dfd)
            except OSError as exc:
                raise _error(shown, f"cannot open its folder '{part}': {exc.strerror or exc}") from None
            self._dirs[key] = dfd
        return dfd

    def open(self, rel: str, *, text: bool = False, newline: str | None = None) -> OutputFile:
        """Start writing ``rel`` (a relative path with ``/`` between folders)."""
        parts = rel.split("/")
        shown = self.root / rel
        if not rel or rel.startswith("/") or any(p in ("", ".", "..") or "\0" in p for p in parts):
            raise _error(shown, "is not a plain relative file name")
        key = _collision_key(rel)
        if self.record is not None:
            if key == _collision_key(self.record):
                raise _error(shown, f"is the list of the files {self.owner} wrote here; not a file to write")
            if "\n" in rel or "\r" in rel:
                raise _error(shown, "holds a line break; not a file name to write")
        if key in self._written:
            first = self._written[key]
            same = "" if first == rel else f" as '{first}'"
            raise _error(shown, f"would be written twice in this run (the same file name{same})")
        dfd = self._dir(parts[:-1], shown)
        if self.record is not None and not self.replace_foreign and rel not in self._previous:
            st = _lstat_at(dfd, parts[-1])
            if st is not None and stat.S_ISREG(st.st_mode):
                raise _error(
                    shown,
                    f"exists and was not written by {self.owner} (it is not in {self.record}); "
                    "move it away or give --force to replace it",
                )
        out = self._start(dfd, parts, text=text, newline=newline)
        self._written[key] = rel
        return out

    def _start(
        self, dfd: int, parts: list[str], *, text: bool = False, newline: str | None = None
    ) -> OutputFile:
        """A file of this folder's batch: ``parts`` is its path, ``dfd`` its open folder."""
        return _start(
            dfd,
            parts[-1],
            self.root.joinpath(*parts),
            os.path.join(self.real, *parts),
            self.guard,
            exclusive=False,
            own_dfd=False,
            text=text,
            newline=newline,
            batch=self._batch,
        )

    def write(self, rel: str, data: str | bytes) -> Path:
        """Write ``rel`` atomically; see the module."""
        with self.open(rel) as out:
            out.write(_as_bytes(data))
        return self.root / rel

    def finish(self) -> None:
        """Put every file written so far in place: their data is flushed to disk first (one
        ``syncfs`` per file system, not one ``fsync`` per file: a thousand notices cost a
        fraction of a second, not ten), then each is renamed over its target, then each
        folder is synced. When the data cannot be flushed (a full disk), no file is put in
        place and the previous ones are left as they were."""
        batch, self._batch[:] = list(self._batch), []
        if not batch:
            return
        try:
            _sync(batch)
        except OSError as exc:
            for p in batch:
                p.discard()
            raise _error(self.root, _reason(exc)) from None
        errors: list[Diagnostic] = []
        for i, p in enumerate(batch):
            try:
                p.install()
            except OutputError as exc:
                errors += exc.diagnostics()
            except BaseException:
                for rest in batch[i:]:
                    rest.discard()
                raise
        for fd in {p.dfd for p in batch}:
            with suppress(OSError):  # not every file system syncs a folder
                os.fsync(fd)
        if errors:
            raise OutputError(str(errors[0]), diagnostics=tuple(errors))

    def discard(self) -> None:
        """Drop every file written so far (none is put in place)."""
        batch, self._batch[:] = list(self._batch), []
        for p in batch:
            p.discard()

    def close(self) -> None:
        """:meth:`finish` (and, with a ``record``, remove the last run's files this one did
        not write and replace the list), then release the folder handles."""
        try:
            self.finish()
            if self.record is not None:
                self._settle_record(self.record)
        finally:
            self._close_dirs()

    def _settle_record(self, record: str) -> None:
        written = list(self._written.values())
        kept: list[str] = []
        for rel in sorted(self._previous - set(written)):
            parts = rel.split("/")
            folder = "".join(f"/{p}" for p in parts[:-1])
            dfd = self._dirs.get(folder) if folder else self._dirs[""]
            st = _lstat_at(dfd, parts[-1]) if dfd is not None and "" not in parts else None
            if st is None or dfd is None:
                continue  # gone already, or in a folder this run did not open: nothing to do
            if not stat.S_ISREG(st.st_mode):
                kept.append(rel)  # replaced by a folder, a link...: not the file it wrote
                continue
            try:
                os.unlink(parts[-1], dir_fd=dfd)
                self.removed.append(rel)
            except OSError:
                kept.append(rel)
        text = _RECORD_HEAD.format(owner=self.owner) + "".join(f"{r}\n" for r in [*written, *kept])
        with self._start(self._dirs[""], [record]) as out:
            out.write(text.encode("utf-8", "surrogateescape"))
        self.finish()

    def _close_dirs(self) -> None:
        for fd in self._dirs.values():
            with suppress(OSError):
                os.close(fd)
        self._dirs.clear()

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.discard()
            self._close_dirs()
        else:
            self.close()


@contextmanager
def folder(root: str | os.PathLike[str], **kw: Any) -> Iterator[OutputFolder]:
    with OutputFolder(root, **kw) as f:
        yield f


def store_files(url_or_path: str | os.PathLike[str] | None) -> list[str]:
    """A SQLite database file and the companions SQLite keeps beside it, to guard."""
    if url_or_path is None:
        return []
    p = os.fspath(url_or_path)
    if "://" in p:
        if not p.startswith("sqlite"):
            return []
        p = p.split(":///", 1)[-1].split("?", 1)[0]
        if not p or p == ":memory:":
            return []
    return [p, *(p + s for s in SQLITE_COMPANIONS)]
