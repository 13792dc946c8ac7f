"""The importers' bounded memo."""

from __future__ import annotations

from appveto.fleet.importers._memo import Memo


def test_entries_by_group_within_the_limit() -> None:
    memo: Memo[str, int] = Memo(3)
    a = memo.group("a")
    memo.add("a", "x", 1)
    memo.add("b", "x", 2)
    assert a == {"x": 1} and memo.group("b") == {"x": 2} and memo.held == 2
    memo.add("a", "y", 3)
    assert memo.held == 3
    memo.add("b", "z", 4)  # past the limit: every group starts afresh
    assert memo.held == 1 and a == {} and memo.group("a") == {} and memo.group("b") == {"z": 4}


def test_never_more_than_the_limit() -> None:
    memo: Memo[int, int] = Memo(10)
    for i in range(1_000):
        memo.add(i % 7, i, i)
        assert memo.held <= 10
        assert sum(len(memo.group(g)) for g in range(7)) == memo.held
