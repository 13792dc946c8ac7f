"""Roles, permissions and the one table that decides access (DESIGN.md, convention 13).

Every route of :mod:`appveto.web.app` names one :class:`Permission`; :data:`RULES` says
which roles hold it. A route without a permission fails the tests (the authorisation
matrix is generated from the route table).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from appveto.errors import AppvetoError


class Role(StrEnum):
    SUBMITTER = "submitter"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    APPROVER = "approver"
    ADMIN = "admin"
    VIEWER = "viewer"


class Permission(StrEnum):
    PUBLIC = "public"
    """No sign-in needed (the sign-in page, the OpenAPI document, the stylesheet)."""
    SIGNED_IN = "signed_in"
    """Any signed-in account: its own session and API tokens."""
    VIEW = "view"
    SUBMIT = "submit"
    REVIEW = "review"
    RECOMMEND = "recommend"
    DECIDE = "decide"
    AUDIT_READ = "audit_read"
    MANAGE_ACCOUNTS = "manage_accounts"


ALL_ROLES = frozenset(Role)

RULES: dict[Permission, frozenset[Role]] = {
    Permission.PUBLIC: ALL_ROLES,
    Permission.SIGNED_IN: ALL_ROLES,
    Permission.VIEW: ALL_ROLES,
    Permission.SUBMIT: frozenset({Role.SUBMITTER}),
    Permission.REVIEW: frozenset({Role.ANALYST}),
    Permission.RECOMMEND: frozenset({Role.AUDITOR}),
    Permission.DECIDE: frozenset({Role.APPROVER}),
    Permission.AUDIT_READ: frozenset({Role.AUDITOR, Role.ADMIN}),
    Permission.MANAGE_ACCOUNTS: frozenset({Role.ADMIN}),
}
"""Who holds each permission. The administrator manages accounts and reads the audit
trail but takes no part in a vetting (separation of duties)."""


class AccessError(AppvetoError):
    """A request the server refuses: ``status`` is the HTTP status it answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Role names (comma-separated strings allowed) -> roles; an unknown name is an error."""
    out: set[Role] = set()
    for value in values:
        for raw in value.split(","):
            name = raw.strip().lower()
            if not name:
                continue
            try:
                out.add(Role(name))
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise AccessError(f"unknown role {name!r} (known: {known})") from None
    return frozenset(out)


def roles_text(roles: Iterable[Role]) -> str:
    return ",".join(sorted(r.value for r in roles))


def allowed(roles: Iterable[Role], permission: Permission) -> bool:
    return bool(RULES[permission] & frozenset(roles))
