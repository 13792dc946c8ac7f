"""What an inventory importer is, and what it writes into.

An importer reads one file of one source and streams what it finds into an
:class:`InventorySink`: first a device (:meth:`InventorySink.device`), then that
device's apps (:meth:`InventorySink.app`, the hot path: plain strings, no objects).
Bad rows go to :meth:`InventorySink.bad` with their line (and entry path where a
format has no useful line), never silently dropped. A file that is not what the
importer reads raises :class:`~appveto.errors.FleetError` located at file:line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from appveto.errors import Diagnostic, FleetError
from appveto.fleet._rows import AppKey
from appveto.fleet.model import DeviceRecord


class InventorySink(Protocol):
    def device(
        self, record: DeviceRecord, *, line: int | None, entry: str | None = None, repeat: bool = False
    ) -> bool:
        """Declare a device before its apps.

        ``repeat=False`` (one object per device, e.g. AMAPI): a second declaration of the
        same device ID in the import is a duplicate: it is reported as a bad row and
        ``False`` is returned; the caller then counts the entry's apps as bad.
        ``repeat=True`` (one row per app, e.g. Intune CSV): declaring the same device
        again is normal; a declaration that contradicts the first is reported once.
        """
        ...

    def app(
        self,
        device_key: str,
        platform: str,
        app_id: str | None,
        name: str | None,
        version: str | None,
        source: str | None,
    ) -> None:
        """One installed app of a declared device (``device_key`` is its source device ID)."""
        ...

    def apps(
        self,
        device_key: str,
        platform: str,
        app_ids: Iterable[str | None],
        names: Iterable[str | None],
        versions: Iterable[str | None],
        sources: Iterable[str | None],
    ) -> None:
        """Several installed apps of one declared device, as columns of equal length.

        The same as :meth:`app` for each position, in order; importers that already hold
        a device's apps column by column (a parsed JSON array, a plist array) use it so that
        the sink handles them with a few C-level passes.
        """
        ...

    def keyed_apps(self, device_key: str, keys: Sequence[AppKey]) -> None:
        """Several installed apps of one declared device, each as the tuple
        ``(platform, app_id, name, version, source)`` that :meth:`app` takes as arguments.

        The same as :meth:`app` for each key, in order. Importers that remember the key of
        an app text they have read before hand over the same tuple object again, which
        the sink looks up without hashing its strings anew.
        """
        ...

    def bad(self, message: str, *, line: int | None, entry: str | None = None, rows: int = 1) -> None:
        """``rows`` rows could not be imported, for the reason ``message``."""
        ...

    def skip(self, reason: str, rows: int = 1) -> None:
        """``rows`` rows were read and deliberately not imported (e.g. an app reported REMOVED)."""
        ...

    def note(self, message: str, *, line: int | None, entry: str | None = None) -> None:
        """A problem that did not cost a row (a field that was ignored)."""
        ...


class InventoryImporter(Protocol):
    """One inventory source. ``name`` is the registry key and the CLI's ``--source`` value."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    def read(self, path: Path, display: str, sink: InventorySink) -> None:
        """Stream ``path`` into ``sink``; ``display`` is the file name used in messages."""
        ...


def refuse(
    display: str,
    message: str,
    *,
    line: int | None = None,
    column: int | None = None,
    entry: str | None = None,
) -> FleetError:
    """The error for a file that is not what ``--source`` says (or cannot be read at all)."""
    diag = Diagnostic(message, file=display, line=line, column=column, entry=entry)
    return FleetError(str(diag), diagnostics=(diag,))
