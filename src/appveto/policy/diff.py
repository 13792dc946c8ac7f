"""What a revision of a policy folder changed, in words.

Lists of items are matched by their identity (``id``, ``name``, ``authority``, a
renewal's ``decided`` date, a deadline's ``kind``), not by position, so reordering a
file is not a change and a renamed item shows as one removal and one addition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel

from appveto.policy.model import ITEM_NAMES, PolicySet

_KEYS = ("id", "name", "authority", "decided", "handle", "kind", "title", "url")


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True, order=True)
class Change:
    subject: str
    """``decision 'x'`` or ``authority 'y'``."""
    where: str
    """The part inside the subject, in words (empty for the whole subject)."""
    kind: ChangeKind
    message: str

    def __str__(self) -> str:
        head = f"{self.subject}: {self.where}: " if self.where else f"{self.subject}: "
        return head + self.message


def _short(value: object) -> str:
    if isinstance(value, dict):
        inner = ", ".join(
            f"{k} {_short(v)}" for k, v in value.items() if k not in _KEYS[:1] and v not in (None, [], {})
        )
        return f"({inner})" if inner else ""
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "..."
    if value is None:
        return "nothing"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _key_of(*lists: Sequence[object]) -> str | None:
    """The identity key unique within each list of mappings, if any."""
    if not all(isinstance(i, dict) for items in lists for i in items):
        return None
    for key in _KEYS:
        ok = True
        for items in lists:
            values = [i.get(key) for i in items if isinstance(i, dict)]
            if any(v is None for v in values) or len({str(v) for v in values}) != len(values):
                ok = False
        if ok:
            return key
    return None


def _diff(
    old: object, new: object, where: list[str], field: str, out: list[tuple[str, ChangeKind, str]]
) -> None:
    here = " ".join(where)
    if isinstance(old, dict) and isinstance(new, dict):
        for k in [*old.keys(), *(k for k in new if k not in old)]:
            path = f"{field}.{k}" if field else k
            if k not in new:
                out.append((here, ChangeKind.REMOVED, f"'{path}' removed (was {_short(old[k])})"))
            elif k not in old or (
                old[k] in (None, [], {}) and new[k] not in (None, [], {}) and not isinstance(new[k], list)
            ):
                out.append((here, ChangeKind.ADDED, f"'{path}' set to {_short(new[k])}"))
            elif new[k] in (None, [], {}) and old[k] not in (None, [], {}) and not isinstance(old[k], list):
                out.append((here, ChangeKind.REMOVED, f"'{path}' removed (was {_short(old[k])})"))
            else:
                _diff(old[k], new[k], where, path, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        key = _key_of(old, new) if (old or new) else None
        noun = ITEM_NAMES.get(field.rsplit(".", 1)[-1], "entry")
        if key is not None:
            o = {str(i[key]): i for i in old if isinstance(i, dict)}
            n = {str(i[key]): i for i in new if isinstance(i, dict)}
            for k in o:
                if k not in n:
                    out.append((here, ChangeKind.REMOVED, f"{noun} '{k}' removed"))
            for k, item in n.items():
                if k not in o:
                    detail = _short({kk: vv for kk, vv in item.items() if kk != key})
                    out.append((here, ChangeKind.ADDED, f"{noun} '{k}' added {detail}".rstrip()))
                else:
                    _diff(
                        o[k],
                        item,
                        [*where, f"{noun} '{k}':"],
                        "",
                        out,
                    )
            return
        if all(not isinstance(i, dict | list) for i in old + new):
            added = [i for i in new if i not in old]
            removed = [i for i in old if i not in new]
            if added:
                out.append(
                    (here, ChangeKind.ADDED, f"'{field}': added {', '.join(_short(i) for i in added)}")
                )
            if removed:
                out.append(
                    (here, ChangeKind.REMOVED, f"'{field}': removed {', '.join(_short(i) for i in removed)}")
                )
            return
    if old != new:
        out.append((here, ChangeKind.CHANGED, f"'{field}' changed from {_short(old)} to {_short(new)}"))


def _dump(model: BaseModel) -> dict[str, object]:
    return model.model_dump(mode="json")


def diff_policies(old: PolicySet, new: PolicySet) -> tuple[Change, ...]:
    """Every change from ``old`` to ``new``, in words, sorted by subject."""
    changes: list[Change] = []

    def compare(subject: str, a: BaseModel | None, b: BaseModel | None, title: str) -> None:
        if a is None and b is not None:
            changes.append(Change(subject, "", ChangeKind.ADDED, f"added ({title})"))
            return
        if b is None and a is not None:
            changes.append(Change(subject, "", ChangeKind.REMOVED, "removed"))
            return
        if a is None or b is None:
            return
        found: list[tuple[str, ChangeKind, str]] = []
        _diff(_dump(a), _dump(b), [], "", found)
        for where, kind, message in found:
            changes.append(Change(subject, where.rstrip(":"), kind, message))

    old_a = {a.id: a for a in old.authorities}
    new_a = {a.id: a for a in new.authorities}
    for aid in sorted(old_a.keys() | new_a.keys()):
        b = new_a.get(aid)
        compare(f"authority '{aid}'", old_a.get(aid), b, b.name if b else "")
    old_d = {d.id: d for d in old.decisions}
    new_d = {d.id: d for d in new.decisions}
    for did in sorted(old_d.keys() | new_d.keys()):
        nd = new_d.get(did)
        compare(f"decision '{did}'", old_d.get(did), nd, nd.title if nd else "")
    return tuple(changes)
