"""Vendor platform names -> :class:`Platform`."""

from __future__ import annotations

from appveto.fleet.model import Platform

_BY_WORD: tuple[tuple[str, Platform], ...] = (
    ("ipados", Platform.IPADOS),
    ("ipad", Platform.IPADOS),
    ("ios", Platform.IOS),
    ("iphone", Platform.IOS),
    ("android", Platform.ANDROID),
    ("windows", Platform.WINDOWS),
    ("macos", Platform.MACOS),
    ("darwin", Platform.MACOS),
    ("mac", Platform.MACOS),
    ("chrome", Platform.CHROMEOS),
    ("linux", Platform.LINUX),
    ("ubuntu", Platform.LINUX),
    ("debian", Platform.LINUX),
    ("rhel", Platform.LINUX),
    ("fedora", Platform.LINUX),
    ("centos", Platform.LINUX),
)


def platform_of(value: object) -> Platform:
    """Intune ``Platform``/``operatingSystem``, Graph ``detectedAppPlatformType``, Fleet ``platform``."""
    if not isinstance(value, str):
        return Platform.UNKNOWN
    v = value.strip().lower()
    for word, platform in _BY_WORD:
        if word in v:
            return platform
    return Platform.UNKNOWN
