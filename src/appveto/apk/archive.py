"""The APK's zip reader: :mod:`appveto.archive`, shared with the IPA reader.

Kept as an import path of the APK package (``from appveto.apk.archive import open_archive``).
"""

from __future__ import annotations

from appveto.archive import Archive, Limits, open_archive

__all__ = ["Archive", "Limits", "open_archive"]
