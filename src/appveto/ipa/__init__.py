"""Hostile IPA bytes -> an immutable typed model. Parses; never judges.

``load_ipa(path)`` is the one entry point (what ``scan`` will call for ``.ipa`` files);
the model is :mod:`appveto.ipa.model`. See ``docs/ios.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appveto.ipa.model import Ipa

__all__ = ["load_ipa"]


def load_ipa(path: str, **kwargs: Any) -> Ipa:
    """Read the IPA at ``path`` into an :class:`~appveto.ipa.model.Ipa` (see ``loader``)."""
    from appveto.ipa.loader import load_ipa as _load

    return _load(path, **kwargs)
