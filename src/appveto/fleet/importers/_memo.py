"""A bounded memo of what importers computed from texts they read before.

A fleet repeats the same few hundred apps from device to device: the importers remember,
for each app text they have read and checked in full (an AMAPI application report's JSON,
an Apple app dictionary), what it gave, and look the next identical text up instead of
reading it again. What a text gives is a pure function of the text (and of its group:
the key sequence of a plist table, a platform), so the memo changes no result; it only
costs memory, which :class:`Memo` bounds over all its groups.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


MAX_TEXT = 1_024
"""Longer texts are read each time, not remembered: memory stays under ``limit`` times this."""


class Memo(Generic[K, V]):
    """Entries by group, at most ``limit`` in all: past it, every group starts afresh.

    Readers take a group's dictionary (:meth:`group`) and look many keys up in one C-level
    pass; what was not found is computed and added with :meth:`add`, with the length of
    the text it stands for (a text longer than :data:`MAX_TEXT` is not remembered).
    """

    __slots__ = ("_groups", "held", "limit")

    def __init__(self, limit: int = 65_536) -> None:
        self.limit = limit
        self.held = 0
        self._groups: dict[Hashable, dict[K, V]] = {}

    def group(self, name: Hashable) -> dict[K, V]:
        found = self._groups.get(name)
        if found is None:
            found = self._groups[name] = {}
        return found

    def add(self, name: Hashable, key: K, value: V, size: int) -> None:
        if size > MAX_TEXT:
            return
        if self.held >= self.limit:
            for entries in self._groups.values():
                entries.clear()
            self._groups.clear()
            self.held = 0
        self.group(name)[key] = value
        self.held += 1
