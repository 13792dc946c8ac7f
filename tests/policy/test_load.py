# ruff: noqa: E501
"""Loading the example library and whole folders: every problem at once, never a traceback."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jsonschema
import pytest

from appveto.errors import PolicyError
from appveto.policy.load import load_policies, policy_files, read_policy_data
from appveto.policy.model import DecisionStatus, Mode
from appveto.policy.resolve import resolve
from appveto.policy.schema import policy_json_schema

from .test_broken import AUTHORITIES, BASE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


def _validator() -> jsonschema.Draft202012Validator:
    schema = policy_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_examples_load() -> None:
    ps = load_policies(EXAMPLES)
    assert len(ps.decisions) >= 9
    assert len(policy_files(EXAMPLES)) == len(ps.decisions) + 1


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_schema_accepts_every_example(path: Path) -> None:
    errors = [e.message for e in _validator().iter_errors(read_policy_data(path))]
    assert errors == []


def test_belgian_federal_renewal_and_brussels_lineage() -> None:
    ps = load_policies(EXAMPLES)
    fed = resolve(ps, "be-fed-2023-tiktok", at=date(2023, 9, 16))
    assert fed.status is DecisionStatus.ACTIVE and fed.expires == date(2024, 3, 17)
    assert resolve(ps, "be-fed-2023-tiktok", at=date(2023, 9, 13)).expires == date(2023, 9, 17)
    assert resolve(ps, "be-fed-2023-tiktok", at=date(2024, 3, 17)).status is DecisionStatus.EXPIRED
    police = next(p for p in fed.scope if p.id == "police-advice")
    assert police.mode is Mode.ADVISORY
    bxl = resolve(ps, "be-bxl-gov-2023-tiktok", at=date(2023, 4, 1))
    assert bxl.lineage == ("be-bxl-gov-2023-tiktok", "be-fed-2023-tiktok")
    assert "com.zhiliaoapp.musically" in bxl.apps.android_packages
    assert len(bxl.asks) == 19
    parl = resolve(ps, "be-bxl-parl-2023-tiktok", at=date(2023, 4, 1))
    assert "visitor-wifi" in {z.name for z in parl.network_zones}
    assert any("PARL-GUEST" in z.ssids for z in parl.network_zones)


def test_omb_phases_count_from_the_memo() -> None:
    ps = load_policies(EXAMPLES)
    omb = resolve(ps, "us-omb-m-23-13", at=date(2023, 3, 1))
    assert omb.remove_by == date(2023, 3, 29)
    assert omb.block_traffic_by == date(2023, 3, 29)
    kinds = {d.kind.value: d.date for d in omb.deadlines}
    assert kinds["contracts_by"] == date(2023, 5, 28)
    assert kinds["solicitations_by"] == date(2023, 6, 27)
    assert omb.apps.successor_vendors == ("bytedance",)
    assert omb.exception_rules is not None and "agency head" in omb.exception_rules.approver
    # inherited scope from the Act plus its own parts
    assert {p.source_decision for p in omb.scope} == {"us-no-tiktok-act-2022", "us-omb-m-23-13"}


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_all_errors_of_a_folder_at_once(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "authorities.yaml": AUTHORITIES,
            "a.yaml": BASE.replace("id: ban", "id: a").replace("title: A ban", "title: 1"),
            "b.yaml": BASE.replace("id: ban", "id: b").replace("authority: fed", "authority: nobody"),
            "c.yaml": "kind: decision\n  bad: [\n",
        },
    )
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    files = sorted({Path(d.file or "").name for d in info.value.diagnostics()})
    assert files == ["a.yaml", "b.yaml", "c.yaml"]


def test_adoption_cycle_and_duplicate_ids(tmp_path: Path) -> None:
    a = BASE.replace("id: ban", "id: a") + "follows:\n  decision: b\n"
    b = BASE.replace("id: ban", "id: b") + "follows:\n  decision: a\n"
    folder = _folder(
        tmp_path,
        {
            "authorities.yaml": AUTHORITIES,
            "a.yaml": a,
            "b.yaml": b,
            "c.yaml": BASE.replace("id: ban", "id: a"),
        },
    )
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    messages = [str(d) for d in info.value.diagnostics()]
    assert any("adoption cycle: a -> b -> a" in m and "a.yaml:" in m for m in messages), messages
    assert any("adoption cycle: b -> a -> b" in m for m in messages), messages
    assert any("decision 'a' is defined twice" in m and "c.yaml:2:5" in m for m in messages), messages


def test_authority_problems(tmp_path: Path) -> None:
    auth = (
        AUTHORITIES + "  - id: loop-a\n    name: A\n    level: local\n    parent: loop-b\n"
        "  - id: loop-b\n    name: B\n    level: local\n    parent: loop-a\n"
        "  - id: orphan\n    name: O\n    level: local\n    parent: nowhere\n"
    )
    folder = _folder(tmp_path, {"authorities.yaml": auth, "ban.yaml": BASE})
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    messages = [str(d) for d in info.value.diagnostics()]
    assert any("parent cycle" in m for m in messages), messages
    assert any("unknown parent authority 'nowhere'" in m and ":27:13:" in m for m in messages), messages


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00garbage",
        b"",
        b"kind: decision\n"
        + b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + b"".join(
            f"a{i}: &a{i} [*a{i - 1 if i > 1 else ''}, *a{i - 1 if i > 1 else ''}, *a{i - 1 if i > 1 else ''}, "
            f"*a{i - 1 if i > 1 else ''}, *a{i - 1 if i > 1 else ''}, *a{i - 1 if i > 1 else ''}]\n".encode()
            for i in range(1, 12)
        ),
        b"[" * 5000,
        b"kind: decision\n" + b"x: " + b"[" * 200 + b"]" * 200 + b"\n",
        b"kind: decision\nid: " + b"a" * (2 << 20) + b"\n",
        b"%YAML 9.9\n---\nkind: decision\n",
        b"kind: decision\n---\nkind: decision\n",
        b"? [complex, key]\n: value\nkind: decision\n",
    ],
    ids=[
        "not-utf8",
        "empty",
        "alias-bomb",
        "deep-flow",
        "deep-nesting",
        "huge",
        "yaml-version",
        "two-docs",
        "complex-key",
    ],
)
def test_hostile_files_give_diagnostics(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "authorities.yaml").write_text(AUTHORITIES, encoding="utf-8")
    (tmp_path / "evil.yaml").write_bytes(content)
    with pytest.raises(PolicyError) as info:
        load_policies(tmp_path)
    diags = info.value.diagnostics()
    assert diags and all(d.file and d.file.endswith("evil.yaml") for d in diags), [str(d) for d in diags]


def test_not_a_folder_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a folder"):
        load_policies(tmp_path / "missing")
    with pytest.raises(PolicyError, match=r"no .* policy files"):
        load_policies(tmp_path)


def test_hidden_files_are_skipped(tmp_path: Path) -> None:
    _folder(tmp_path, {"authorities.yaml": AUTHORITIES, "ban.yaml": BASE})
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "junk.yaml").write_text("nonsense: [", encoding="utf-8")
    assert [d.id for d in load_policies(tmp_path).decisions] == ["ban"]


def test_a_broken_file_does_not_cascade(tmp_path: Path) -> None:
    """A decision following a broken one, or naming authorities of a broken file, gets no noise."""
    parent = BASE.replace("id: ban", "id: parent").replace("title: A ban", "title: [broken")
    child = BASE.replace("id: ban", "id: child") + "follows:\n  decision: parent\n"
    folder = _folder(tmp_path / "a", {"authorities.yaml": AUTHORITIES, "p.yaml": parent, "c.yaml": child})
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    assert [Path(d.file or "").name for d in info.value.diagnostics()] == ["p.yaml"]
    broken_auth = AUTHORITIES.replace("level: federal", "level: galactic")
    folder = _folder(tmp_path / "b", {"authorities.yaml": broken_auth, "ban.yaml": BASE})
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    assert [Path(d.file or "").name for d in info.value.diagnostics()] == ["authorities.yaml"]


def test_unknown_key_does_not_hide_reference_errors(tmp_path: Path) -> None:
    text = BASE.replace("authority: fed", "authority: nobody") + "colour: red\n"
    folder = _folder(tmp_path, {"authorities.yaml": AUTHORITIES, "ban.yaml": text})
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    messages = [d.message for d in info.value.diagnostics()]
    assert any("unknown key 'colour'" in m for m in messages), messages
    assert any("unknown authority 'nobody'" in m for m in messages), messages
    # a misspelt known key could change the meaning: its file is not checked further
    typo = BASE.replace("authority: fed", "authority: nobody").replace("  expires:", "  expirse:")
    folder = _folder(tmp_path / "b", {"authorities.yaml": AUTHORITIES, "ban.yaml": typo})
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    assert len(info.value.diagnostics()) == 1
