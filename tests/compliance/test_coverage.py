"""What decisions name against what a directory has (appveto.compliance.coverage), on the test policies."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from appveto.compliance.coverage import DirectoryNames, decision_gaps, policy_gaps
from appveto.compliance.evaluate import Context
from appveto.compliance.model import Adoption, LimitationKind
from appveto.fleet.model import Authority, AuthorityId, Network, OrgUnit, OrgUnitId, Role, RoleId, System
from appveto.policy import load_policies
from appveto.policy.resolve import resolve_all
from tests.compliance import world

AT = date(2024, 3, 20)


def _names(
    policies: object,
    *,
    units: tuple[str, ...] = ("fed-digital", "region-services"),
    authorities: tuple[str, ...] = ("fed", "region", "muni-a", "muni-b", "parl"),
    roles: tuple[tuple[str, str], ...] = (("cs", "Civil Servant"),),
    networks: tuple[str, ...] = ("parl-lan",),
) -> DirectoryNames:
    return DirectoryNames.of(
        policies,  # type: ignore[arg-type]
        authorities=[Authority(AuthorityId(a), a) for a in authorities],
        org_units=[OrgUnit(OrgUnitId(u), u) for u in units],
        roles=[Role(RoleId(i), n) for i, n in roles],
        systems=[System("mail", "Mail")],
        networks=[Network(n, n) for n in networks],
    )


def test_names_a_directory_answers_to(tmp_path: Path) -> None:
    policies = load_policies(world.write_policies(tmp_path))
    names = _names(policies)
    # fed-services is not a directory unit, but authorities.yaml makes it fed-digital's parent
    assert "fed-services" in names.containers and "fed" in names.containers
    assert [r.value for r in names.roles] == ["civil_servant"]  # read from the role's name
    assert not policy_gaps(policies, names)
    assert not decision_gaps(policies, names, resolve_all(policies, at=AT))


def test_each_kind_of_missing_name_is_located(tmp_path: Path) -> None:
    policies = load_policies(world.write_policies(tmp_path))
    names = _names(policies, units=("region-services",), roles=(), networks=())
    gaps = {(x.kind, x.decision_id, x.part_id, x.subject): x for x in policy_gaps(policies, names)}
    assert set(gaps) == {
        (LimitationKind.MISSING_UNIT, "fed-ban", "service-devices", "fed-services"),
        (LimitationKind.MISSING_UNIT, "fed-ban", "personal-advice", "fed-services"),
        (LimitationKind.MISSING_ROLE, "fed-ban", "service-devices", "civil_servant"),
        (LimitationKind.MISSING_ZONE, "parl-ban", "parl-networks", "parl-lan"),
    }
    unit = gaps[(LimitationKind.MISSING_UNIT, "fed-ban", "service-devices", "fed-services")]
    text = world.FED.splitlines()
    assert unit.file is not None and unit.file.endswith("fed.yaml") and unit.line is not None
    assert "units: [fed-services]" in text[unit.line - 1]
    role = gaps[(LimitationKind.MISSING_ROLE, "fed-ban", "service-devices", "civil_servant")]
    assert role.line is not None and "civil_servant" in text[role.line - 1]
    # the parliament's network-only part names no unit: its authority is not checked for it
    assert not [
        x for x in gaps.values() if x.decision_id == "parl-ban" and x.kind is LimitationKind.MISSING_UNIT
    ]


def test_an_inherited_part_is_reported_for_the_decision_in_force(tmp_path: Path) -> None:
    folder = world.write_policies(tmp_path)
    (folder / "region.yaml").write_text(
        world.REGION.replace("inherit: [apps]", "inherit: [apps, scope]"), encoding="utf-8"
    )
    policies = load_policies(folder)
    names = _names(policies, units=("region-services",))
    region = [
        x
        for x in decision_gaps(policies, names, resolve_all(policies, at=AT))
        if x.decision_id == "region-ban"
    ]
    assert {(x.part_id, x.subject) for x in region} == {
        ("service-devices", "fed-services"),
        ("personal-advice", "fed-services"),
    }
    assert all(x.file and x.file.endswith("fed.yaml") and "(from fed-ban)" in x.message for x in region)


def test_a_binding_adoption_by_an_authority_the_directory_lacks(tmp_path: Path) -> None:
    policies = load_policies(world.write_policies(tmp_path))
    names = _names(policies, authorities=("fed", "region", "parl"))  # no municipalities
    binding = Adoption("region-ban", "muni-a", "adopted", date(2024, 2, 1), True)
    pending = Adoption("region-ban", "muni-b", "pending", None, False)
    gaps = decision_gaps(policies, names, (), (binding, pending))
    assert [(x.kind, x.subject) for x in gaps] == [(LimitationKind.MISSING_UNIT, "muni-a")]
    assert gaps[0].file and gaps[0].file.endswith("region.yaml")
    assert "muni-a" in world.REGION.splitlines()[(gaps[0].line or 0) - 1]
    assert [x.subject for x in policy_gaps(policies, names)] == ["muni-a"]


def test_the_evaluation_context_reports_them_once(tmp_path: Path) -> None:
    from appveto.fleet.queries import StoreFleet
    from appveto.fleet.store import Store

    policies = load_policies(world.write_policies(tmp_path))
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as store:
        world.load_fleet(store, tmp_path)
        ctx = Context(policies, StoreFleet(store), (), at=AT)
    assert not [x for x in ctx.limitations if x.missing]
