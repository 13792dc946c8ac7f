"""The commands: scan --format/--fail-on, compare, diff, schema; exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appveto.cli.main import main
from appveto.report.json_report import render_schema
from tests.apkbuilder import ApkSpec, build_apk, make_signing_key
from tests.conftest import corpus_apk
from tests.report.helpers import NOW_ARG, in_dir


@pytest.fixture(autouse=True)
def _no_user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPVETO_DATA_DIR", str(tmp_path / "no-data"))


def run(*argv: str) -> int:
    return main(list(argv))


def test_scan_json_is_byte_identical_with_now(tmp_path: Path) -> None:
    apk = corpus_apk("quark-ahmyth-rat.apk")
    with in_dir(apk.parent):
        assert (
            run("scan", apk.name, "--format", "json", "--now", NOW_ARG, "-o", str(tmp_path / "a.json")) == 0
        )
        assert (
            run("scan", apk.name, "--format", "json", "--now", NOW_ARG, "-o", str(tmp_path / "b.json")) == 0
        )
    a = (tmp_path / "a.json").read_bytes()
    assert a == (tmp_path / "b.json").read_bytes()
    assert json.loads(a)["results"][0]["scanned_at"] == NOW_ARG


def test_fail_on(tmp_path: Path) -> None:
    apk = str(corpus_apk("quark-ahmyth-rat.apk"))  # its worst finding is high, none critical
    out = str(tmp_path / "o.txt")
    assert run("scan", apk, "--fail-on", "high", "-o", out) == 1
    assert run("scan", apk, "--fail-on", "critical", "-o", out) == 0
    assert run("scan", apk, "-o", out) == 0


def test_bad_input_is_reported_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"nope")
    good = str(corpus_apk("fdroid-souch-smsbypass.apk"))
    out = tmp_path / "o.json"
    assert run("scan", str(bad), good, "--format", "json", "--fail-on", "info", "-o", str(out)) == 2
    doc = json.loads(out.read_text("utf-8"))
    assert [r["error"] is None for r in doc["results"]] == [False, True]
    assert "bad.apk" in capsys.readouterr().err


def test_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    apk = tmp_path / "x.apk"
    apk.write_bytes(corpus_apk("fdroid-souch-smsbypass.apk").read_bytes())
    assert run("scan", str(apk), "--format", "sarif", "-o", str(apk)) == 2
    assert apk.read_bytes() == corpus_apk("fdroid-souch-smsbypass.apk").read_bytes()


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html"])
def test_every_text_format_writes(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"o.{fmt}"
    assert run("scan", str(corpus_apk("fdroid-souch-smsbypass.apk")), "--format", fmt, "-o", str(out)) == 0
    assert "souch.smsbypass" in out.read_text("utf-8")


def test_schema_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("schema", "scan") == 0
    assert capsys.readouterr().out == render_schema()


def test_compare_apks_and_saved_documents(tmp_path: Path) -> None:
    a, b = str(corpus_apk("fdroid-souch-smsbypass.apk")), str(corpus_apk("quark-ahmyth-rat.apk"))
    saved = tmp_path / "b.json"
    assert run("scan", b, "--format", "json", "-o", str(saved)) == 0
    out = tmp_path / "cmp.json"
    assert run("compare", a, str(saved), "--format", "json", "-o", str(out)) == 0
    doc = json.loads(out.read_text("utf-8"))
    assert [x["package"] for x in doc["apps"]] == ["souch.smsbypass", "ahmyth.mine.king.ahmyth"]
    assert run("compare", a, "-o", str(tmp_path / "one.txt")) == 2


def test_diff_exit_codes(tmp_path: Path) -> None:
    k1, k2 = make_signing_key(common_name="One"), make_signing_key(common_name="Two")
    old, new = tmp_path / "old.apk", tmp_path / "new.apk"
    old.write_bytes(build_apk(ApkSpec(package="org.example.d", key=k1)))
    new.write_bytes(build_apk(ApkSpec(package="org.example.d", version_code=2, key=k2)))
    out = str(tmp_path / "d.txt")
    assert run("diff", str(old), str(new), "-o", out) == 0
    assert "signer-changed" in Path(out).read_text("utf-8")
    assert run("diff", str(old), str(new), "--fail-on", "critical", "-o", out) == 1
    assert run("diff", str(old), str(old), "--fail-on", "info", "-o", out) == 0
    assert run("diff", str(old), str(new), "--fail-on", "bogus", "-o", out) == 2
    assert run("diff", str(old), str(tmp_path / "absent.apk"), "-o", out) == 2


def test_diff_fail_on_a_score(tmp_path: Path) -> None:
    old, new = corpus_apk("dendroid-rat-original.apk"), corpus_apk("dendroid-rat-dexguarded.apk")
    out = tmp_path / "d.json"
    assert run("diff", str(old), str(new), "--format", "json", "-o", str(out)) == 0
    d = json.loads(out.read_text("utf-8"))
    assert d["score"]["new"] > d["score"]["old"]
    assert any(c["kind"] == "auditability-drop" for c in d["changes"])
    below = str(int(d["score"]["new"]) - 1)
    above = str(int(d["score"]["new"]) + 1)
    assert run("diff", str(old), str(new), "--fail-on", below, "-o", str(out)) == 1
    assert run("diff", str(old), str(new), "--fail-on", above, "-o", str(out)) == 0
    assert run("diff", str(new), str(old), "--fail-on", "0", "-o", str(out)) == 0  # the score went down


def test_process_pool_gives_the_same_bytes(tmp_path: Path) -> None:
    names = ("fdroid-souch-smsbypass.apk", "quark-ahmyth-rat.apk", "nope.apk")
    folder = corpus_apk(names[0]).parent
    with in_dir(folder):
        assert (
            run("scan", *names, "--format", "json", "--now", NOW_ARG, "-j", "1", "-o", str(tmp_path / "a"))
            == 2
        )
        assert (
            run("scan", *names, "--format", "json", "--now", NOW_ARG, "-j", "2", "-o", str(tmp_path / "b"))
            == 2
        )
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_registry_drives_the_format_choices() -> None:
    from appveto.cli.main import build_parser
    from appveto.report.registry import formats, get
    from tests.report.helpers import record

    sub = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for command, document in (("scan", "scan"), ("compare", "compare"), ("diff", "diff")):
        fmt = next(a for a in sub[command]._actions if a.dest == "format")
        assert tuple(fmt.choices) == formats(document)
    assert {"text", "json", "sarif", "html", "pdf"} <= set(formats("scan"))
    assert {"text", "json", "html", "pdf"} <= set(formats("compare")) & set(formats("diff"))
    rec = record("fdroid-souch-smsbypass.apk")
    for name in formats("scan"):
        rep = get("scan", name)
        assert rep.format == name and rep.document == "scan"
        if not rep.binary:
            assert isinstance(rep.render([rec]), str)
