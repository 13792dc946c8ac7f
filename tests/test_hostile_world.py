"""Every command and every format on a hostile world (issue 13, "How it is checked").

The test walks the CLI's argparse tree: each leaf command is a test case, run once per
choice of its ``--format`` (and of a positional choice such as the export target), with
arguments taken from :data:`VALUES` by their ``dest``. A new command is covered without
editing this file; one with a required argument this file has no value for fails here.

Each run is checked:

* nothing that drives a terminal or forges a line reaches it: standard error always, and
  standard output for people (no ``--format``, or ``text``) hold no control, line-breaking
  or bidi character, and no line starts with :data:`~tests.hostile_world.FORGED`;
* every file written is parsed back: CSV by the csv module (no cell starts a formula),
  ``.eml`` by the email package (exactly one recipient, no header but the expected ones),
  HTML by a parser (no raw ESC/U+202E/CR in text, right-to-left text inside ``<bdi>``, no
  script), JSON and SARIF by json, Markdown and text line by line;
* every file that appeared or changed went through the one writer
  (:mod:`appveto.outputs.files`);
* with an output location: a symbolic link already there (the output itself, or each file
  of an output folder) is refused and its target untouched; the workspace's store and
  configuration, the policy files and the command's own input files given as the output
  are refused and left byte-identical.
"""

from __future__ import annotations

import argparse
import csv
import email
import hashlib
import io
import json
import os
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy as email_policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from appveto.cli.main import build_parser, main
from appveto.outputs import csvcells, files, terminal
from appveto.outputs.files import RECORD
from tests import hostile_world as hw

# ---------------------------------------------------------------- the command tree


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command: a parser without subcommands, or a group that does something itself
    (``appveto checks`` lists the checks; ``fleet`` alone only prints its usage)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    handler = parser.get_default("handler")
    if path and (
        not subs or getattr(handler, "__name__", "<lambda>") not in ("<lambda>", "no_sub", "_usage")
    ):
        yield path, parser
    for s in subs:
        for name, sub in s.choices.items():
            yield from _leaves(sub, (*path, name))


def _commands() -> dict[str, Any]:
    return {" ".join(path): parser for path, parser in _leaves(build_parser())}


COMMANDS = _commands()

# ---------------------------------------------------------------- argument values


@dataclass
class Run:
    """What one run of a command needs: the world and where its output goes."""

    world: hw.World
    command: str
    output: Path

    def out(self) -> str:
        return str(self.output)


Value = Callable[[Run], Any]

# dest -> the value given (a list for nargs="+"/"*"); options not listed are left out
VALUES: dict[str, Value] = {
    "apks": lambda r: [str(p) for p in r.world.apks],
    "inputs": lambda r: [str(p) for p in r.world.apks],
    "old": lambda r: str(r.world.apks[0]),
    "new": lambda r: str(r.world.apks[1]),
    "id": lambda r: "AV-PERM-001",
    "dir": lambda r: r.out(),
    "out": lambda r: r.out(),
    "output": lambda r: r.out(),
    "directory": lambda r: str(r.world.policies),
    "folders": lambda r: [str(r.world.policies), str(r.world.policies_changed)],
    "policy": lambda r: str(r.world.decision),
    "file": lambda r: str(r.world.directory),
    "files": lambda r: None,  # set per --source below
    "workspace": lambda r: str(r.world.ws),
    "at": lambda r: hw.AT,
    "now": lambda r: hw.AT + "T12:00:00Z",
    "jobs": lambda r: "1",
    "people": lambda r: "30",
    "person": lambda r: "a/b",
    "sender": lambda r: "Security office <security@example.org>",
    "entities": lambda r: str(r.world.entities),
    "baseline_data": lambda r: True,
}
# per command: a value that differs from the general one (None: leave the option out)
OVERRIDES: dict[tuple[str, str], Value] = {
    ("demo", "apks"): lambda r: str(r.world.apk_dir),
    ("demo", "policies"): lambda r: str(r.world.policies),
    ("export", "policies"): lambda r: str(r.world.policies),
    ("export", "decision"): lambda r: "fed-clean",
    ("directory import", "format"): lambda r: None,  # the input's format: detected
    ("fleet import", "at"): lambda r: hw.AT,
    ("policy show", "decision"): lambda r: "fed-ban",
    ("demo", "at"): lambda r: hw.AT,
    # the server runs until stopped: here its one-shot action (tests/web/ run the server)
    ("serve", "create_admin"): lambda r: "chief",
}
OPTIONAL = {"workspace", "at", "now", "jobs", "people", "sender", "entities", "baseline_data", "person"}
"""Optional arguments always given (the others only when required, or iterated)."""

ITERATED = {"format", "target", "document", "source"}
"""Choices run one by one (the output format; the export target; the schema; the source)."""

EXIT_2 = {
    "fleet notices": "people with a line break in a header value are bad rows",
    "serve": "--create-admin with no password on standard input creates nothing",
}
"""Commands that end with exit code 2 on this world on purpose, and why."""


def _value(run: Run, dest: str) -> Any:
    fn = OVERRIDES.get((run.command, dest), VALUES.get(dest))
    return None if fn is None else fn(run)


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a for a in parser._actions if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
    ]


def _variants(name: str) -> list[dict[str, str]]:
    """One dict per run: the iterated choices."""
    combos: list[dict[str, str]] = [{}]
    for a in _actions(COMMANDS[name]):
        if a.dest in ITERATED and a.choices and (name, a.dest) not in OVERRIDES:
            combos = [{**c, a.dest: str(v)} for c in combos for v in a.choices]
    return combos


def _argv(run: Run, choices: dict[str, str]) -> list[str]:
    parser = COMMANDS[run.command]
    argv = run.command.split()
    positionals: list[str] = []
    given: set[str] = set()
    for a in _actions(parser):
        if a.dest in choices:
            value: Any = choices[a.dest]
        elif a.dest == "files":
            value = [str(run.world.inventories[choices["source"]])]
        elif (run.command, a.dest) in OVERRIDES or (
            a.dest in VALUES
            and (a.required or not a.option_strings or a.dest in OPTIONAL or a.dest == "output")
        ):
            value = _value(run, a.dest)
        else:
            value = None
        if value is None:
            if a.required or (not a.option_strings and a.nargs not in ("?", "*")):
                raise AssertionError(
                    f"no hostile value for {a.dest!r} of 'appveto {run.command}': add it to VALUES"
                )
            continue
        given.add(a.dest)
        if not a.option_strings:
            positionals += value if isinstance(value, list) else [value]
        elif value is True:
            argv.append(a.option_strings[0])
        else:
            argv += [a.option_strings[0], *(value if isinstance(value, list) else [value])]
    for group in parser._mutually_exclusive_groups:
        if group.required and not any(a.dest in given for a in group._group_actions):
            raise AssertionError(
                f"no value for the required group of 'appveto {run.command}': add one to VALUES"
            )
    return argv + positionals


# ---------------------------------------------------------------- checks


def _terminal_clean(text: str, what: str) -> None:
    for line in text.splitlines():
        assert not terminal.has_unsafe(line), f"{what}: raw control/bidi character in {line!r}"
        assert not line.lstrip().startswith(hw.FORGED), f"{what}: a forged line {line!r}"
    assert "\r" not in text, f"{what}: a raw carriage return"


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.problems.append("a <script> element")
        if any(k.startswith("on") for k, _ in attrs):
            self.problems.append(f"an event handler on <{tag}>")
        if tag not in ("meta", "link", "br", "img", "input", "col", "hr", "rect", "path", "line", "circle"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        for bad in ("\x1b", "\u202e", "\u2066", "\r"):
            if bad in data:
                self.problems.append(f"raw {bad!r} in text {data[:60]!r}")
        rtl = any(unicodedata.bidirectional(c) in ("R", "AL") for c in data)
        if rtl and "bdi" not in self.stack and "title" not in self.stack and "text" not in self.stack:
            self.problems.append(f"right-to-left text outside <bdi>: {data[:60]!r} in {self.stack[-3:]}")


def _check_html(text: str, where: str) -> None:
    p = _Html()
    p.feed(text)
    assert not p.problems, f"{where}: {p.problems[:5]}"


def _check_csv(text: str, where: str) -> None:
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            assert not cell or cell[0] not in csvcells.FORMULA_START, f"{where}: a formula cell {cell!r}"


_EML_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "x-appveto-person",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
}


def _check_eml(data: bytes, where: str) -> None:
    msg = email.message_from_bytes(data, policy=email_policy.default)
    assert {k.lower() for k in msg.keys()} <= _EML_HEADERS  # noqa: SIM118 - a Message, not a dict, f"{where}: headers {msg.keys()}"
    if msg["To"] is not None:
        assert len(msg["To"].addresses) == 1, f"{where}: To: {msg['To']!r} is not one recipient"
    assert len(msg["From"].addresses) == 1
    body = msg.get_content()
    _terminal_clean(body, where)


def _check_file(path: Path, fmt: str | None) -> None:
    data = path.read_bytes()
    where = str(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf" or fmt == "pdf":
        assert data.startswith(b"%PDF"), where
        return
    text = data.decode("utf-8")
    if suffix == ".eml":
        _check_eml(data, where)
    elif suffix == ".csv" or fmt == "csv":
        _check_csv(text, where)
    elif suffix in (".html", ".htm") or fmt == "html":
        _check_html(text, where)
    elif suffix in (".json", ".sarif") or fmt in ("json", "sarif"):
        json.loads(text)
    elif suffix in (".md", ".txt") or fmt == "text":
        _terminal_clean(text, where)
    else:  # an export target's file: no raw ESC or bidi override from a policy
        assert "\x1b" not in text and "\u202e" not in text, where


# ---------------------------------------------------------------- running


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> hw.World:
    return hw.build(tmp_path_factory.mktemp("hostile-world"))


@pytest.fixture
def fresh(world_template: hw.World, tmp_path: Path) -> Callable[[], hw.World]:
    """A new copy of the world per run (commands may change its store)."""
    count = [0]

    def make() -> hw.World:
        count[0] += 1
        root = tmp_path / f"w{count[0]}"
        shutil.copytree(world_template.root, root, symlinks=True)
        t = world_template.root

        def moved(p: Path) -> Path:
            return root / p.relative_to(t)

        return hw.World(
            root,
            moved(world_template.ws),
            moved(world_template.policies),
            moved(world_template.policies_changed),
            moved(world_template.decision),
            moved(world_template.directory),
            {k: moved(v) for k, v in world_template.inventories.items()},
            tuple(moved(p) for p in world_template.apks),
            moved(world_template.apk_dir),
            moved(world_template.entities),
            moved(world_template.data_dir),
        )

    return make


def _snapshot(root: Path) -> dict[Path, tuple[int, int, int]]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            st = p.lstat()
            out[p] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def _hashes(paths: list[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "-" for p in paths}


def _is_store(p: Path) -> bool:
    return (
        p.name.startswith("appveto.db") or p.suffix == ".db" or p.name.endswith(("-wal", "-shm", "-journal"))
    )


@dataclass
class Done:
    rc: int
    out: str
    err: str
    written: set[Path]


def _run(
    argv: list[str], world: hw.World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Done:
    written: set[Path] = set()
    commit = files._Pending.commit

    def spy(self: files._Pending) -> None:
        commit(self)
        shown = Path(str(self.shown))
        written.add(Path(os.path.realpath(shown.parent)) / shown.name)

    monkeypatch.setattr(files._Pending, "commit", spy)
    monkeypatch.setenv("APPVETO_DATA_DIR", str(world.data_dir))
    monkeypatch.setattr("appveto.kb.update.fetch", hw.fetch)
    capsys.readouterr()
    rc = main(argv)
    out, err = capsys.readouterr()
    monkeypatch.setattr(files._Pending, "commit", commit)
    return Done(rc, out, err, written)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_format_on_the_hostile_world(
    name: str,
    fresh: Callable[[], hw.World],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes_output = False
    for i, choices in enumerate(_variants(name)):
        world = fresh()
        out = world.root / "out" / f"{name.replace(' ', '-')}-{i}"
        run = Run(world, name, out)
        argv = _argv(run, choices)
        before = _snapshot(world.root)
        done = _run(argv, world, capsys, monkeypatch)
        shown = f"appveto {' '.join(argv)}"
        assert done.rc in (0, 1, 2), shown
        if done.rc == 2:
            assert name in EXIT_2, f"{shown}: exit 2\n{done.err}"
        _terminal_clean(done.err, f"{shown}: stderr")
        fmt = choices.get("format")
        if fmt in (None, "text"):
            _terminal_clean(done.out, f"{shown}: stdout")
        elif done.out.strip():
            _check_stdout(done.out, fmt)
        after = _snapshot(world.root)
        changed = {p for p, sig in after.items() if before.get(p) != sig}
        unrouted = sorted(str(p) for p in changed - done.written if not _is_store(p))
        assert not unrouted, f"{shown}: files written around the one writer: {unrouted[:5]}"
        for p in sorted(changed - {p for p in changed if _is_store(p)}):
            _check_file(p, fmt if p.parent == out.parent and p == out else None)
        if i == 0 and any(p == out or out in p.parents for p in changed):
            writes_output = True
            _symlinks_refused(name, choices, world, out, changed, fresh, capsys, monkeypatch)
            _inputs_protected(name, choices, argv, fresh, capsys, monkeypatch)
    if name in (
        "scan",
        "compare",
        "diff",
        "fleet evaluate",
        "fleet notices",
        "export",
        "demo-data",
        "checks docs",
    ):
        assert writes_output, f"appveto {name} wrote nothing into its output"


def _check_stdout(text: str, fmt: str) -> None:
    if fmt == "csv":
        _check_csv(text, "stdout")
    elif fmt == "html":
        _check_html(text, "stdout")
    elif fmt in ("json", "sarif"):
        json.loads(text)


def _symlinks_refused(
    name: str,
    choices: dict[str, str],
    first: hw.World,
    out: Path,
    changed: set[Path],
    fresh: Callable[[], hw.World],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each file the first run wrote into the output, made a symbolic link to a victim."""
    world = fresh()
    target = world.root / out.relative_to(first.root)
    victims = world.root / "victims"
    victims.mkdir()
    made = []
    if out.is_dir():
        for p in sorted(x for x in changed if out in x.parents):
            link = target / p.relative_to(out)
            link.parent.mkdir(parents=True, exist_ok=True)
            victim = victims / f"v{len(made)}"
            victim.write_bytes(b"victim\n")
            link.symlink_to(victim)
            made.append(victim)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        victim = victims / "v0"
        victim.write_bytes(b"victim\n")
        target.symlink_to(victim)
        made.append(victim)
    argv = _argv(Run(world, name, target), choices)
    done = _run(argv, world, capsys, monkeypatch)
    shown = f"appveto {' '.join(argv)} (symbolic links in the output)"
    assert done.rc == 2, f"{shown}: exit {done.rc}\n{done.err}"
    assert "symbolic link" in done.err or "already exists" in done.err or "not empty" in done.err, done.err
    assert all(v.read_bytes() == b"victim\n" for v in made), shown
    _terminal_clean(done.err, shown)


def _inputs_protected(
    name: str,
    choices: dict[str, str],
    argv: list[str],
    fresh: Callable[[], hw.World],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command's own inputs (files in its arguments; the workspace's store, configuration
    and policy files when it reads the workspace), each given as the output."""
    probe = fresh()
    reads_ws = "--workspace" in argv
    reads_policies = (
        reads_ws or "--policies" in argv or str(probe.policies).replace(str(probe.root), "") in " ".join(argv)
    )
    for k in range(8):
        world = fresh()
        run = Run(world, name, world.root / "unused")
        base = _argv(run, choices)
        inputs = [Path(a) for a in base if Path(a).is_file() and world.root in Path(a).parents]
        if reads_ws:
            inputs += [world.store, world.ws / "appveto.toml"]
        if reads_policies:
            inputs += sorted(world.policies.glob("*.yaml"))
        inputs = list(dict.fromkeys(inputs))
        if k >= len(inputs):
            return
        target = inputs[k]
        guarded = inputs + [p for p in world.ws.glob("appveto.db*")]
        before = _hashes(guarded)
        done = _run(_argv(Run(world, name, target), choices), world, capsys, monkeypatch)
        shown = f"appveto {name} with the output over its input {target.name}"
        assert done.rc == 2, f"{shown}: exit {done.rc}\n{done.err}"
        assert _hashes(guarded) == before, shown
        _terminal_clean(done.err, shown)


# ---------------------------------------------------------------- the named cases


def test_notices_are_one_per_person_with_bad_rows_reported(
    fresh: Callable[[], hw.World], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = fresh()
    out = world.root / "notices"
    argv = ["fleet", "notices", "-w", str(world.ws), "--at", hw.AT, "-o", str(out)]
    done = _run(argv, world, capsys, monkeypatch)
    assert done.rc == 2  # bad rows
    written = sorted(p.name for p in out.iterdir() if p.name != RECORD)
    assert sorted((out / RECORD).read_text(encoding="utf-8").split("\n")[1:-1]) == written
    stems = {p.rsplit(".", 1)[0] for p in written}
    good = [p for p in hw.PEOPLE if p[0] not in hw.BAD_ROWS]
    assert len(stems) == len(good) and len(written) == 2 * len(good)
    assert f"{len(good)} notices written to {out} ({len(written)} files)" in done.out
    assert "a_b" in stems and any(s.startswith("a_b-") for s in stems)  # a/b and a_b: two files
    assert "zz-last" in stems  # everyone after the bad rows got a notice
    for pid in hw.BAD_ROWS:
        assert f"person '{terminal.line(pid)}'" in done.err
    emls = {
        p: email.message_from_bytes((out / p).read_bytes(), policy=email_policy.default)
        for p in written
        if p.endswith(".eml")
    }
    mallory = next(m for m in emls.values() if m["X-Appveto-Person"] == "a/b")
    (only,) = mallory["To"].addresses
    assert only.addr_spec == "bob@example.org" and only.display_name == hw.MALLORY


def test_notices_never_replace_a_file_they_did_not_write(
    fresh: Callable[[], hw.World], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that holds a file under a notice's name (the person ``zz-last``): that person
    gets no notice and the error names the file, the others do; ``--force`` replaces it; a
    second run replaces the notices it wrote itself; other files are never touched."""
    world = fresh()
    out = world.root / "notices"
    out.mkdir()
    (out / "zz-last.md").write_text("our own notes\n")
    (out / "README.md").write_text("# this folder\n")
    argv = ["fleet", "notices", "-w", str(world.ws), "--at", hw.AT, "-o", str(out)]
    done = _run(argv, world, capsys, monkeypatch)
    assert done.rc == 2
    assert (
        f"person 'zz-last': {out / 'zz-last.md'}: exists and was not written by appveto fleet notices"
        in done.err
    )
    assert (out / "zz-last.md").read_text() == "our own notes\n"
    listed = (out / RECORD).read_text(encoding="utf-8").split("\n")[1:-1]
    assert "zz-last.md" not in listed and "README.md" not in listed and len(listed) > 2
    first = {n: (out / n).read_bytes() for n in listed}

    done = _run(argv, world, capsys, monkeypatch)  # its own notices are replaced, no error
    assert done.rc == 2 and "a_b.md" not in done.err and done.err.count("was not written by") == 1
    assert {n: (out / n).read_bytes() for n in listed} == first

    done = _run([*argv, "--force"], world, capsys, monkeypatch)
    assert "was not written by" not in done.err
    replaced = (out / "zz-last.md").read_text()
    assert replaced.startswith("#") and "our own" not in replaced
    assert (out / "README.md").read_text() == "# this folder\n"


def test_sender_with_a_line_break_is_refused_before_anything_is_written(
    fresh: Callable[[], hw.World], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = fresh()
    out = world.root / "notices"
    argv = [
        "fleet",
        "notices",
        "-w",
        str(world.ws),
        "--at",
        hw.AT,
        "-o",
        str(out),
        "--sender",
        "a@b.org\r\nBcc: x@y.org",
    ]
    done = _run(argv, world, capsys, monkeypatch)
    assert done.rc == 2 and "--sender" in done.err and not out.exists()


def test_evaluate_csv_cells_are_neutralised_and_round_trip(
    fresh: Callable[[], hw.World], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = fresh()
    done = _run(
        ["fleet", "evaluate", "-w", str(world.ws), "--at", hw.AT, "--format", "csv"],
        world,
        capsys,
        monkeypatch,
    )
    rows = list(csv.DictReader(io.StringIO(done.out, newline="")))
    names = {csvcells.original(r["device_name"]) for r in rows}
    apps = {csvcells.original(r["app_name"]) for r in rows}
    assert {p[4].strip() for p in hw.PEOPLE} <= names and {p[5].strip() for p in hw.PEOPLE} <= apps
    assert all(not c or c[0] not in csvcells.FORMULA_START for r in rows for c in r.values())


def test_demo_data_refuses_a_non_empty_folder_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fleet"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert main(["demo-data", str(out), "--people", "5"]) == 2
    assert "not empty" in capsys.readouterr().err and sorted(os.listdir(out)) == ["notes.txt"]
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (out / "directory.json").symlink_to(victim)
    assert main(["demo-data", str(out), "--people", "5", "--force"]) == 2
    assert "symbolic link" in capsys.readouterr().err and victim.read_text() == "keep\n"
    (out / "directory.json").unlink()
    assert main(["demo-data", str(out), "--people", "5", "--force"]) == 0
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "directory.json").is_file()


def test_demo_data_force_leaves_no_file_of_an_earlier_run(tmp_path: Path) -> None:
    """A larger fleet wrote more inventory files than a smaller one does: run again with
    --force, the earlier run's extra files go (an import of ``amapi-*`` then reads one
    fleet, not two mixed); files it never wrote stay."""
    out = tmp_path / "fleet"
    assert main(["demo-data", str(out), "--people", "5"]) == 0
    record = out / RECORD
    first = record.read_text(encoding="utf-8").split("\n")[1:-1]
    assert sorted(first) == sorted(p.name for p in out.iterdir() if p.name != RECORD)
    # as a larger run would have left them: more inventory files, listed as written
    (out / "amapi-002.json").write_text("{}")
    (out / "apple-002.plist").write_text("")
    more = "amapi-002.json\napple-002.plist\n"
    record.write_text(record.read_text(encoding="utf-8") + more, encoding="utf-8")
    (out / "notes.txt").write_text("mine\n")
    assert main(["demo-data", str(out), "--people", "5", "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([RECORD, "notes.txt", *first])
    assert record.read_text(encoding="utf-8").split("\n")[1:-1] == first
