"""The plain shapes in which inventory rows travel from importers to the store's writer.

Both the writer (:mod:`appveto.fleet._writer`) and the worker-side recording
(:mod:`appveto.fleet._parallel`) use them: tuples of strings, integers and datetimes,
which are cheap to compare, hash and send between processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from appveto.fleet.model import DeviceRecord

AppKey = tuple[str, str | None, str | None, str | None, str | None]
"""An app record as an importer gives it: platform, app ID, name, version, source."""

DeviceValues = tuple[
    str,  # source_device_id
    str | None,  # name
    str,  # platform
    str,  # ownership
    str,  # management_mode
    str | None,  # user
    str | None,  # serial_number
    str | None,  # model
    str | None,  # os_version
    datetime | None,  # enrolled_at, naive UTC
    datetime | None,  # last_report_at, naive UTC
]
"""A device record as the writer stores it (enums as their values, times in naive UTC)."""


def device_values(r: DeviceRecord) -> DeviceValues:
    return (
        r.source_device_id,
        r.name,
        r.platform.value,
        r.ownership.value,
        r.management_mode.value,
        r.user,
        r.serial_number,
        r.model,
        r.os_version,
        r.enrolled_at.astimezone(UTC).replace(tzinfo=None) if r.enrolled_at else None,
        r.last_report_at.astimezone(UTC).replace(tzinfo=None) if r.last_report_at else None,
    )


def numbers_of(
    keys: Sequence[AppKey], known: Callable[[AppKey], int | None], add: Callable[[AppKey], int]
) -> list[int]:
    """The number of each key: ``known(key)``, else ``add(key)`` (once per new key, in order).

    The lookups run as one C-level pass; only keys not known yet cost Python steps.
    """
    found = list(map(known, keys))
    if None in found:
        for i, number in enumerate(found):
            if number is None:
                key = keys[i]
                again = known(key)  # an earlier position may have added it
                found[i] = add(key) if again is None else again
    return found  # type: ignore[return-value]  # no None is left
