"""Work counted, not timed: bounds for tests that guard against slow (quadratic, unbounded)
code on a shared, loaded machine.

A wall-clock bound fails when the machine is busy and passes a regression on a fast one.
:func:`lines_run` counts the lines of Python executed in the packages named (appveto's by
default) while a call runs: the same number on any machine under any load, and it grows
with the work the code does. :func:`growth` compares that count for an input and for one
``factor`` times larger: about ``factor`` for linear work, ``factor ** 2`` for quadratic.
Work done inside C (a regex, ``bytes.find``, zlib) is one line however long it takes; where
that is the risk, a test bounds :func:`cpu_seconds` (this process's CPU time, which other
processes' load does not inflate) with a generous margin, or the memory it allocates.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, TypeVar

import appveto

T = TypeVar("T")

APPVETO = str(Path(appveto.__file__).resolve().parent)


def _roots(packages: Iterable[object]) -> tuple[str, ...]:
    out = []
    for p in packages:
        if isinstance(p, str):
            out.append(p)
        else:
            file = getattr(p, "__file__", None)
            assert file, p
            out.append(str(Path(file).resolve().parent))
    return tuple(out)


def lines_run(fn: Callable[[], T], *, packages: Iterable[object] = (APPVETO,)) -> tuple[T, int]:
    """``fn()``'s result and the number of lines executed in ``packages`` (folders, or
    imported packages) while it ran (this thread only)."""
    roots = _roots(packages)
    mine: dict[CodeType, bool] = {}
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        hit = mine.get(code)
        if hit is None:
            hit = mine[code] = code.co_filename.startswith(roots)
        return local if hit else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = fn()
    finally:
        sys.settrace(previous)
    return result, count


def growth(
    run: Callable[[T], object],
    small: T,
    large: T,
    *,
    packages: Iterable[object] = (APPVETO,),
) -> tuple[int, int]:
    """Lines executed by ``run(small)`` and by ``run(large)``."""
    roots = tuple(packages)
    _, a = lines_run(lambda: run(small), packages=roots)
    _, b = lines_run(lambda: run(large), packages=roots)
    assert a > 0, "nothing executed in the packages counted: the wrong package?"
    return a, b


def assert_linear(counts: tuple[int, int], factor: float) -> None:
    """The larger input (``factor`` times the smaller) cost at most 1.5 x ``factor`` the
    lines: linear work (plus a fixed part) passes, quadratic (``factor ** 2``) fails."""
    a, b = counts
    assert b <= 1.5 * factor * a, f"{a} lines for n, {b} for {factor:g} n: {b / a:.1f}x (linear: {factor:g}x)"


def cpu_seconds(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()``'s result and the CPU time this process spent on it."""
    t0 = time.process_time()
    result = fn()
    return result, time.process_time() - t0


def returns_unblocked(fn: Callable[[], T], *, unblock: Callable[[], object], patience: float = 120.0) -> T:
    """``fn()`` run in a thread that is expected to return without waiting for anything
    (opening a FIFO with no writer, say). A hang guard, not a speed bound: were ``fn`` to
    block, ``unblock()`` (which opens the FIFO's other end) is called after ``patience``
    seconds, so the test fails instead of hanging forever; a call that returns, however
    slowly the machine runs, passes."""
    import threading

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(patience)
    blocked = t.is_alive()
    if blocked:
        unblock()
        t.join(10)
    assert not blocked, f"still waiting after {patience:g} s: it blocked"
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def cpu_per_example(seconds: float) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """For a Hypothesis test, under ``@given``: each example may use at most ``seconds`` of
    this process's CPU time (a quadratic or exponential blow-up on some input fails it).
    Replaces Hypothesis's ``deadline``, which is wall-clock and fails on a loaded machine."""
    import functools

    def wrap(test: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(test)
        def bounded(*args: Any, **kwargs: Any) -> None:
            _, cpu = cpu_seconds(lambda: test(*args, **kwargs))
            assert cpu < seconds, f"{cpu:.2f} s of CPU for one example (bound {seconds:g} s)"

        return bounded

    return wrap
