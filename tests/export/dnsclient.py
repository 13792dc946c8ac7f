"""A tiny DNS client for the end-to-end tests: one A query over UDP from a chosen
loopback address, with a bounded timeout (no third-party resolver library needed)."""

from __future__ import annotations

import random
import socket
import struct

NOERROR, NXDOMAIN = 0, 3
QUERY_TIMEOUT = 2.0


def free_port() -> int:
    for _ in range(50):
        port = random.randint(20000, 60000)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u, socket.socket() as t:
            try:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port found")


def query(name: str, *, source: str, port: int, timeout: float = QUERY_TIMEOUT) -> tuple[int, int]:
    """One A query over UDP from ``source``: (rcode, number of answers)."""
    qid = random.randint(0, 0xFFFF)
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        packet += bytes([len(label)]) + label.encode("ascii")
    packet += b"\x00" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(timeout)
        s.sendto(packet, ("127.0.0.1", port))
        while True:
            data, _ = s.recvfrom(4096)
            rid, flags, _qd, an = struct.unpack(">HHHH", data[:8])
            if rid == qid and flags & 0x8000:
                return flags & 0x000F, an
