"""Host names -> registrable domains through the Public Suffix List (offline copy).

The one reader of the list in appveto: the list ships inside the ``publicsuffixlist``
package and is refreshed by its maintainers; nothing here touches the network. Two views
are kept: the whole list (private entries such as ``googleapis.com`` or ``blogspot.com``
are registrable domains of their own) and its ICANN section only (the domain a company
registered), which owner lookups walk up to.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


@lru_cache(maxsize=1)
def _icann() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False, only_icann=True)


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _norm(host: str) -> str:
    return host.strip().strip(".").casefold()


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str | None:
    """``a.b.example.co.uk`` -> ``example.co.uk``; None for IP literals and bare suffixes."""
    h = _norm(host)
    if not h or is_ip_literal(h):
        return None
    result: str | None = _psl().privatesuffix(h)
    return result


@lru_cache(maxsize=65536)
def icann_registrable_domain(host: str) -> str | None:
    """The registrable domain by the ICANN section alone: ``www.googleapis.com`` ->
    ``googleapis.com`` (the whole list says ``www.googleapis.com``)."""
    h = _norm(host)
    if not h or is_ip_literal(h):
        return None
    result: str | None = _icann().privatesuffix(h)
    return result


def owner_candidates(host: str) -> tuple[str, ...]:
    """The names an owner may be recorded under, most specific first: the host, then each
    parent, through the private suffixes, down to the ICANN registrable domain (never a
    public suffix)."""
    h = _norm(host)
    top = icann_registrable_domain(h)
    if top is None:
        return ()
    labels = h.split(".")
    out: list[str] = []
    for i in range(len(labels)):
        name = ".".join(labels[i:])
        out.append(name)
        if name == top:
            break
    return tuple(out)


@lru_cache(maxsize=65536)
def public_suffix(host: str) -> str | None:
    h = _norm(host)
    if not h or is_ip_literal(h):
        return None
    result: str | None = _psl().publicsuffix(h)
    return result


def has_known_suffix(host: str) -> bool:
    """True when the host ends in a suffix the list knows (unknown TLDs are rejected)."""
    return public_suffix(host) is not None


def is_listed_suffix(name: str) -> bool:
    """True when some suffix of ``name`` is a rule of the list (``accept_unknown=False``)."""
    return public_suffix(name) is not None
