"""The audit trail: append-only, hash-chained.

Each entry's ``hash`` is the SHA-256 of its previous entry's hash and its own content
(sequence number, time, actor, source, action, target, detail) in a canonical JSON form,
so editing an entry breaks its own hash, deleting one breaks the sequence and the next
entry's ``prev_hash``. :func:`verify` names the first entry that does not hold. Deleting
the newest entries leaves a shorter chain that is valid in itself: the number of entries
:func:`verify` reports is to be compared with one kept elsewhere (an export). On
PostgreSQL the table also refuses UPDATE, DELETE and TRUNCATE (migration 0003).

An entry is written in the same transaction as the change it records: the change and
its record land together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from appveto.fleet._schema import audit_log
from appveto.report.audit import AuditRows

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

EXPORT_COLUMNS = ("seq", "at", "actor", "source", "action", "target", "detail", "prev_hash", "hash")

_APPEND_LOCK = threading.Lock()
# one writer at a time in this process; the primary key on seq refuses a second
# writer elsewhere that read the same head (its transaction fails whole)
_PG_LOCK_KEY = 27426701065942128


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at: datetime
    actor: str
    source: str
    action: str
    target: str
    detail: str
    prev_hash: str
    hash: str

    def row(self) -> tuple[object, ...]:
        return (
            self.seq,
            self.at.isoformat(),
            self.actor,
            self.source,
            self.action,
            self.target,
            self.detail,
            self.prev_hash,
            self.hash,
        )


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, source: str, action: str, target: str, detail: str
) -> str:
    body = json.dumps(
        [prev_hash, seq, at.astimezone(UTC).isoformat(), actor, source, action, target, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    source: str = "",
    now: datetime | None = None,
) -> Entry:
    """Add one entry inside the caller's transaction ``conn``."""
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    with _APPEND_LOCK:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        head = conn.execute(
            select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        ).first()
        seq = 1 if head is None else int(head.seq) + 1
        prev = GENESIS if head is None else str(head.hash)
        digest = entry_hash(prev, seq, at, actor, source, action, target, text)
        conn.execute(
            insert(audit_log).values(
                seq=seq,
                at=at,
                actor=actor,
                source=source,
                action=action,
                target=target,
                detail=text,
                prev_hash=prev,
                hash=digest,
            )
        )
    return Entry(seq, at, actor, source, action, target, text, prev, digest)


def entries(engine: Engine, *, limit: int | None = None, newest_first: bool = False) -> Iterator[Entry]:
    order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq
    query = select(audit_log).order_by(order)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        for r in conn.execute(query):
            yield Entry(
                int(r.seq), r.at, r.actor, r.source, r.action, r.target, r.detail, r.prev_hash, r.hash
            )


def trail(engine: Engine) -> AuditRows:
    """The whole trail, oldest first, for the ``audit`` document of the report registry."""
    return AuditRows(EXPORT_COLUMNS, [e.row() for e in entries(engine)])


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(engine: Engine) -> Verification:
    """Recompute the chain; every entry that does not hold is named by its number."""
    problems: list[str] = []
    expected_seq = 1
    prev = GENESIS
    n = 0
    for e in entries(engine):
        n += 1
        if e.seq != expected_seq:
            missing = f"{expected_seq}" if e.seq == expected_seq + 1 else f"{expected_seq}-{e.seq - 1}"
            problems.append(f"entry {missing}: missing (deleted?); the chain resumes at entry {e.seq}")
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq}: does not follow the entry before it (prev_hash differs)")
        if entry_hash(e.prev_hash, e.seq, e.at, e.actor, e.source, e.action, e.target, e.detail) != e.hash:
            problems.append(f"entry {e.seq}: its content does not match its hash (edited?)")
        prev = e.hash
        expected_seq = e.seq + 1
    return Verification(n, tuple(problems))
