"""Impact of a draft, step-by-step explanations and notices, on the test administration."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import date
from email import policy as email_policy
from pathlib import Path

import pytest

from appveto.compliance.evaluate import evaluate
from appveto.compliance.explain import explain
from appveto.compliance.impact import impact
from appveto.compliance.model import Status
from appveto.compliance.notices import Recipient, build_notices
from appveto.errors import PolicyError
from appveto.fleet.queries import StoreFleet
from appveto.fleet.store import Store
from appveto.policy import load_policies
from appveto.report.explain import lines
from appveto.report.notices import notice_email, notice_markdown
from tests.compliance import world

AT = date(2024, 3, 20)

DRAFT = """\
kind: decision
id: region-draft-whatsapp
title: Draft - WhatsApp off regional and municipal devices
authority: region
instrument: decision
draft: true
apps:
  - name: WhatsApp
    android: [com.whatsapp]
scope:
  - id: regional-devices
    mode: mandatory
    units: [region-services, muni-a, muni-b, fed-services]
    devices: [issued]
term: {effective: 2024-06-01}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, StoreFleet]]:
    root = tmp_path_factory.mktemp("world")
    world.write_policies(root)
    with Store.open(f"sqlite:///{root / 'store.db'}") as store:
        world.load_fleet(store, root)
        yield root, StoreFleet(store)


def test_impact_of_a_draft(env: tuple[Path, StoreFleet], tmp_path: Path) -> None:
    root, fleet = env
    draft = tmp_path / "draft.yaml"
    draft.write_text(DRAFT, encoding="utf-8")
    im = impact(draft, fleet, at=AT, policies_dir=root / "policies")
    # WhatsApp is on D1 (p-viol) and D5 (p-clean) in the new snapshot; both are issued devices
    assert im.people == ("p-clean", "p-viol")
    assert {u.unit_id for u in im.units} == {"fed-digital"}
    assert im.unknown and {r.person_id for r in im.unknown} == {"p-stale"}
    # in scope: every issued device of the units named, with or without the app
    assert im.people_in_scope == 11  # all but p-adv (personal), p-parl (other unit)
    # the draft is not in force: a normal evaluation does not see it
    ev = evaluate(load_policies(root / "policies"), fleet, at=AT)
    assert ev.decision("region-draft-whatsapp") is None


def test_impact_refuses_a_file_that_is_not_a_decision(env: tuple[Path, StoreFleet], tmp_path: Path) -> None:
    root, fleet = env
    bad = tmp_path / "notes.yaml"
    bad.write_text("kind: authorities\nauthorities: []\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        impact(bad, fleet, at=AT, policies_dir=root / "policies")
    assert "expected a file with 'kind: decision'" in str(err.value)


def test_explain_a_person_step_by_step(env: tuple[Path, StoreFleet]) -> None:
    root, fleet = env
    policies = load_policies(root / "policies")
    ex = explain(policies, fleet, at=AT, person="p-devexc")
    text = "\n".join(lines(ex))
    assert ex.found and len(ex.devices) == 1
    fed = next(d for d in ex.devices[0].decisions if d.decision_id == "fed-ban")
    assert fed.statuses == ((world.TIKTOK, Status.EXCEPTION_EXPIRED),)
    for expected in (
        "decided by fed",
        "part 'service-devices' (mandatory) covers fed-services",
        "part 'personal-advice' is for personal devices",
        f"app {world.TIKTOK} selected by android package",
        "exception 'old-pilot' (device D4",
        "expired",
        "remove-by deadline 2024-03-31: not passed yet",
    ):
        assert expected in text, expected
    parl = next(d for d in ex.devices[0].decisions if d.decision_id == "parl-ban")
    assert not parl.applies and any("network" in s for s in parl.steps)


def test_explain_a_device_and_adoption(env: tuple[Path, StoreFleet]) -> None:
    root, fleet = env
    policies = load_policies(root / "policies")
    ex = explain(policies, fleet, at=AT, device="D7")
    region = next(d for d in ex.devices[0].decisions if d.decision_id == "region-ban")
    assert region.statuses == ((world.TIKTOK, Status.VIOLATION),)
    assert any("because muni-a adopted the decision" in s for s in region.steps)
    missing = explain(policies, fleet, at=AT, device="nope")
    assert not missing.found and "not found" in "\n".join(lines(missing))


def test_explain_agrees_with_evaluate(env: tuple[Path, StoreFleet]) -> None:
    root, fleet = env
    policies = load_policies(root / "policies")
    ev = evaluate(policies, fleet, at=AT, changes=False)
    for pid, *_ in world.PEOPLE:
        ex = explain(policies, fleet, at=AT, person=pid)
        from_explain = {
            (d.decision_id, st) for dev in ex.devices for d in dev.decisions for _, st in d.statuses
        }
        from_eval = {(r.decision_id, r.status) for r in ev.for_person(pid)}
        assert from_explain == from_eval, pid


def test_notices(env: tuple[Path, StoreFleet]) -> None:
    root, fleet = env
    policies = load_policies(root / "policies")
    ev = evaluate(policies, fleet, at=AT, changes=False)
    recipients = [Recipient("p-viol", "Jan Peeters", "p-viol@example.org")]
    notices = build_notices(ev, policies, recipients)
    people = [n.recipient.person_id for n in notices]
    # exempted and unknown results get no notice
    assert people == sorted(["p-adv", "p-devexc", "p-ios", "p-muni-a", "p-region", "p-viol"])
    viol = notices[people.index("p-viol")]
    md = notice_markdown(viol)
    assert "TikTok (com.zhiliaoapp.musically)" in md and "by 2024-03-31 at the latest" in md
    assert "ask Federal security officer for an exception" in md
    adv = notices[people.index("p-adv")]
    assert not adv.binding and "advisory" in notice_markdown(adv)
    expired = notice_markdown(notices[people.index("p-devexc")])
    assert "Your exception `old-pilot` has expired" in expired
    # the region's decision inherits the federal exception rules
    assert "ask Federal security officer" in notice_markdown(notices[people.index("p-region")])
    a = notice_email(viol, sender="security@example.org").as_bytes()
    b = notice_email(
        build_notices(ev, policies, recipients)[people.index("p-viol")], sender="security@example.org"
    )
    assert a == b.as_bytes()  # deterministic Date and Message-ID
    parsed = email.message_from_bytes(a, policy=email_policy.default)
    assert parsed["Date"] == "Wed, 20 Mar 2024 08:00:00 +0000"
    assert parsed["To"] == "Jan Peeters <p-viol@example.org>"
    assert parsed["Message-ID"].endswith("@example.org>")
    overdue = build_notices(
        evaluate(policies, fleet, at=date(2024, 4, 2), changes=False), policies, recipients
    )
    late = next(n for n in overdue if n.recipient.person_id == "p-viol")
    assert late.items[0].status is Status.OVERDUE
    assert "now: the deadline was 2024-03-31" in notice_markdown(late)
