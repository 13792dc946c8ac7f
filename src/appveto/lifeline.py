"""Worker processes that die with the process that started them.

A process pool's workers wait for work on a pipe. When the parent is killed
(``kill -9``, the OOM killer) nothing tells them: each worker holds both ends of the pool's
pipes, so none ever reads end-of-file, and the workers (and the resource tracker that
waits for them) would run forever. So every pool appveto starts passes
:meth:`Lifeline.initializer` and :meth:`Lifeline.initargs` to its workers, which then

* ask the kernel to kill them when their parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``
  on Linux), and check that the parent did not die before they asked;
* watch a pipe whose writing end only the parent holds (a forked worker closes its
  inherited copy first): end-of-file there means the parent is gone, and the worker
  exits at once; a thread also compares the parent's PID every second, for systems
  without ``prctl``;
* ignore Ctrl-C (SIGINT), which the terminal sends to the whole process group (and
  start with it held back, see :class:`Pool`): the parent handles it, stops the pool
  and waits for it, so an interrupted command leaves no process behind either.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any

PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 1.0


class Lifeline:
    """Create it in the parent before the pool, keep it until the pool is shut down."""

    def __init__(self, ctx: Any) -> None:
        self._reader, self._writer = ctx.Pipe(duplex=False)
        self._ctx = ctx
        self._fork = ctx.get_start_method() == "fork"
        self.parent = os.getpid()

    def initargs(self, *more: Any) -> tuple[Any, ...]:
        """Arguments for :func:`attach`, then ``more``: the pool's own initializer and its
        arguments."""
        # a forked worker gets the parent's objects as they are (nothing is pickled): it
        # closes its copy of the writing end; a spawned one never receives it
        return (self.parent, self._reader, self._writer if self._fork else None, *more)

    def pool(self, max_workers: int, initializer: Any = None, initargs: tuple[Any, ...] = ()) -> Any:
        """A ``ProcessPoolExecutor`` on this context whose workers hold this lifeline."""
        return Pool(
            max_workers=max_workers,
            mp_context=self._ctx,
            initializer=attach,
            initargs=self.initargs(initializer, *initargs),
        )

    def close(self) -> None:
        for conn in (self._reader, self._writer):
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> Lifeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Pool(ProcessPoolExecutor):
    """Workers are started while :meth:`submit` runs: Ctrl-C is held back meanwhile (it
    stays pending for this process, and is handled as soon as ``submit`` returns), so a
    new worker never starts with Ctrl-C deliverable before it could ignore it."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if not hasattr(signal, "pthread_sigmask"):
            return super().submit(fn, *args, **kwargs)
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _pdeathsig() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the pipe and the PID watch still stop the worker


def _watch(parent: int, reader: Any) -> None:
    try:
        while True:
            if reader.poll(_POLL_SECONDS):
                reader.recv_bytes()  # nothing is ever sent: only end-of-file comes
            if os.getppid() != parent:
                break
    except (EOFError, OSError):
        pass
    os._exit(1)


def attach(parent: int, reader: Any, writer: Any, initializer: Any = None, *args: Any) -> None:
    """The worker's side (a pool initializer): see the module; then ``initializer(*args)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if writer is not None:  # forked: this copy of the parent's end would keep the pipe open
        with contextlib.suppress(OSError):
            writer.close()
    _pdeathsig()
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, reader), name="appveto-lifeline", daemon=True).start()
    if initializer is not None:
        initializer(*args)
