"""The importers' bounded memo."""

from __future__ import annotations

from appveto.fleet.importers._memo import MAX_TEXT, Memo


def test_entries_by_group_within_the_limit() -> None:
    memo: Memo[str, int] = Memo(3)
    a = memo.group("a")
    memo.add("a", "x", 1, 1)
    memo.add("b", "x", 2, 1)
    assert a == {"x": 1} and memo.group("b") == {"x": 2} and memo.held == 2
    memo.add("a", "y", 3, 1)
    assert memo.held == 3
    memo.add("b", "z", 4, 1)  # past the limit: every group starts afresh
    assert memo.held == 1 and a == {} and memo.group("a") == {} and memo.group("b") == {"z": 4}


def test_never_more_than_the_limit() -> None:
    memo: Memo[int, int] = Memo(10)
    for i in range(MAX_TEXT - 50, MAX_TEXT + 50):
        memo.add(i % 7, i, i, i)
        assert memo.held <= 10
        assert i <= MAX_TEXT or i not in memo.group(i % 7)  # long texts are not remembered
        assert sum(len(memo.group(g)) for g in range(7)) == memo.held
