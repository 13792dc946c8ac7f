"""Inventory files read in worker processes, written by the one importing process.

An import of many large files spends most of its time in the importers' per-row Python
(JSON objects, plist dictionaries, CSV rows), and a database takes one writer at a time.
So the files are read in a process pool: each worker runs the file's importer into a
:class:`RecordingSink`, which keeps everything the importer said, in order, in a compact
form (one integer per app row, each distinct app record once, each device once). The
importing process replays the recordings into the store's writer, file by file in the
order given, so an import gives exactly what the same files imported one after the
other give: the same device and app IDs, rows, counts and issues (a test compares the
two ways on every source).

What a worker cannot know is what earlier files declared. The one thing that changes an
importer's course is a device declared again in a later file (``repeat=False``): the
writer refuses it and the importer then counts its apps as bad. When a recording holds
such a device, the importing process reads that file again itself, straight into the
writer, as a serial import would.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from array import array
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

from appveto.errors import Diagnostic, FleetError
from appveto.fleet._rows import AppKey, DeviceValues, device_values, numbers_of
from appveto.fleet.importers import IMPORTERS
from appveto.fleet.model import DeviceRecord
from appveto.lifeline import Lifeline

PARALLEL_MIN_BYTES = 8 * 2**20
"""Below this much input, an import is read in the importing process (no pool to start)."""

_DEVICE_SHIFT = 32
_APP_MASK = (1 << _DEVICE_SHIFT) - 1


# Events are named tuples, not slotted dataclasses: a recording holds one per device and
# the importing process unpickles them, which for a tuple is C work, not a Python call.


class DeviceEvent(NamedTuple):
    values: DeviceValues
    line: int | None
    entry: str | None
    repeat: bool
    accepted: bool
    """What the worker answered: ``False`` for a second declaration within the file."""


class BadEvent(NamedTuple):
    message: str
    line: int | None
    entry: str | None
    rows: int


class SkipEvent(NamedTuple):
    reason: str
    rows: int


class NoteEvent(NamedTuple):
    message: str
    line: int | None
    entry: str | None


Event = DeviceEvent | BadEvent | SkipEvent | NoteEvent


class RecordingSink:
    """An :class:`~appveto.fleet.importers.InventorySink` that records one file's import.

    Devices are numbered in the order the file declares them (``device_keys``) and app
    records in the order first seen (``app_keys``); each app row is the integer
    ``device_number << 32 | app_number`` in ``rows``.
    """

    __slots__ = (
        "_apps",
        "_devices",
        "_differs",
        "_first_hash",
        "app",
        "app_keys",
        "device_keys",
        "events",
        "rows",
    )

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.device_keys: list[str] = []
        self.app_keys: list[AppKey] = []
        self.rows: array[int] = array("q")
        self._devices: dict[str, int] = {}
        self._first_hash: dict[str, int] = {}
        self._differs: set[str] = set()
        self._apps: dict[AppKey, int] = {}
        self.app = self._make_app()

    def device(
        self, record: DeviceRecord, *, line: int | None, entry: str | None = None, repeat: bool = False
    ) -> bool:
        key = record.source_device_id
        number = self._devices.get(key)
        if number is None:
            values = device_values(record)
            self._devices[key] = len(self.device_keys) << _DEVICE_SHIFT
            self.device_keys.append(key)
            self._first_hash[key] = hash(values)
            self.events.append(DeviceEvent(values, line, entry, repeat, True))
            return True
        if not repeat:
            self.events.append(DeviceEvent(device_values(record), line, entry, repeat, False))
            return False
        # A repeated declaration matters only where it may differ from the import's first
        # one: the file's first declaration (kept above) and the first that differs from it.
        if key not in self._differs:
            values = device_values(record)
            if hash(values) != self._first_hash[key]:
                self._differs.add(key)
                self.events.append(DeviceEvent(values, line, entry, repeat, True))
        return True

    def _make_app(self) -> Callable[[str, str, str | None, str | None, str | None, str | None], None]:
        """The hot path (:meth:`InventorySink.app`), as a closure over local names."""
        apps = self._apps
        apps_get = apps.get
        keys = self.app_keys
        add_key = keys.append
        devices = self._devices
        add_row = self.rows.append

        def app(
            device_key: str,
            platform: str,
            app_id: str | None,
            name: str | None,
            version: str | None,
            source: str | None,
        ) -> None:
            key = (platform, app_id, name, version, source)
            number = apps_get(key)
            if number is None:
                number = apps[key] = len(keys)
                add_key(key)
            add_row(devices[device_key] | number)

        return app

    def apps(
        self,
        device_key: str,
        platform: str,
        app_ids: Iterable[str | None],
        names: Iterable[str | None],
        versions: Iterable[str | None],
        sources: Iterable[str | None],
    ) -> None:
        self.keyed_apps(device_key, list(zip(repeat(platform), app_ids, names, versions, sources)))

    def keyed_apps(self, device_key: str, keys: Sequence[AppKey]) -> None:
        numbers = numbers_of(keys, self._apps.get, self._new_app)
        self.rows.extend(map(self._devices[device_key].__or__, numbers))

    def _new_app(self, key: AppKey) -> int:
        number = self._apps[key] = len(self.app_keys)
        self.app_keys.append(key)
        return number

    def bad(self, message: str, *, line: int | None, entry: str | None = None, rows: int = 1) -> None:
        self.events.append(BadEvent(message, line, entry, rows))

    def skip(self, reason: str, rows: int = 1) -> None:
        self.events.append(SkipEvent(reason, rows))

    def note(self, message: str, *, line: int | None, entry: str | None = None) -> None:
        self.events.append(NoteEvent(message, line, entry))


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """One file read by a worker: its recording, or why the file was refused."""

    path: Path
    display: str
    refusals: tuple[Diagnostic, ...]
    events: tuple[Event, ...] = ()
    device_keys: tuple[str, ...] = ()
    app_keys: tuple[AppKey, ...] = ()
    rows: array[int] = field(default_factory=lambda: array("q"))

    def translated_rows(self, devices: Sequence[int], apps: Sequence[int]) -> list[int]:
        """The rows with the store's IDs: ``devices`` (shifted) and ``apps`` by number."""
        mask = _APP_MASK
        return [devices[r >> _DEVICE_SHIFT] | apps[r & mask] for r in self.rows]


def read_file(source: str, path: Path, display: str) -> ParsedFile:
    """The worker's job: read one file with the named importer into a recording."""
    sink = RecordingSink()
    # A recording allocates a few objects per row and frees nothing until it is sent: the
    # cyclic collector would only re-scan it (about a tenth of a worker's time); a file's
    # cyclic garbage, if any, is collected when the collector is back on.
    collecting = gc.isenabled()
    gc.disable()
    try:
        IMPORTERS[source].read(path, display, sink)
    except FleetError as exc:
        return ParsedFile(path, display, exc.diagnostics())
    except OSError as exc:
        return ParsedFile(path, display, (Diagnostic(f"cannot read: {exc.strerror or exc}", file=display),))
    finally:
        if collecting:
            gc.enable()
    return ParsedFile(
        path,
        display,
        (),
        tuple(sink.events),
        tuple(sink.device_keys),
        tuple(sink.app_keys),
        sink.rows,
    )


def default_jobs(paths: Sequence[Path]) -> int:
    """How many worker processes suit these files: one per core, none for small imports."""
    if len(paths) < 2:
        return 1
    size = 0
    for p in paths:
        try:
            size += p.stat().st_size
        except OSError:
            continue  # the importer reports it
    if size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(_cores(), len(paths)))


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def read_in_pool(
    source: str, paths: Sequence[Path], names: Sequence[str], jobs: int
) -> Generator[ParsedFile | None, None, None]:
    """Read ``paths`` in ``jobs`` worker processes; yields the recordings in the given order.

    ``None`` for a file means: read it yourself. That is what the pool answers for every
    file from the first it could not read on, when a worker died (killed, out of memory)
    or the pool could not start: the import then goes on in the importing process.

    At most ``2 * jobs + 1`` files are read ahead of the one being written (workers keep
    busy while the writer catches up on a slow file), so memory stays bounded by a few
    files' recordings whatever the number of files.
    """
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding a database connection
    ahead = 2 * jobs + 1
    todo = iter(zip(paths, names, strict=True))
    pending: list[Future[ParsedFile]] = []
    lost = 0  # files taken from todo that no future stands for (their submit failed)
    try:
        lifeline = Lifeline(ctx)  # workers die with this process, even on kill -9
    except OSError:
        lifeline = None
    try:
        pool = lifeline.pool(jobs) if lifeline is not None else None
    except (OSError, ValueError):
        pool = None
    if pool is not None:
        broken = False
        try:
            for path, name in todo:
                lost = 1
                pending.append(pool.submit(read_file, source, path, name))
                lost = 0
                if len(pending) >= ahead:
                    break
            while pending:
                parsed = pending[0].result()
                pending.pop(0)
                yield parsed
                nxt = next(todo, None)
                if nxt is not None:
                    lost = 1
                    pending.append(pool.submit(read_file, source, *nxt))
                    lost = 0
        except (BrokenProcessPool, OSError):
            broken = True
        finally:
            for f in pending:
                f.cancel()
            pool.shutdown(wait=not broken, cancel_futures=True)
    if lifeline is not None:
        lifeline.close()
    # what the pool did not read: the importing process reads it
    for _ in range(len(pending) + lost):
        yield None
    for _ in todo:
        yield None
