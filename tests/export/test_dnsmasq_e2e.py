"""End to end: a real dnsmasq with the generated file answers NXDOMAIN for a banned
domain and its subdomains, and still answers for an unbanned one (owned by Meta)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appveto.export.registry import EXPORTERS
from tests.conftest import require_tool
from tests.export.dnsclient import NOERROR, NXDOMAIN, free_port, query
from tests.export.fixtures import policy_targets

START_TIMEOUT = 15.0


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tool = require_tool("dnsmasq")
    tmp: Path = tmp_path_factory.mktemp("dnsmasq")
    conf = tmp / "appveto.conf"
    conf.write_bytes(EXPORTERS["dnsmasq"].export(policy_targets()["test-parl-networks"]).content)
    port = free_port()
    argv = [
        tool,
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--pid-file=",
        "--bind-interfaces",
        "--listen-address=127.0.0.1",
        f"--port={port}",
        "--log-facility=-",
        # the "upstream" answer for the unbanned name, so nothing leaves the machine
        "--address=/facebook.com/192.0.2.10",
        f"--conf-file={conf}",
    ]
    log = (tmp / "log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"dnsmasq exited: {(tmp / 'log').read_text(errors='replace')}")
            try:
                query("facebook.com", source="127.0.0.1", port=port, timeout=0.3)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("dnsmasq did not answer in time") from None
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_banned_domain_and_subdomain_are_nxdomain(dnsmasq: int) -> None:
    for name in ("tiktok.com", "www.tiktok.com", "api16-normal-c-useast1a.tiktokv.com", "byteoversea.com"):
        assert query(name, source="127.0.0.1", port=dnsmasq)[0] == NXDOMAIN, name


def test_unbanned_domain_resolves(dnsmasq: int) -> None:
    assert query("facebook.com", source="127.0.0.1", port=dnsmasq) == (NOERROR, 1)


def test_control_an_unlisted_name_is_not_nxdomain(dnsmasq: int) -> None:
    """Without upstream servers dnsmasq refuses or fails unknown names; so the NXDOMAIN
    answers above come from the generated address=/domain/ lines, not from the setup."""
    assert query("example.org", source="127.0.0.1", port=dnsmasq)[0] != NXDOMAIN
