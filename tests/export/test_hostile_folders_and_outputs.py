"""``appveto export`` on hostile folders and outputs, in process through the CLI entry point."""

from __future__ import annotations

import os
import re
import shutil
import stat
import threading
from pathlib import Path

import pytest

from appveto.cli._io import printable, write_output
from appveto.cli.main import main
from appveto.errors import AppvetoError
from appveto.export.registry import EXPORTERS
from tests.export.fixtures import POLICIES
from tests.workcount import assert_linear, growth


@pytest.fixture()
def pol(tmp_path: Path) -> Path:
    dst = tmp_path / "pol"
    shutil.copytree(POLICIES, dst)
    return dst


def _set_title(folder: Path, decision_file: str, title: str) -> None:
    f = folder / decision_file
    lines = f.read_text(encoding="utf-8").splitlines()
    f.write_text(
        "\n".join(f'title: "{title}"' if ln.startswith("title:") else ln for ln in lines) + "\n",
        encoding="utf-8",
    )


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- outputs


def test_output_symlink_to_an_input_is_refused(
    pol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "out.hosts"
    link.symlink_to(pol / "test-family.yaml")
    before = _snapshot(pol)
    code = main(["export", "hosts", "--policies", str(pol), "--decision", "test-family", "-o", str(link)])
    assert code == 2
    assert "refusing to overwrite an input" in capsys.readouterr().err
    assert _snapshot(pol) == before and link.is_symlink()


def test_output_into_a_fifo_keeps_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_output("line one\nline two", str(fifo))
    reader.join(120)  # a hang guard: returns as soon as the reader has read
    assert got == [b"line one\nline two\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda t: (t / "plain").write_text("x") and str(t / "plain" / "out.txt"), "cannot write"),
        (lambda t: (t / "dir").mkdir() or str(t / "dir"), "is a directory"),
    ],
    ids=["parent-is-a-file", "output-is-a-folder"],
)
def test_output_that_cannot_be_written_is_an_error(tmp_path: Path, make: object, needle: str) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(AppvetoError, match=needle) as info:
        write_output("data", target)
    assert target in str(info.value)
    leftovers = [p.name for p in tmp_path.rglob(".*.tmp")]
    assert leftovers == []


def test_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.conf"
    target.write_text("previous bundle\n")

    def refuse(*_args: object, **_kw: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(AppvetoError, match="No space left on device"):
        write_output("new", str(target))
    assert target.read_text() == "previous bundle\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.conf"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, tabs\tkept", "plain text, tabs\tkept"),
        ("a\nb", "a\\nb"),
        ("\x1b[2J", "\\x1b[2J"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("x\u2028y\x9b", "x\\u2028y\\x9b"),
        ("café 東京", "café 東京"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


# --------------------------------------------------------------------------- export all


@pytest.mark.parametrize("where", [".", "bundle", "deeper/bundle"])
def test_export_all_never_writes_into_the_policy_folder(
    pol: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    (pol / "README.md").write_text("our policy repository\n")
    before = _snapshot(pol)
    code = main(["export", "all", "--policies", str(pol), "--output", str(pol / where)])
    assert code == 2
    assert "inside the policy folder" in capsys.readouterr().err
    assert _snapshot(pol) == before


def test_export_all_names_each_skipped_decision(
    pol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A decision that cannot be exported is skipped, named with its reason on stderr, and
    the others are still written."""
    _set_title(pol, "test-family.yaml", r"Ban\x1b[2J\rlocal-zone: gov.example. always_nxdomain")
    out = tmp_path / "bundle"
    assert main(["export", "all", "--policies", str(pol), "--output", str(out), "--at", "2023-04-01"]) == 0
    err = capsys.readouterr().err
    assert re.search(
        r"not exported: test-family \(all targets\): title holds a line break or another control character",
        err,
    ), err
    assert "\n" not in err.split("not exported: test-family", 1)[1].split("appveto:", 1)[0].rstrip("\n")
    written = {p.relative_to(out).parts[0] for p in out.rglob("*") if p.is_file()}
    assert "test-family" not in written
    assert written - {"README.md", "all-decisions"}, written
    for p in out.rglob("*"):
        if p.is_file():
            assert b"gov.example" not in p.read_bytes(), p


def test_single_export_of_a_crafted_title_is_a_located_error(
    pol: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_title(pol, "test-family.yaml", r"x\x1b]0;title\x07\raddress=/bank.example/6.6.6.6")
    for target in EXPORTERS:
        code = main(
            ["export", target, "--policies", str(pol), "--decision", "test-family", "--at", "2023-04-01"]
        )
        captured = capsys.readouterr()
        assert code == 2, target
        assert f"{pol}/test-family.yaml:" in captured.err, (target, captured.err)
        assert "bank.example" not in captured.out


def test_many_domains_export_in_linear_work(
    pol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four times the domains in a policy, at most about four times the lines executed by
    `export all` (counted, not timed: see tests/workcount.py)."""
    f = pol / "test-family.yaml"
    original = f.read_text(encoding="utf-8")

    def folder(n: int) -> tuple[Path, Path]:
        src = tmp_path / f"pol-{n}"
        shutil.copytree(pol, src)
        domains = ", ".join(f"d{i}.example.org" for i in range(n))
        text = original.replace("web: [akamaized.net, example-banned.org]", f"web: [{domains}]")
        (src / f.name).write_text(text, encoding="utf-8")
        return src, tmp_path / f"out-{n}"

    def export(io: tuple[Path, Path]) -> None:
        code = main(["export", "all", "--policies", str(io[0]), "--output", str(io[1]), "--at", "2023-04-01"])
        assert code == 0, capsys.readouterr().err

    assert_linear(growth(export, folder(500), folder(2_000)), 4)
    hosts = (tmp_path / "out-2000" / "test-family" / "test-family.hosts").read_text()
    assert "d1999.example.org" in hosts


def test_export_all_never_replaces_a_readme_it_did_not_write(
    pol: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--output .`` in a project folder must not replace the project's README.md; a bundle
    appveto wrote before is replaced as usual."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("# Our project\n")
    argv = ["export", "all", "--policies", str(pol), "--at", "2023-04-01", "--output"]
    assert main([*argv, str(project)]) == 2
    assert "README.md: exists and was not written by appveto" in capsys.readouterr().err
    assert [p.name for p in project.iterdir()] == ["README.md"]
    assert (project / "README.md").read_text() == "# Our project\n"
    bundle = tmp_path / "bundle"
    assert main([*argv, str(bundle)]) == 0
    first = _snapshot(bundle)
    assert main([*argv, str(bundle)]) == 0
    assert _snapshot(bundle) == first
