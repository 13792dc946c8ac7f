"""One CLI grammar: every command and option explained, dates as --at, policies by workspace,
errors with the subcommand's own usage, and the documented command lines parse."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator

import pytest

from appveto.cli.main import build_parser, main
from tests.conftest import REPO


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """(command path, parser, the help line its parent lists it with) for every (sub)command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias
                    continue
                seen.add(id(sub))
                yield (*path, name), sub, helps.get(name)
                yield from _commands(sub, (*path, name))


ALL = list(_commands(build_parser()))


def _options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for a in parser._actions:
        if isinstance(a, argparse._HelpAction | argparse._VersionAction | argparse._SubParsersAction):
            continue
        yield a


def test_the_tree_is_walked() -> None:
    names = {" ".join(p) for p, _, _ in ALL}
    assert {"scan", "demo", "fleet evaluate", "policy check", "export", "directory import"} <= names


@pytest.mark.parametrize(("path", "parser", "listed"), ALL, ids=[" ".join(p) for p, _, _ in ALL])
def test_every_command_and_option_has_help(
    path: tuple[str, ...], parser: argparse.ArgumentParser, listed: str | None
) -> None:
    where = " ".join(path)
    assert listed and listed.strip(), f"'{where}' has no help line in its parent's list"
    assert parser.description and parser.description.strip(), f"'{where}' has no description"
    missing = [a.option_strings[0] if a.option_strings else a.dest for a in _options(parser) if not a.help]
    assert not missing, f"'{where}': options without help: {missing}"
    text = parser.format_help()
    assert "``" not in text and not re.search(r":(mod|func|class|meth|data):`", text), where


DATE_WORDS = re.compile(r"\b(date|day|when|time)\b", re.I)


@pytest.mark.parametrize(("path", "parser", "listed"), ALL, ids=[" ".join(p) for p, _, _ in ALL])
def test_dates_are_taken_as_at_with_now_as_its_alias(
    path: tuple[str, ...], parser: argparse.ArgumentParser, listed: str | None
) -> None:
    strings = {s for a in _options(parser) for s in a.option_strings}
    if "--at" in strings or "--now" in strings:
        (at,) = [a for a in _options(parser) if "--at" in a.option_strings]
        assert "--now" in at.option_strings, f"'{' '.join(path)}': --now is not the alias of --at"


def _reads_policies(parser: argparse.ArgumentParser) -> bool:
    return any(
        "--policies" in a.option_strings or (a.dest in {"policies", "folder"} and "polic" in (a.help or ""))
        for a in _options(parser)
    )


@pytest.mark.parametrize(("path", "parser", "listed"), ALL, ids=[" ".join(p) for p, _, _ in ALL])
def test_commands_that_read_policies_take_the_workspace(
    path: tuple[str, ...], parser: argparse.ArgumentParser, listed: str | None
) -> None:
    if path == ("demo",) or not _reads_policies(parser):
        return  # the demo creates its own workspace
    strings = {s for a in _options(parser) for s in a.option_strings}
    assert {"-w", "--workspace", "--policies"} <= strings, f"'{' '.join(path)}' reads policies: {strings}"


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["scan", "--no-such-flag", "x.apk"], "scan"),
        (["fleet", "evaluate", "--no-such-flag"], "fleet evaluate"),
        (["policy", "check", "pol", "--no-such-flag"], "policy check"),
    ],
)
def test_a_subcommand_error_shows_its_own_usage(
    argv: list[str], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"usage: appveto {command} " in err, err
    assert "unrecognized arguments: --no-such-flag" in err


# ----------------------------------------------------------- documented command lines


def _documented_lines() -> Iterator[tuple[str, str]]:
    files = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    for f in files:
        in_block = False
        pending = ""
        for n, raw in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if raw.lstrip().startswith("```"):
                in_block = not in_block
                continue
            if not in_block:
                continue
            line = pending + raw.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            line = re.sub(r"^\$\s*", "", line)
            if line.startswith("appveto "):
                yield f"{f.relative_to(REPO)}:{n}", line


DOCUMENTED = list(_documented_lines())


def test_the_docs_have_command_lines() -> None:
    assert len(DOCUMENTED) >= 20
    assert any(where.startswith("README.md") for where, _ in DOCUMENTED)


SYNOPSIS = re.compile(r"\[-|\b[A-Z][A-Z_]+\.\.\.|\b(TARGET|SOURCE|FILE|DIR|OUT|POLICY|APK)\b(?! *\])")


def _synopsis_options(line: str) -> tuple[list[str], list[str]]:
    """The command words and the option names of a synopsis line (``appveto x [--y N]``)."""
    words = line.split()[1:]
    command = []
    for w in words:
        if not re.fullmatch(r"[a-z][a-z-]*", w):
            break
        command.append(w)
    options = re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", line)
    return command, options


@pytest.mark.parametrize(("where", "line"), DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_documented_command_lines_parse(where: str, line: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A command line parses as it is; a synopsis (``[--opt X]``, ``FILE...``) names a real
    command and only options that command has."""
    argv = shlex.split(line, comments=True)
    for stop in ("|", ">", "&&", ";", "2>&1"):
        if stop in argv:
            argv = argv[: argv.index(stop)]
    if SYNOPSIS.search(line):
        command, options = _synopsis_options(" ".join(argv))
        parsers = {p: parser for p, parser, _ in ALL}
        while command and tuple(command) not in parsers:
            command.pop()  # a TARGET word such as 'all' is a value, not a command
        assert command, f"{where}: '{line}' names no command"
        known = {s for a in parsers[tuple(command)]._actions for s in a.option_strings}
        unknown = [o for o in options if o not in known]
        assert not unknown, f"{where}: '{line}': {' '.join(command)} has no {unknown}"
        return
    try:
        args = build_parser().parse_args(argv[1:])
    except SystemExit as exc:
        pytest.fail(f"{where}: '{line}' does not parse (exit {exc.code}): {capsys.readouterr().err}")
    assert getattr(args, "handler", None) is not None, f"{where}: '{line}' names no command"


def test_help_of_every_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    for path, _, _ in ALL:
        with pytest.raises(SystemExit) as info:
            main([*path, "--help"])
        assert info.value.code == 0
    assert "usage: appveto" in capsys.readouterr().out


def test_docs_policies_documents_authorities_and_network_zones() -> None:
    text = (REPO / "docs" / "policies.md").read_text(encoding="utf-8")
    assert "authorities.yaml" in text and "network_zones" in text
    assert re.search(r"^#+ .*authorities\.yaml", text, re.M), "no section on authorities.yaml"
    assert re.search(r"^#+ .*[Nn]etwork zones", text, re.M), "no section on network zones"
