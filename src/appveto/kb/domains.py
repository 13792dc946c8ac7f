"""Host names -> registrable domains through the Public Suffix List (offline copy).

The list ships inside the ``publicsuffixlist`` package and is refreshed by its
maintainers; nothing here touches the network.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str | None:
    """``a.b.example.co.uk`` -> ``example.co.uk``; None for IP literals and bare suffixes."""
    h = host.strip().strip(".").casefold()
    if not h or is_ip_literal(h):
        return None
    result: str | None = _psl().privatesuffix(h)
    return result


@lru_cache(maxsize=65536)
def public_suffix(host: str) -> str | None:
    h = host.strip().strip(".").casefold()
    if not h or is_ip_literal(h):
        return None
    result: str | None = _psl().publicsuffix(h)
    return result


def has_known_suffix(host: str) -> bool:
    """True when the host ends in a suffix the list knows (unknown TLDs are rejected)."""
    return public_suffix(host) is not None
