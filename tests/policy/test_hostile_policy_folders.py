"""Hostile policy folders, in process: what the loader reads, how long it may take, and
what the text output lets through."""

from __future__ import annotations

import os
import shutil
import tracemalloc
from datetime import date
from pathlib import Path

import pytest
import ruamel.yaml

from appveto.cli.main import main
from appveto.errors import PolicyError
from appveto.policy import load as policy_load
from appveto.policy.lint import LintCode, lint
from appveto.policy.load import load_policies, policy_files, read_policy_data
from appveto.policy.resolve import shift_days
from appveto.policy.timeline import EventKind, timeline
from tests.workcount import APPVETO, growth, lines_run, returns_unblocked

POLICIES = Path(__file__).resolve().parents[1] / "export" / "policies"


@pytest.fixture()
def pol(tmp_path: Path) -> Path:
    dst = tmp_path / "pol"
    shutil.copytree(POLICIES, dst)
    return dst


def _messages(exc: PolicyError) -> dict[str, str]:
    return {str(d.file): d.message for d in exc.diagnostics()}


def test_non_regular_policy_files_are_reported_not_dropped(pol: Path) -> None:
    (pol / "dangling.yaml").symlink_to("nowhere.yaml")
    (pol / "loop-a.yaml").symlink_to("loop-b.yaml")
    (pol / "loop-b.yaml").symlink_to("loop-a.yaml")
    (pol / "zero.yaml").symlink_to(os.devnull)
    os.mkfifo(pol / "pipe.yml")
    (pol / "folder.yaml").mkdir()  # a folder is searched, not read
    listed = {p.name for p in policy_files(pol)}
    assert {"dangling.yaml", "loop-a.yaml", "loop-b.yaml", "zero.yaml", "pipe.yml"} <= listed
    assert "folder.yaml" not in listed
    with pytest.raises(PolicyError) as info:
        load_policies(pol)
    got = _messages(info.value)
    for name in ("dangling.yaml", "loop-a.yaml", "loop-b.yaml", "zero.yaml", "pipe.yml"):
        assert f"{pol}/{name}" in got, got
        assert got[f"{pol}/{name}"].startswith("cannot read")
    assert "not a regular file" in got[f"{pol}/pipe.yml"]


def test_a_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    # Were the loader to open the FIFO it would block until a writer came: the writer comes
    # only then, and the test fails instead of hanging.
    with pytest.raises(PolicyError, match="not a regular file"):
        returns_unblocked(lambda: read_policy_data(fifo), unblock=lambda: _feed(fifo))


def _feed(fifo: Path) -> None:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


def test_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(2 << 30)  # sparse: 2 GiB that costs no disk
    tracemalloc.start()
    try:
        with pytest.raises(PolicyError, match="file too large"):
            lines_run(lambda: read_policy_data(big), packages=(APPVETO, ruamel.yaml))
        _, lines = lines_run(lambda: _refused(big), packages=(APPVETO, ruamel.yaml))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # neither read at once (2 GiB held) nor piece by piece (a loop over 2 GiB of reads)
    assert peak < 16 << 20, f"peak {peak >> 20} MiB"
    assert lines < 2_000, lines


def _refused(path: Path) -> None:
    with pytest.raises(PolicyError):
        read_policy_data(path)


def test_parse_stops_at_the_node_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The composer counts nodes as it goes: a file of many values fails after the limit is
    reached, not after the whole file has been parsed. The lines the (pure-Python) YAML
    parser executes are counted, not timed (see tests/workcount.py); appveto's own guard
    before parsing, one pass over the characters of a file of bounded size, is not."""
    monkeypatch.setattr(policy_load, "MAX_NODES", 2_000)
    small = tmp_path / "small.yaml"
    small.write_text("x: [" + "a," * 2_500 + "a]\n")
    large = tmp_path / "large.yaml"
    large.write_text("x: [" + "a," * 400_000 + "a]\n")
    # 160 times the values, about the same work
    a, b = growth(_too_many, small, large, packages=(ruamel.yaml,))
    assert b < 2 * a, (a, b)


def _too_many(path: Path) -> None:
    with pytest.raises(PolicyError, match="too many values"):
        read_policy_data(path)


def test_values_under_the_limit_still_load(tmp_path: Path) -> None:
    f = tmp_path / "list.yaml"
    f.write_text("x: [" + ", ".join(f"v{i}" for i in range(5_000)) + "]\n")
    data = read_policy_data(f)
    assert data == {"x": [f"v{i}" for i in range(5_000)]}


@pytest.mark.parametrize(
    ("day", "days", "expected"),
    [
        (date(2024, 1, 1), 31, date(2024, 2, 1)),
        (date(9999, 12, 1), 3650, date.max),
        (date(1, 1, 1), -1, date.min),
        (date.max, 0, date.max),
    ],
)
def test_shift_days_saturates(day: date, days: int, expected: date) -> None:
    assert shift_days(day, days) == expected


def _edge_folder(tmp_path: Path, term: str) -> Path:
    folder = tmp_path / "edge"
    folder.mkdir()
    shutil.copy(POLICIES / "authorities.yaml", folder)
    base = (POLICIES / "test-family.yaml").read_text(encoding="utf-8")
    (folder / "test-family.yaml").write_text(base[: base.index("term:")] + term, encoding="utf-8")
    return folder


def test_deadline_past_the_calendar_loads(tmp_path: Path) -> None:
    folder = _edge_folder(
        tmp_path, "term:\n  effective: 9999-12-01\n  deadlines:\n    - kind: remove_by\n      days: 3650\n"
    )
    ps = load_policies(folder)
    events = timeline(ps, start=date(9999, 11, 1), days=36500)
    assert any(e.date == date(9999, 12, 1) for e in events)


def test_lint_and_timeline_at_day_one(tmp_path: Path) -> None:
    folder = _edge_folder(
        tmp_path,
        "term:\n  effective: 0001-01-01\n  expires: 0001-01-02\n  renewals:\n"
        "    - decided: 0001-01-01\n      extends_to: 9999-12-31\n",
    )
    ps = load_policies(folder)
    # day one: in force and renewed the same day, nothing to warn about
    assert lint(ps, at=date(1, 1, 1), soon_days=36500) == ()
    # the last day of the calendar is the renewed term's end: expired, not renewed
    (last,) = lint(ps, at=date.max, soon_days=36500)
    assert last.code is LintCode.EXPIRED_WITHOUT_RENEWAL and "9999-12-31" in last.message
    first = timeline(ps, start=date(1, 1, 1), days=36500, review_days=36500)
    assert [(e.date, e.kind) for e in first] == [
        (date(1, 1, 1), EventKind.EFFECTIVE),
        (date(1, 1, 1), EventKind.RENEWED),
    ]
    end = timeline(ps, start=date.max, days=36500, review_days=36500)  # past the calendar: no overflow
    assert {(e.date, e.kind) for e in end} == {
        (date.max, EventKind.EXPIRY),
        (date.max, EventKind.RENEWAL_DUE),
    }


HOSTILE_TITLE = "Ban\\nforged: line\\r\\n\\x1b[2J\\u2028\\u202espoof\\x9b31m"


def _hostile_title(pol: Path) -> None:
    f = pol / "test-family.yaml"
    text = f.read_text(encoding="utf-8")
    lines = [f'title: "{HOSTILE_TITLE}"' if ln.startswith("title:") else ln for ln in text.splitlines()]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    "argv",
    [
        ["policy", "show", "{pol}", "test-family"],
        ["policy", "show", "{pol}"],
        ["policy", "lint", "{pol}"],
        ["policy", "timeline", "{pol}", "--days", "36500"],
    ],
    ids=lambda v: "_".join(v[:2] + v[3:4]),
)
def test_text_output_never_carries_control_characters(
    pol: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    _hostile_title(pol)
    plain = [a.replace("{pol}", str(POLICIES)) for a in argv]
    assert main(plain) == 0
    expected_lines = capsys.readouterr().out.count("\n")
    assert main([a.replace("{pol}", str(pol)) for a in argv]) == 0
    out = capsys.readouterr().out
    # the crafted title adds no line, and no control, line-separator or bidi character gets out
    assert out.count("\n") == expected_lines
    assert not any(c in out for c in "\r\x1b\u2028\u202e\x9b")
    if argv[2:] == ["test-family"]:
        assert "forged: line" in out and "\\x1b[2J" in out


def test_diagnostics_never_carry_control_characters(pol: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (pol / "bad.yaml").write_text('kind: decision\nid: "x\\x1b[2J\\nforged"\n', encoding="utf-8")
    assert main(["policy", "check", str(pol)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert all(line.startswith((str(pol), "appveto:")) for line in err.splitlines()), err


def test_diff_against_a_revision_holding_links_out_of_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    from tests.conftest import require_tool

    git = require_tool("git")
    repo = tmp_path / "repo"
    shutil.copytree(POLICIES, repo / "pol")
    (repo / "pol" / "evil.yaml").symlink_to("/etc/passwd")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "links"]):
        subprocess.run([git, "-C", str(repo), *argv], check=True, env=env, capture_output=True)
    (repo / "pol" / "evil.yaml").unlink()
    assert main(["policy", "diff", "--rev", "HEAD", str(repo / "pol")]) == 2
    err = capsys.readouterr().err
    assert "at HEAD" in err and "evil.yaml" in err and "absolute path" in err


CRAFTED_YAML = {
    "mapping-as-key": "kind: decision\n? {a: {b: 1}}\n: x\n",
    "list-of-mappings-as-key": "kind: decision\n? [{a: 1}]\n: x\n",
    "bad-hex-int": "kind: decision\nx: !!int 0x_\n",
    "set-at-the-root": "!!set\nkind: decision\n",
    "binary-at-the-root": "!!binary aGVsbG8=\n",
    "python-tag": "kind: decision\nx: !!python/object:os.system ls\n",
    "merge-of-a-scalar": "kind: decision\n<<: 1\n",
    "undefined-alias": "kind: decision\nx: *nowhere\n",
    "two-documents": "kind: decision\n---\nkind: authorities\n",
    "self-referencing-alias": "kind: decision\nx: &a [*a]\n",
}


@pytest.mark.parametrize("name", sorted(CRAFTED_YAML))
def test_crafted_yaml_is_a_located_policy_error(tmp_path: Path, name: str) -> None:
    """Whatever the YAML parser trips on becomes a PolicyError naming the file."""
    f = tmp_path / f"{name}.yaml"
    f.write_text(CRAFTED_YAML[name], encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policies(tmp_path)
    files = {d.file for d in info.value.diagnostics()}
    assert str(f) in files, info.value


def test_reused_anchor_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ruamel only warns on stderr (naming '<unicode string>') and lets an alias take the
    second value; the loader refuses it and says where both are."""
    f = tmp_path / "a.yaml"
    f.write_text("kind: decision\nx1: &a 1\nx2: &a 2\nx3: *a\n", encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        read_policy_data(f)
    d = info.value.diagnostics()[0]
    assert (d.file, d.line) == (str(f), 3)
    assert "anchor 'a' defined twice (first defined at line 2" in d.message
    assert capsys.readouterr().err == ""


def test_linked_folder_is_reported_with_the_other_problems(pol: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.move(str(pol / "test-family.yaml"), shared / "test-family.yaml")
    (pol / "shared").symlink_to(shared)
    (pol / "broken.yaml").write_text("kind: [\n", encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policies(pol)
    got = _messages(info.value)
    assert got[f"{pol}/shared"].startswith("a linked folder is not read")
    assert f"{pol}/broken.yaml" in got
    (pol / "broken.yaml").unlink()
    with pytest.raises(PolicyError, match="shared: a linked folder is not read"):
        load_policies(pol)


def test_upper_case_suffix_is_read_not_skipped(pol: Path) -> None:
    (pol / "test-family.yaml").rename(pol / "TEST-FAMILY.YAML")
    assert "test-family" in {d.id for d in load_policies(pol).decisions}
