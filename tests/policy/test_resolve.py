"""Resolution on both sides of every deadline, expiry, renewal and exception date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from appveto.errors import PolicyError
from appveto.policy.model import (
    AuthoritiesFile,
    DeadlineKind,
    Decision,
    DecisionStatus,
    Mode,
    PolicySet,
    resolve,
    resolve_all,
)


def _authorities() -> AuthoritiesFile:
    return AuthoritiesFile.model_validate(
        {
            "kind": "authorities",
            "authorities": [
                {
                    "id": "fed",
                    "name": "Federal government",
                    "level": "federal",
                    "units": [
                        {"id": "fed-admin", "name": "Administration"},
                        {"id": "fed-press", "name": "Press office", "parent": "fed-admin"},
                    ],
                },
                {"id": "region", "name": "Region", "level": "regional", "parent": "fed"},
            ],
        }
    )


def _fed(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": "decision",
        "id": "fed-ban",
        "title": "Ban",
        "authority": "fed",
        "instrument": "decision",
        "apps": [
            {
                "name": "TikTok",
                "android": ["com.zhiliaoapp.musically"],
                "web": ["tiktok.com"],
                "signer_sha256": ["AA:" * 31 + "AA"],
                "vendors": ["bytedance"],
                "successors": True,
            }
        ],
        "scope": [
            {
                "id": "staff",
                "mode": "mandatory",
                "units": ["fed-admin"],
                "devices": ["paid_wholly", "paid_partly"],
            },
            {"id": "personal", "mode": "advisory", "devices": ["accesses_system"], "systems": ["intranet"]},
        ],
        "term": {
            "announced": date(2023, 3, 10),
            "effective": date(2023, 3, 10),
            "deadlines": [
                {"kind": "remove_by", "date": date(2023, 3, 31)},
                {"kind": "block_traffic_by", "days": 30},
            ],
            "expires": date(2023, 9, 17),
            "renewals": [{"decided": date(2023, 9, 14), "extends_to": date(2024, 3, 17)}],
        },
        "exceptions": [
            {
                "id": "press",
                "subject": {"kind": "unit", "id": "fed-press"},
                "grounds": "institutional_communication",
                "approver": "chancellery",
                "granted": date(2023, 4, 1),
                "expires": date(2023, 10, 1),
            },
        ],
    }
    doc.update(over)
    return doc


def _set(*decisions: dict[str, Any]) -> PolicySet:
    return PolicySet(
        authorities=_authorities().authorities,
        decisions=tuple(Decision.model_validate(d) for d in decisions),
    )


@pytest.mark.parametrize(
    ("at", "status"),
    [
        (date(2023, 3, 9), DecisionStatus.DRAFT),
        (date(2023, 3, 10), DecisionStatus.ACTIVE),
        (date(2023, 9, 13), DecisionStatus.ACTIVE),  # before the renewal, before the expiry
        (date(2023, 9, 16), DecisionStatus.ACTIVE),  # renewal decided on 09-14 applies
        (date(2024, 3, 16), DecisionStatus.ACTIVE),
        (date(2024, 3, 17), DecisionStatus.EXPIRED),  # renewed expiry reached
    ],
)
def test_status_across_renewal(at: date, status: DecisionStatus) -> None:
    assert resolve(_set(_fed()), "fed-ban", at=at).status is status


def test_expiry_without_renewal_is_not_lifted_by_a_later_renewal() -> None:
    doc = _fed()
    doc["term"]["renewals"] = [{"decided": date(2023, 9, 20), "extends_to": date(2024, 3, 17)}]
    ps = _set(doc)
    before = resolve(ps, "fed-ban", at=date(2023, 9, 16))
    assert before.status is DecisionStatus.ACTIVE and before.expires == date(2023, 9, 17)
    gap = resolve(ps, "fed-ban", at=date(2023, 9, 18))
    assert gap.status is DecisionStatus.EXPIRED and gap.renewals == ()
    after = resolve(ps, "fed-ban", at=date(2023, 9, 20))
    assert after.status is DecisionStatus.ACTIVE and after.expires == date(2024, 3, 17)
    assert len(after.renewals) == 1


def test_announced_before_effective() -> None:
    doc = _fed()
    doc["term"]["effective"] = date(2023, 3, 15)
    ps = _set(doc)
    assert resolve(ps, "fed-ban", at=date(2023, 3, 12)).status is DecisionStatus.ANNOUNCED
    assert resolve(ps, "fed-ban", at=date(2023, 3, 15)).status is DecisionStatus.ACTIVE


def test_deadlines_fixed_and_relative() -> None:
    r = resolve(_set(_fed()), "fed-ban", at=date(2023, 3, 31))
    assert r.remove_by == date(2023, 3, 31)
    assert r.block_traffic_by == date(2023, 4, 9)
    remove = next(d for d in r.deadlines if d.kind is DeadlineKind.REMOVE_BY)
    assert not remove.overdue(date(2023, 3, 31))
    assert remove.overdue(date(2023, 4, 1))


@pytest.mark.parametrize(
    ("at", "active", "expired", "future"),
    [
        (date(2023, 3, 31), 0, 0, 1),
        (date(2023, 4, 1), 1, 0, 0),
        (date(2023, 9, 30), 1, 0, 0),
        (date(2023, 10, 1), 0, 1, 0),
    ],
)
def test_exceptions_on_both_sides(at: date, active: int, expired: int, future: int) -> None:
    r = resolve(_set(_fed()), "fed-ban", at=at)
    assert (len(r.active_exceptions), len(r.expired_exceptions), len(r.future_exceptions)) == (
        active,
        expired,
        future,
    )


def test_selectors_flattened_and_normalised() -> None:
    r = resolve(_set(_fed()), "fed-ban", at=date(2023, 4, 1))
    assert r.apps.android_packages == ("com.zhiliaoapp.musically",)
    assert r.apps.signer_sha256 == ("aa" * 32,)
    assert r.apps.successor_vendors == ("bytedance",)
    assert not r.apps.empty
    assert [p.id for p in r.mandatory_scope] == ["staff"]
    assert [p.id for p in r.advisory_scope] == ["personal"]
    assert [a.id for a in r.authority_chain] == ["fed"]


def test_follows_inherits_and_amends() -> None:
    child = {
        "kind": "decision",
        "id": "region-ban",
        "title": "Region follows",
        "authority": "region",
        "instrument": "decision",
        "follows": {"decision": "fed-ban", "inherit": ["apps", "scope"]},
        "apps": [{"name": "Douyin", "android": ["com.ss.android.ugc.aweme"]}],
        "scope": [{"id": "region-staff", "mode": "mandatory", "devices": ["issued"]}],
        "term": {"effective": date(2023, 3, 12)},
    }
    ps = _set(_fed(), child)
    r = resolve(ps, "region-ban", at=date(2023, 4, 1))
    assert r.lineage == ("region-ban", "fed-ban")
    assert set(r.apps.android_packages) == {"com.zhiliaoapp.musically", "com.ss.android.ugc.aweme"}
    assert [(p.id, p.source_decision) for p in r.scope] == [
        ("staff", "fed-ban"),
        ("personal", "fed-ban"),
        ("region-staff", "region-ban"),
    ]
    assert r.scope[0].mode is Mode.MANDATORY
    assert [a.id for a in r.authority_chain] == ["region", "fed"]
    # the child's term is its own: no expiry, still active after the federal ban expired
    assert resolve(ps, "region-ban", at=date(2025, 1, 1)).status is DecisionStatus.ACTIVE
    assert [d.id for d in resolve_all(ps, at=date(2023, 4, 1))] == ["fed-ban", "region-ban"]


def test_empty_selection_selects_nothing() -> None:
    r = resolve(_set(_fed(apps=[{"name": "only a name"}])), "fed-ban", at=date(2023, 4, 1))
    assert r.apps.empty


def test_unknown_decision_raises_policy_error() -> None:
    with pytest.raises(PolicyError):
        resolve(_set(_fed()), "nope", at=date(2023, 4, 1))


def test_cycle_raises_policy_error_not_recursion() -> None:
    a = _fed(id="a", follows={"decision": "b"})
    b = _fed(id="b", follows={"decision": "a"})
    with pytest.raises(PolicyError, match="cycle"):
        resolve(_set(a, b), "a", at=date(2023, 4, 1))


def test_models_are_frozen_and_strict() -> None:
    d = Decision.model_validate(_fed())
    with pytest.raises(ValidationError):
        d.id = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Decision.model_validate(_fed(surprise=1))


def test_matching_helpers_fail_closed() -> None:
    apps = resolve(_set(_fed()), "fed-ban", at=date(2023, 4, 1)).apps
    assert apps.selects_android("com.zhiliaoapp.musically")
    assert not apps.selects_android("com.zhiliaoapp.musicall")
    assert apps.selects_domain("tiktok.com") and apps.selects_domain("www.TikTok.com.")
    assert not apps.selects_domain("nottiktok.com") and not apps.selects_domain("tiktok.com.evil.org")
    assert not apps.selects_domain("")
    assert apps.selects_signer("aa" * 32) and apps.selects_signer("AA:" * 31 + "AA")
    assert apps.selects_vendor("bytedance") and not apps.selects_vendor("tencent")
    empty = resolve(_set(_fed(apps=[{"name": "only a name"}])), "fed-ban", at=date(2023, 4, 1)).apps
    assert not any(
        (
            empty.selects_android("x.y"),
            empty.selects_domain("x.com"),
            empty.selects_ios("x.y"),
            empty.selects_country("CN"),
            empty.selects_category("games"),
        )
    )


def test_scope_part_covers_units_and_roles() -> None:
    from appveto.policy.model import Role

    ps = _set(_fed())
    r = resolve(ps, "fed-ban", at=date(2023, 4, 1))
    staff, personal = r.scope
    assert staff.covers_unit(ps, "fed-admin") and staff.covers_unit(ps, "fed-press")  # sub-unit
    assert not staff.covers_unit(ps, "region") and not staff.covers_unit(ps, "unknown-unit")
    assert personal.covers_unit(ps, "fed-press")  # empty units: the deciding authority
    no_sub = _fed()
    no_sub["scope"][0]["include_sub_units"] = False
    ps2 = _set(no_sub)
    part = resolve(ps2, "fed-ban", at=date(2023, 4, 1)).scope[0]
    assert part.covers_unit(ps2, "fed-admin") and not part.covers_unit(ps2, "fed-press")
    roles = _fed()
    roles["scope"][0]["roles"] = {"include": ["minister", "civil_servant"], "exclude": ["civil_servant"]}
    p3 = resolve(_set(roles), "fed-ban", at=date(2023, 4, 1)).scope[0]
    assert p3.covers_role(Role.MINISTER) and not p3.covers_role(Role.CIVIL_SERVANT)
    assert not p3.covers_role(Role.VISITOR) and personal.covers_role(Role.VISITOR)
