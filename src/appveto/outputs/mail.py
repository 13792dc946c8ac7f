"""The e-mail rule: a header holds exactly what it says, whatever a directory holds.

Addresses are built with :class:`email.headerregistry.Address` from a display name and an
address given apart, never by pasting text together: ``Mallory <mallory@evil.example>,
Bob`` is then one quoted display name, not two recipients. A carriage return or line
feed in a display name, an address or any other header value is refused (it would start
a new header); an address that is not exactly one ``local@domain`` is refused. Other
control and bidi characters in a display name are made visible as in the terminal.
Refusals are :class:`MailValueError` with a message for people, so a batch can report the
row and go on.
"""

from __future__ import annotations

import email.errors
import functools
from email.headerregistry import Address, HeaderRegistry

from appveto.outputs import terminal


class MailValueError(ValueError):
    """A value cannot go into an e-mail header; the message says which and why."""


def _no_line_breaks(value: str, what: str) -> None:
    if "\r" in value or "\n" in value:
        raise MailValueError(f"{what} {terminal.line(value)!s} holds a line break")


def address(addr: str, display_name: str | None = None, *, what: str = "e-mail address") -> Address:
    """One mailbox: ``display_name`` (optional) and ``addr`` (``local@domain``)."""
    _no_line_breaks(addr, what)
    if display_name is not None:
        _no_line_breaks(display_name, "display name")
    addr = addr.strip()
    try:
        parsed = Address(addr_spec=addr)
    except (ValueError, IndexError, email.errors.MessageError):
        raise MailValueError(
            f"{what} '{terminal.line(addr)}' is not one address of the form local@domain"
        ) from None
    if not parsed.username or not parsed.domain or parsed.addr_spec != addr:
        raise MailValueError(f"{what} '{terminal.line(addr)}' is not one address of the form local@domain")
    name = terminal.line(display_name.strip()) if display_name else ""
    return Address(display_name=name, username=parsed.username, domain=parsed.domain)


@functools.lru_cache(maxsize=64)  # a batch of notices parses the same sender each time
def mailbox(text: str, *, what: str = "address") -> Address:
    """One mailbox written as people write it: ``local@domain`` or ``Name <local@domain>``
    (a command-line option such as ``--sender``); anything else is refused."""
    _no_line_breaks(text, what)
    found: tuple[Address, ...] = ()
    try:
        header = HeaderRegistry()("From", text)
        if not header.defects:
            found = tuple(header.addresses)  # type: ignore[attr-defined]
    except (ValueError, IndexError, email.errors.MessageError):
        pass
    if len(found) != 1:
        raise MailValueError(
            f"{what} '{terminal.line(text)}' is not one address (local@domain or Name <local@domain>)"
        )
    return address(found[0].addr_spec, found[0].display_name or None, what=what)


def header_text(value: str, what: str) -> str:
    """A free-text header value (an ID, a subject part): refused when it holds a line break."""
    _no_line_breaks(value, what)
    return terminal.line(value)
