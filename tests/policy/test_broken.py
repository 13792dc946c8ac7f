"""A suite of broken policies, each with one mistake.

Every case is a small decision file. ``@@`` marks where the error must point (it is
removed before loading); the test asserts exactly one diagnostic, its message, line and
column, and that the shipped JSON Schema agrees on whether it is a shape error.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from appveto.errors import PolicyError
from appveto.policy.load import load_policies, read_policy_data
from appveto.policy.schema import policy_json_schema

AUTHORITIES = """\
kind: authorities
authorities:
  - id: fed
    name: Federal government
    level: federal
    units:
      - id: fed-staff
        name: Staff
      - id: fed-press
        name: Press office
        parent: fed-staff
  - id: region
    name: Region
    level: regional
    parent: fed
"""

BASE = """\
kind: decision
id: ban
title: A ban
authority: fed
instrument: decision
apps:
  - name: TikTok
    android: [com.zhiliaoapp.musically]
scope:
  - id: staff
    mode: mandatory
    units: [fed-staff]
    devices: [issued]
term:
  effective: 2023-03-10
  expires: 2023-09-10
"""

EXC = """\
exceptions:
  - id: press-office
    subject: {kind: unit, id: fed-press}
    grounds: institutional_communication
    approver: chancellery
    granted: 2023-04-01
    expires: 2023-06-01
"""


def _edit(old: str, new: str, base: str = BASE) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


# (case id, YAML text with @@ marker, expected message fragment, shape error (schema rejects it))
CASES: list[tuple[str, str, str, bool | None]] = [
    ("unknown-top-key", BASE + "@@colour: red\n", "decision 'ban': unknown key 'colour'", True),
    (
        "misspelled-key",
        _edit("  expires:", "  @@expirse:"),
        "decision 'ban': unknown key 'expirse' in 'term' (did you mean 'expires'?)",
        True,
    ),
    (
        "exception-needs-expires",
        BASE + _edit("    expires: 2023-06-01\n", "", EXC).replace("  - id: press", "  - @@id: press"),
        "exception 'press-office' needs 'expires'",
        True,
    ),
    (
        "exception-needs-subject",
        BASE
        + _edit("    subject: {kind: unit, id: fed-press}\n", "", EXC).replace(
            "  - id: press", "  - @@id: press"
        ),
        "exception 'press-office' needs 'subject'",
        True,
    ),
    (
        "exception-needs-approver",
        BASE + _edit("    approver: chancellery\n", "", EXC).replace("  - id: press", "  - @@id: press"),
        "exception 'press-office' needs 'approver'",
        True,
    ),
    ("title-not-text", _edit("title: A ban", "title: @@42"), "'title' must be text, not the number 42", True),
    (
        "mode-typo",
        _edit("mode: mandatory", "mode: @@mandatry"),
        "'mode' must be one of 'mandatory' or 'advisory', not 'mandatry'",
        True,
    ),
    (
        "bad-android-package",
        _edit("android: [com.zhiliaoapp.musically]", "android: [@@tiktok]"),
        "'android[1]' must be an Android package name",
        True,
    ),
    ("no-such-day", _edit("effective: 2023-03-10", "effective: @@2023-02-30"), "existing day", True),
    (
        "date-as-number",
        _edit("effective: 2023-03-10", "effective: @@20230310"),
        "'term.effective' must be a date such as 2023-03-10, not the number 20230310",
        True,
    ),
    (
        "date-with-time",
        _edit("effective: 2023-03-10", "effective: @@2023-03-10T10:00:00"),
        "without a time",
        True,
    ),
    ("missing-kind", "@@" + _edit("kind: decision\n", ""), "policy file needs 'kind'", True),
    (
        "unknown-kind",
        _edit("kind: decision", "kind: @@ban"),
        "'kind' must be 'decision' or 'authorities'",
        True,
    ),
    (
        "term-as-list",
        _edit("term:\n  effective: 2023-03-10\n  expires: 2023-09-10\n", "term: @@[2023]\n"),
        "'term' must be a mapping, not a list",
        True,
    ),
    ("not-a-mapping", "@@- just\n- a list\n", "must be a mapping with 'kind'", True),
    (
        "unknown-role",
        _edit("    devices: [issued]", "    roles: {include: [@@astronaut]}\n    devices: [issued]"),
        "'roles.include[1]' must be one of",
        True,
    ),
    (
        "bad-sha256",
        _edit(
            "    android: [com.zhiliaoapp.musically]",
            "    android: [com.zhiliaoapp.musically]\n    signer_sha256: [@@abc]",
        ),
        "SHA-256 fingerprint",
        True,
    ),
    (
        "negative-headcount",
        _edit("    devices: [issued]", "    devices: [issued]\n    headcount: @@-3"),
        "'headcount' must be at least 0",
        True,
    ),
    (
        "successors-not-bool",
        _edit(
            "    android: [com.zhiliaoapp.musically]",
            "    android: [com.zhiliaoapp.musically]\n    vendors: [bytedance]\n    successors: @@yes",
        ),
        "'successors' must be true or false",
        True,
    ),
    (
        "misspelt-required-key",
        _edit("  effective: 2023-03-10", "  @@efective: 2023-03-10"),
        "decision 'ban': unknown key 'efective' in 'term' (did you mean 'effective'?)",
        True,
    ),
    (
        "item-not-a-mapping",
        _edit("scope:\n", "scope:\n  - @@just-a-name\n"),
        "scope part #1 must be a mapping, not 'just-a-name'",
        True,
    ),
    # --- folder-wide rules (the schema cannot see them)
    (
        "unknown-authority",
        _edit("authority: fed", "authority: @@fedd"),
        "unknown authority 'fedd' (did you mean 'fed'?)",
        False,
    ),
    (
        "unknown-unit",
        _edit("units: [fed-staff]", "units: [@@fed-stuff]"),
        "scope part 'staff': unknown unit 'fed-stuff' (did you mean 'fed-staff'?)",
        False,
    ),
    (
        "unknown-network-zone",
        _edit("    devices: [issued]", "    devices: [issued]\n    networks: [@@guest-wifi]"),
        "unknown network zone 'guest-wifi'",
        False,
    ),
    (
        "expiry-before-effective",
        _edit("  expires: 2023-09-10", "  expires: @@2023-01-10"),
        "expiry 2023-01-10 is not after the effective date 2023-03-10",
        False,
    ),
    (
        "announced-after-effective",
        _edit("term:\n  effective: 2023-03-10", "term:\n  announced: 2023-03-12\n  effective: @@2023-03-10"),
        "effective date 2023-03-10 is before the announcement 2023-03-12",
        False,
    ),
    (
        "deadline-before-effective",
        BASE + "  deadlines:\n    - kind: remove_by\n      date: @@2023-03-01\n",
        "deadline 'remove_by' 2023-03-01 is before the effective date",
        False,
    ),
    (
        "deadline-date-and-days",
        BASE + "  deadlines:\n    - @@kind: remove_by\n      date: 2023-04-01\n      days: 30\n",
        "needs exactly one of 'date' or 'days'",
        False,
    ),
    (
        "renewal-shortens",
        BASE + "  renewals:\n    - decided: 2023-09-01\n      extends_to: @@2023-08-01\n",
        "not after the previous expiry 2023-09-10",
        False,
    ),
    (
        "renewal-before-effective",
        BASE + "  renewals:\n    - decided: @@2023-01-01\n      extends_to: 2024-03-10\n",
        "renewal of 2023-01-01 is before the effective date",
        False,
    ),
    (
        "renewal-of-permanent-ban",
        _edit("  expires: 2023-09-10\n", "")
        + "  renewals:\n    - @@decided: 2023-09-01\n      extends_to: 2024-03-10\n",
        "renews a ban that does not expire",
        False,
    ),
    (
        "blanket-wildcard",
        BASE + _edit("{kind: unit, id: fed-press}", "{kind: person, id: @@'*'}", EXC),
        "blanket exception",
        False,
    ),
    (
        "blanket-whole-authority",
        BASE + _edit("{kind: unit, id: fed-press}", "{kind: unit, id: @@fed}", EXC),
        "blanket exception (a whole authority 'fed')",
        False,
    ),
    (
        "exception-unknown-unit",
        BASE + _edit("{kind: unit, id: fed-press}", "{kind: unit, id: @@fed-pres}", EXC),
        "unknown unit 'fed-pres'",
        False,
    ),
    (
        "exception-expires-before-granted",
        BASE + _edit("expires: 2023-06-01", "expires: @@2023-03-01", EXC),
        "expires 2023-03-01, not after it was granted (2023-04-01)",
        False,
    ),
    (
        "exception-grounds-not-allowed",
        BASE
        + "exception_rules:\n  grounds: [law_enforcement]\n  approver: head\n"
        + _edit("grounds: institutional_communication", "grounds: @@institutional_communication", EXC),
        "grounds 'institutional_communication' are not allowed by the decision (law_enforcement)",
        False,
    ),
    (
        "exception-too-long",
        BASE + "exception_rules:\n  grounds: [institutional_communication]\n"
        "  approver: head\n  max_days: 30\n" + _edit("expires: 2023-06-01", "expires: @@2023-06-01", EXC),
        "lasts 61 days, more than the 30 allowed",
        False,
    ),
    (
        "follows-unknown",
        BASE + "follows:\n  decision: @@fed-bann\n",
        "follows unknown decision 'fed-bann'",
        False,
    ),
    ("follows-itself", BASE + "follows:\n  decision: @@ban\n", "decision 'ban' follows itself", False),
    ("ask-unknown-authority", BASE + "asks:\n  - authority: @@regio\n", "unknown authority 'regio'", False),
    (
        "ask-adopted-without-date",
        BASE + "asks:\n  - authority: region\n    status: @@adopted\n",
        "status 'adopted' needs 'date'",
        False,
    ),
    (
        "system-without-name",
        _edit("devices: [issued]", "devices: @@[accesses_system]"),
        "'accesses_system' needs 'systems'",
        False,
    ),
    (
        "role-included-and-excluded",
        _edit(
            "    devices: [issued]",
            "    roles: @@{include: [minister], exclude: [minister]}\n    devices: [issued]",
        ),
        "both included and excluded",
        False,
    ),
    (
        "bad-cidr",
        BASE + "network_zones:\n  - name: lan\n    cidrs: [@@10.0.0.1/33]\n",
        "'10.0.0.1/33' is not an address range",
        False,
    ),
    ("zone-without-ranges", BASE + "network_zones:\n  - @@name: lan\n", "needs 'cidrs' or 'ssids'", False),
    (
        "scope-selects-no-one",
        _edit(
            "  - id: staff\n    mode: mandatory\n    units: [fed-staff]\n    devices: [issued]\n",
            "  - @@id: staff\n    mode: mandatory\n",
        ),
        "selects no one",
        False,
    ),
    (
        "duplicate-scope-part",
        _edit("term:", "  - id: @@staff\n    mode: advisory\n    devices: [personal]\nterm:"),
        "scope part 'staff' is defined twice",
        False,
    ),
    (
        "empty-scan-rule",
        _edit(
            "    android: [com.zhiliaoapp.musically]",
            "    android: [com.zhiliaoapp.musically]\n    scan: @@{}",
        ),
        "'scan' needs 'score_at_least' or 'finding'",
        False,
    ),
    (
        "successors-without-vendor",
        _edit(
            "    android: [com.zhiliaoapp.musically]",
            "    android: [com.zhiliaoapp.musically]\n    successors: @@true",
        ),
        "'successors' needs 'vendors'",
        False,
    ),
    # --- not YAML at all (no schema verdict: there is no data)
    ("yaml-syntax", _edit("title: A ban", "title: [A, ban@@}"), "YAML:", None),
    ("yaml-duplicate-key", _edit("title: A ban\n", "title: A ban\n@@title: Again\n"), "YAML:", None),
    ("yaml-python-tag", _edit("title: A ban", "title: @@!!python/object:os.system ls"), "YAML:", None),
]


def _split(text: str) -> tuple[str, int, int]:
    idx = text.index("@@")
    before = text[:idx]
    line = before.count("\n") + 1
    col = idx - (before.rfind("\n") + 1) + 1
    return text.replace("@@", "", 1), line, col


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "authorities.yaml").write_text(AUTHORITIES, encoding="utf-8")
    (tmp_path / "ban.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


def test_base_is_valid(tmp_path: Path) -> None:
    ps = load_policies(_write(tmp_path, BASE + EXC))
    assert [d.id for d in ps.decisions] == ["ban"]


@pytest.mark.parametrize(("text", "expected", "shape"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_broken_policy(tmp_path: Path, text: str, expected: str, shape: bool | None) -> None:
    clean, line, col = _split(text)
    folder = _write(tmp_path, clean)
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    diags = info.value.diagnostics()
    assert len(diags) == 1, [str(d) for d in diags]
    diag = diags[0]
    assert expected in diag.message, str(diag)
    assert diag.file is not None and diag.file.endswith("ban.yaml")
    assert (diag.line, diag.column) == (line, col), str(diag)
    assert str(diag).startswith(f"{diag.file}:{line}:{col}: ")

    if shape is None:
        return
    data = read_policy_data(folder / "ban.yaml")
    validator = jsonschema.Draft202012Validator(
        policy_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = list(validator.iter_errors(data))
    if shape:
        assert errors, "the JSON Schema should reject this shape error"
    else:
        assert not errors, [e.message for e in errors]


AUTH_CASES: list[tuple[str, str, str, bool]] = [
    (
        "unknown-level",
        AUTHORITIES.replace("level: regional", "level: @@galactic"),
        "authority 'region': 'level' must be one of",
        True,
    ),
    (
        "authority-needs-name",
        AUTHORITIES.replace("  - id: region\n    name: Region\n", "  - @@id: region\n"),
        "authority 'region' needs 'name'",
        True,
    ),
    (
        "bad-country",
        AUTHORITIES.replace("level: regional", "level: regional\n    country: @@Belgium"),
        "ISO 3166-1 alpha-2 country code",
        True,
    ),
    (
        "duplicate-authority",
        AUTHORITIES + "  - id: @@region\n    name: Again\n    level: local\n",
        "authority 'region' is defined twice",
        False,
    ),
    (
        "unknown-parent",
        AUTHORITIES.replace("parent: fed\n", "parent: @@feed\n"),
        "unknown parent authority 'feed' (did you mean 'fed'?)",
        False,
    ),
    (
        "unknown-unit-parent",
        AUTHORITIES.replace("parent: fed-staff", "parent: @@fed-stuff"),
        "unit 'fed-press': unknown parent unit 'fed-stuff'",
        False,
    ),
    (
        "unit-same-id-as-unit",
        AUTHORITIES.replace(
            "- id: fed-press\n        name: Press office\n        parent: fed-staff\n",
            "- id: @@fed-staff\n        name: Press office\n",
        ),
        "unit 'fed-staff' is defined twice",
        False,
    ),
]


@pytest.mark.parametrize(("text", "expected", "shape"), [pytest.param(*c[1:], id=c[0]) for c in AUTH_CASES])
def test_broken_authorities(tmp_path: Path, text: str, expected: str, shape: bool) -> None:
    clean, line, col = _split(text)
    (tmp_path / "authorities.yaml").write_text(clean, encoding="utf-8")
    (tmp_path / "ban.yaml").write_text(BASE, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policies(tmp_path)
    diags = info.value.diagnostics()
    assert len(diags) == 1, [str(d) for d in diags]
    (diag,) = diags
    assert expected in diag.message and (diag.file or "").endswith("authorities.yaml"), str(diag)
    assert (diag.line, diag.column) == (line, col), str(diag)
    validator = jsonschema.Draft202012Validator(
        policy_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = list(validator.iter_errors(read_policy_data(tmp_path / "authorities.yaml")))
    assert bool(errors) is shape, [e.message for e in errors]
