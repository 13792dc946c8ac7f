"""Hostile APK bytes -> an immutable typed model. Parses; never judges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appveto.apk.model import Apk

__all__ = ["load_apk"]


def load_apk(path: str, **kwargs: Any) -> Apk:
    """Read the APK at ``path`` into an :class:`~appveto.apk.model.Apk` (see ``loader``)."""
    from appveto.apk.loader import load_apk as _load

    return _load(path, **kwargs)
