"""End to end: a real Unbound with the generated configuration blocks only inside the zone.

Unbound listens on 127.0.0.1 (a free high port). The test policy's zones are loopback
ranges (staff-lan holds 127.0.0.2, visitor-wifi 127.0.0.4); queries are sent from
sockets bound to those addresses, and from 127.0.0.3, which is in no zone. Authoritative
zones loaded into Unbound itself answer for the test names, so nothing leaves the machine.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appveto.export.dns import combined_unbound
from appveto.export.registry import EXPORTERS
from tests.conftest import require_tool
from tests.export.dnsclient import NOERROR, NXDOMAIN, free_port, query
from tests.export.fixtures import policy_targets

IN_ZONE = "127.0.0.2"
IN_OTHER_ZONE = "127.0.0.4"
OUTSIDE = "127.0.0.3"
START_TIMEOUT = 15.0


# The "upstream" answers for the test names: authoritative zones served to Unbound's own
# iterator (for-upstream), i.e. the normal resolution path a blocked client never reaches.
ANSWERS = {
    "tiktok.com": ("192.0.2.20", "www"),
    "tiktokv.com": ("192.0.2.30", "api16-normal-c-useast1a"),
    "facebook.com": ("192.0.2.10", "www"),
    "douyin.com": ("192.0.2.40", "www"),
}


def _auth_zone(tmp: Path, name: str) -> str:
    address, sub = ANSWERS[name]
    (tmp / f"{name}.zone").write_text(
        f"$ORIGIN {name}.\n$TTL 60\n"
        "@ IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 60\n"
        "@ IN NS ns.invalid.\n"
        f"@ IN A {address}\n{sub} IN A {address}\n",
        encoding="utf-8",
    )
    return (
        f'auth-zone:\n    name: "{name}."\n    zonefile: "{tmp}/{name}.zone"\n'
        "    for-downstream: no\n    for-upstream: yes\n    fallback-enabled: no\n"
    )


def _start_unbound(tmp: Path, appveto_conf: bytes) -> Iterator[int]:
    """Run Unbound on a free loopback port with ``appveto_conf`` included; stop it after."""
    unbound = require_tool("unbound")
    checkconf = require_tool("unbound-checkconf")
    (tmp / "appveto.conf").write_bytes(appveto_conf)
    port = free_port()
    (tmp / "unbound.conf").write_text(
        f"""server:
    interface: 127.0.0.1
    port: {port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{tmp}"
    pidfile: "{tmp}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    do-ip6: no
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
include: "{tmp}/appveto.conf"
{"".join(_auth_zone(tmp, name) for name in ANSWERS)}""",
        encoding="utf-8",
    )
    check = subprocess.run(
        [checkconf, str(tmp / "unbound.conf")], check=False, capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
    log = (tmp / "stderr.log").open("wb")
    proc = subprocess.Popen([unbound, "-d", "-c", str(tmp / "unbound.conf")], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"unbound exited: {(tmp / 'stderr.log').read_text(errors='replace')}")
            try:
                query("facebook.com", source=OUTSIDE, port=port, timeout=0.3)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("unbound did not answer in time") from None
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def resolver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    target = policy_targets()["test-parl-networks"]
    yield from _start_unbound(tmp_path_factory.mktemp("unbound"), EXPORTERS["unbound"].export(target).content)


@pytest.fixture(scope="module")
def combined_resolver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Two decisions on one server: the TikTok ban on the parliament zones (127.0.0.2,
    127.0.0.4) and the ByteDance family ban on the staff zone (127.0.20.0/24)."""
    art = combined_unbound(list(policy_targets().values()), generator="test")
    assert art is not None
    yield from _start_unbound(tmp_path_factory.mktemp("unbound-combined"), art.content)


def test_banned_domain_and_subdomains_blocked_in_zone(resolver: int) -> None:
    for source in (IN_ZONE, IN_OTHER_ZONE):
        assert query("tiktok.com", source=source, port=resolver)[0] == NXDOMAIN
        # a subdomain with an answer in the local data is blocked too,
        assert query("www.tiktok.com", source=source, port=resolver)[0] == NXDOMAIN
        # and so is a name the resolver has never heard of, under another banned domain.
        assert query("api16-normal-c-useast1a.tiktokv.com", source=source, port=resolver)[0] == NXDOMAIN


def test_unbanned_domain_resolves_in_zone(resolver: int) -> None:
    assert query("facebook.com", source=IN_ZONE, port=resolver) == (NOERROR, 1)


def test_client_outside_the_zone_is_not_blocked(resolver: int) -> None:
    assert query("tiktok.com", source=OUTSIDE, port=resolver) == (NOERROR, 1)
    assert query("www.tiktok.com", source=OUTSIDE, port=resolver) == (NOERROR, 1)
    assert query("api16-normal-c-useast1a.tiktokv.com", source=OUTSIDE, port=resolver) == (NOERROR, 1)
    assert query("facebook.com", source=OUTSIDE, port=resolver) == (NOERROR, 1)


FAMILY_ZONE = "127.0.20.5"


def test_combined_file_blocks_each_decision_in_its_own_zones(combined_resolver: int) -> None:
    port = combined_resolver
    # TikTok is banned by both decisions: blocked in both decisions' zones.
    for source in (IN_ZONE, IN_OTHER_ZONE, FAMILY_ZONE):
        assert query("www.tiktok.com", source=source, port=port)[0] == NXDOMAIN
    # Douyin is banned only by the family decision: blocked in its zone only.
    assert query("douyin.com", source=FAMILY_ZONE, port=port)[0] == NXDOMAIN
    assert query("www.douyin.com", source=FAMILY_ZONE, port=port)[0] == NXDOMAIN
    assert query("douyin.com", source=IN_ZONE, port=port) == (NOERROR, 1)
    # Outside every zone nothing is blocked; an unbanned domain resolves everywhere.
    assert query("tiktok.com", source=OUTSIDE, port=port) == (NOERROR, 1)
    assert query("douyin.com", source=OUTSIDE, port=port) == (NOERROR, 1)
    assert query("facebook.com", source=FAMILY_ZONE, port=port) == (NOERROR, 1)
