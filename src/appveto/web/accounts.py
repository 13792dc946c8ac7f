"""Local accounts (argon2id), browser sessions and API tokens.

Secrets never reach the store: a password as its argon2id hash, a session or API token
as its SHA-256 (they are 256-bit random values, so a fast hash is enough). A token is
shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from appveto.fleet._schema import account_sessions, accounts, api_tokens
from appveto.web import audit
from appveto.web.access import AccessError, Role, parse_roles, roles_text

SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "avt_"  # noqa: S105 - the visible prefix of every API token, not a secret
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106) parameters
_DUMMY_HASH = _hasher.hash("appveto: no such account")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account and the roles this session or token carries."""

    account_id: int
    username: str
    roles: frozenset[Role]
    csrf: str | None = None
    """The session's CSRF token (browser sessions only)."""
    via_token: bool = False


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_username(name: str) -> str:
    name = name.strip().lower()
    if not 1 <= len(name) <= 64 or not set(name) <= USERNAME_CHARS:
        raise AccessError("a user name is 1-64 characters: letters, digits, '.', '_', '-', '@'")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccessError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def create_account(
    conn: Connection,
    username: str,
    password: str | None,
    roles: Iterable[Role],
    *,
    actor: str,
    source: str = "",
    now: datetime,
) -> int:
    name = check_username(username)
    role_set = frozenset(roles)
    if not role_set:
        raise AccessError("an account needs at least one role")
    hashed = _hasher.hash(check_password(password)) if password is not None else None
    try:
        with conn.begin_nested():
            account_id = conn.execute(
                insert(accounts)
                .values(
                    username=name,
                    password_hash=hashed,
                    roles=roles_text(role_set),
                    active=True,
                    created_at=now,
                )
                .returning(accounts.c.id)
            ).scalar_one()
    except IntegrityError:
        raise AccessError(f"an account named {name!r} exists already", status=409) from None
    audit.append(
        conn,
        actor=actor,
        source=source,
        action="account.create",
        target=f"account:{name}",
        detail={"roles": sorted(r.value for r in role_set)},
        now=now,
    )
    return int(account_id)


def set_account(
    conn: Connection,
    username: str,
    *,
    roles: Iterable[Role] | None,
    active: bool | None,
    actor: str,
    source: str,
    now: datetime,
) -> None:
    row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
    if row is None:
        raise AccessError(f"no account named {username!r}", status=404)
    values: dict[str, object] = {}
    before = {"roles": row.roles, "active": row.active}
    if roles is not None:
        role_set = frozenset(roles)
        if not role_set:
            raise AccessError("an account needs at least one role")
        values["roles"] = roles_text(role_set)
    if active is not None:
        values["active"] = active
    if not values:
        return
    conn.execute(update(accounts).where(accounts.c.id == row.id).values(**values))
    # a change of roles or a deactivation ends the account's sessions
    conn.execute(update(account_sessions).where(account_sessions.c.account_id == row.id).values(revoked=True))
    audit.append(
        conn,
        actor=actor,
        source=source,
        action="account.update",
        target=f"account:{username}",
        detail={"before": before, "after": {**before, **values}},
        now=now,
    )


def list_accounts(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(select(accounts).order_by(accounts.c.username)).all()
    return [{"username": r.username, "roles": r.roles.split(","), "active": bool(r.active)} for r in rows]


class Throttle:
    """Failed sign-ins per user name and per address: after ``limit`` failures within
    ``window`` seconds, further attempts are refused until the window passes."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._fails: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._fails.get(key, []) if now - t < self.window]
        if kept:
            self._fails[key] = kept
        else:
            self._fails.pop(key, None)
        return kept

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._fails.setdefault(k, []).append(now)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)


def authenticate(conn: Connection, username: str, password: str) -> tuple[int, str, frozenset[Role]] | None:
    """The account when the password matches, else ``None`` (the same work either way)."""
    name = username.strip().lower()
    row = conn.execute(select(accounts).where(accounts.c.username == name)).first()
    hashed = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(hashed, password[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or not row.active or not row.password_hash:
        return None
    if _hasher.check_needs_rehash(hashed):
        conn.execute(
            update(accounts).where(accounts.c.id == row.id).values(password_hash=_hasher.hash(password))
        )
    return int(row.id), str(row.username), parse_roles([row.roles])


def open_session(conn: Connection, account_id: int, *, now: datetime) -> tuple[str, str]:
    """A new session: (cookie token, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(
        insert(account_sessions).values(
            token_hash=digest(token),
            account_id=account_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
            revoked=False,
        )
    )
    return token, csrf


def close_session(conn: Connection, token: str) -> None:
    conn.execute(
        update(account_sessions).where(account_sessions.c.token_hash == digest(token)).values(revoked=True)
    )


def session_principal(engine: Engine, token: str, *, now: datetime) -> Principal | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(account_sessions, accounts.c.username, accounts.c.roles, accounts.c.active)
            .join(accounts, accounts.c.id == account_sessions.c.account_id)
            .where(account_sessions.c.token_hash == digest(token))
        ).first()
    if row is None or row.revoked or not row.active or row.expires_at <= now:
        return None
    return Principal(int(row.account_id), str(row.username), parse_roles([row.roles]), csrf=str(row.csrf))


def create_token(
    conn: Connection,
    principal: Principal,
    name: str,
    roles: Iterable[Role] | None,
    *,
    days: int | None,
    source: str,
    now: datetime,
) -> tuple[int, str]:
    """A new API token of ``principal``'s account, limited to ``roles`` (all of the
    caller's when ``None``): (id, the token, shown once)."""
    wanted = principal.roles if roles is None else frozenset(roles)
    if not wanted or not wanted <= principal.roles:
        raise AccessError("a token carries some of the roles of the account that makes it", status=403)
    if not 1 <= len(name.strip()) <= 100:
        raise AccessError("a token needs a name of 1-100 characters")
    if days is not None and not 1 <= days <= 366:
        raise AccessError("a token expires after 1 to 366 days")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now + timedelta(days=days) if days is not None else None
    token_id = conn.execute(
        insert(api_tokens)
        .values(
            account_id=principal.account_id,
            name=name.strip(),
            token_hash=digest(token),
            roles=roles_text(wanted),
            created_at=now,
            expires_at=expires,
            revoked_at=None,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    audit.append(
        conn,
        actor=principal.username,
        source=source,
        action="token.create",
        target=f"token:{token_id}",
        detail={"name": name.strip(), "roles": sorted(r.value for r in wanted), "days": days},
        now=now,
    )
    return int(token_id), token


def revoke_token(
    conn: Connection, principal: Principal, token_id: int, *, source: str, now: datetime
) -> None:
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None or (row.account_id != principal.account_id and Role.ADMIN not in principal.roles):
        raise AccessError(f"no token {token_id} of yours", status=404)
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=now))
    audit.append(
        conn,
        actor=principal.username,
        source=source,
        action="token.revoke",
        target=f"token:{token_id}",
        now=now,
    )


def list_tokens(engine: Engine, account_id: int) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(api_tokens).where(api_tokens.c.account_id == account_id).order_by(api_tokens.c.id)
        ).all()
    return [
        {
            "id": int(r.id),
            "name": r.name,
            "roles": r.roles.split(","),
            "created_at": r.created_at.isoformat(),
            "expires_at": r.expires_at.isoformat() if r.expires_at else None,
            "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
        }
        for r in rows
    ]


def token_principal(engine: Engine, token: str, *, now: datetime) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(
                api_tokens, accounts.c.username, accounts.c.roles.label("account_roles"), accounts.c.active
            )
            .join(accounts, accounts.c.id == api_tokens.c.account_id)
            .where(api_tokens.c.token_hash == digest(token))
        ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    # a token never carries more than its account holds today
    roles = parse_roles([row.roles]) & parse_roles([row.account_roles])
    return Principal(int(row.account_id), str(row.username), roles, via_token=True)


def now_utc() -> datetime:
    return datetime.now(UTC)
