"""The DNS files pass the real tools' own checkers (named-checkzone, unbound-checkconf, dnsmasq)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pytest

from appveto.export.dns import rpz_origin
from appveto.export.registry import EXPORTERS
from appveto.export.target import EnforcementTarget
from tests.conftest import REPO, require_tool
from tests.export.fixtures import policy_targets, sample_target

TIMEOUT = 30


EXAMPLES = REPO / "examples" / "policies"


def _network_targets() -> list[EnforcementTarget]:
    """The sample, the test policies' and the example library's decisions with DNS zones."""
    by_id = policy_targets()
    found = [sample_target(), by_id["test-parl-networks"], by_id["test-family"]]
    if EXAMPLES.is_dir():
        from appveto.export.adapter import targets_from_policies
        from appveto.policy.load import load_policies

        targets, _ = targets_from_policies(load_policies(EXAMPLES), at=date(2023, 4, 15), generator="t")
        found += [t for t in targets if any(z.networks for z in t.zones) and t.domains]
    return found


N_TARGETS = len(_network_targets())


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)


@pytest.mark.parametrize("index", range(N_TARGETS))
def test_rpz_passes_named_checkzone(tmp_path: Path, index: int) -> None:
    tool = require_tool("named-checkzone")
    target = _network_targets()[index]
    art = EXPORTERS["rpz"].export(target)
    path = _write(tmp_path, art.filename, art.content)
    res = _run([tool, rpz_origin(target), str(path)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"loaded serial {target.at:%Y%m%d}01" in res.stdout
    # Every blocked domain has its own record and the wildcard for its subdomains.
    text = art.content.decode()
    for d in target.domains:
        assert f"\n{d.name} CNAME .\n" in text
        assert f"\n*.{d.name} CNAME .\n" in text


def test_named_checkzone_catches_a_broken_zone(tmp_path: Path) -> None:
    """Control: the checker is really checking (a zone without SOA is refused)."""
    tool = require_tool("named-checkzone")
    target = sample_target()
    art = EXPORTERS["rpz"].export(target)
    broken = b"\n".join(line for line in art.content.split(b"\n") if b" SOA " not in line)
    path = _write(tmp_path, "broken.zone", broken)
    assert _run([tool, rpz_origin(target), str(path)]).returncode != 0


@pytest.mark.parametrize("index", range(N_TARGETS))
def test_unbound_config_passes_unbound_checkconf(tmp_path: Path, index: int) -> None:
    tool = require_tool("unbound-checkconf")
    art = EXPORTERS["unbound"].export(_network_targets()[index])
    path = _write(tmp_path, art.filename, art.content)
    res = _run([tool, str(path)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no errors" in res.stdout


def test_unbound_checkconf_catches_an_undefined_tag(tmp_path: Path) -> None:
    tool = require_tool("unbound-checkconf")
    art = EXPORTERS["unbound"].export(sample_target())
    broken = b"\n".join(line for line in art.content.split(b"\n") if b"define-tag" not in line)
    path = _write(tmp_path, "broken.conf", broken)
    assert _run([tool, str(path)]).returncode != 0


@pytest.mark.parametrize("index", range(N_TARGETS))
def test_dnsmasq_config_passes_dnsmasq_test(tmp_path: Path, index: int) -> None:
    tool = require_tool("dnsmasq")
    art = EXPORTERS["dnsmasq"].export(_network_targets()[index])
    path = _write(tmp_path, art.filename, art.content)
    res = _run([tool, "--test", "-C", str(path)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "syntax check OK" in res.stdout + res.stderr


def test_dnsmasq_test_catches_a_bad_line(tmp_path: Path) -> None:
    tool = require_tool("dnsmasq")
    art = EXPORTERS["dnsmasq"].export(sample_target())
    path = _write(tmp_path, "broken.conf", art.content + b"address=/tiktok.com/not-an-address\n")
    assert _run([tool, "--test", "-C", str(path)]).returncode != 0


def test_combined_unbound_file_passes_unbound_checkconf_without_duplicates(tmp_path: Path) -> None:
    from appveto.export.dns import combined_unbound

    tool = require_tool("unbound-checkconf")
    art = combined_unbound(_network_targets(), generator="test")
    assert art is not None
    path = _write(tmp_path, art.filename, art.content)
    res = _run([tool, str(path)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "duplicate" not in res.stdout + res.stderr


@pytest.mark.parametrize("index", range(N_TARGETS))
def test_rpz_named_conf_snippet_passes_named_checkconf(tmp_path: Path, index: int) -> None:
    """The views printed in the zone file's header, pasted into a named.conf, load the zone."""
    tool = require_tool("named-checkconf")
    art = EXPORTERS["rpz"].export(_network_targets()[index])
    (tmp_path / art.filename).write_bytes(art.content)
    lines = art.content.decode().splitlines()
    start = lines.index("; named.conf snippet:") + 1
    snippet = []
    for line in lines[start:]:
        if not line.startswith(";   "):
            break
        snippet.append(line[2:])
    conf = tmp_path / "named.conf"
    conf.write_text(f'options {{ directory "{tmp_path}"; }};\n' + "\n".join(snippet) + "\n", encoding="utf-8")
    res = _run([tool, "-z", str(conf)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "loaded serial" in res.stdout
