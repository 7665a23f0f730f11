"""Auditing a large tree of repositories on every core: forked workers, a fixed merge order.

A directory of many clones (``pubaudit scan repos/``) is many independent audits, and one
Python process uses one core. When the tree is large enough to pay for a process (see
:func:`worker_count`), its repositories are dealt into one part per worker, heaviest first; the
first part is audited in this process and each other part in a child made with
``os.fork``. A child inherits the imported rules and the walked file list, so it reads and
models only its own files and sends back only what a report needs (findings, inventory,
the sources they quote) as one pickle through a pipe. Each worker goes through its part a
chunk of repositories at a time (``engine.scan.CHUNK_CI_FILES``), keeping only findings, so
its memory is that of one chunk however many repositories the tree holds. The parts are
merged in part order and the engine sorts the merged findings as it sorts a serial scan's,
so the report is the same as ``--jobs 1`` gives, byte for byte.

Forking needs Linux (``fork`` is unsafe on macOS and absent on Windows): elsewhere, and
whenever a child fails or dies, the part is audited here instead, the same as a serial scan
would, so a crash still reaches the user as it would without workers.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

P = TypeVar("P")
R = TypeVar("R")

def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def worker_count(jobs: int, units: int, amount: int, minimum: int, per_worker: int) -> int:
    """How many processes for ``units`` independent pieces of work: ``jobs`` 1 never
    splits; 0 (auto) splits only from ``minimum`` of ``amount`` (what the work costs in: CI
    files, repositories), one worker per CPU and per ``per_worker`` of it; ``jobs`` N uses
    up to N. Never more workers than units."""
    if jobs == 1 or units < 2 or not can_fork():
        return 1
    if jobs == 0:
        if amount < minimum:
            return 1
        jobs = min(available_cpus(), amount // per_worker)
    return max(1, min(jobs, units))


def deal(weights: Sequence[int], workers: int) -> list[list[int]]:
    """Indexes of ``weights`` dealt into ``workers`` bins of about equal weight: heaviest
    first, each to the lightest bin so far (ties to the lower bin), each bin's indexes in
    their original order. Deterministic: the same weights always give the same bins."""
    bins: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        lightest = min(range(workers), key=lambda b: (loads[b], b))
        bins[lightest].append(index)
        loads[lightest] += weights[index]
    return [sorted(b) for b in bins]


def run_parts(parts: Sequence[P], work: Callable[[P], R]) -> list[R]:
    """``[work(part) for part in parts]``: the first part here, the others in forked
    children at the same time. A child that raises, dies or sends something unreadable has
    its part redone here."""
    if len(parts) < 2 or not can_fork():
        return [work(part) for part in parts]
    children: list[tuple[int, int]] = []
    try:
        for part in parts[1:]:
            children.append(_fork(part, work, [fd for _, fd in children]))
        results = [work(parts[0])]
        for (pid, fd), part in zip(children, parts[1:], strict=True):
            received = _receive(pid, fd)
            results.append(received[1] if received is not None else work(part))
        children = []
        return results
    finally:
        for pid, fd in children:  # this process failed or was interrupted: stop the rest
            _stop(pid, fd)


def _fork(part: P, work: Callable[[P], R], inherited: list[int]) -> tuple[int, int]:
    import pickle  # only a split scan pays for it

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage does not follow forks
        os.close(read_fd)
        for fd in inherited:
            os.close(fd)
        status = 0
        try:
            payload = pickle.dumps((True, work(part)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # the parent redoes the part and meets the error itself
            payload, status = pickle.dumps((False, None)), 1
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(status)  # no atexit handlers, no flushing the parent's buffers twice
    os.close(write_fd)
    return pid, read_fd


def _receive(pid: int, fd: int) -> tuple[bool, Any] | None:
    """A child's ``(True, result)``, or ``None`` when it failed."""
    import pickle

    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        received = pickle.loads(data)
    except Exception:  # a child killed half-way through writing
        return None
    if not (isinstance(received, tuple) and len(received) == 2 and received[0] is True):
        return None
    return received


def _stop(pid: int, fd: int) -> None:
    import signal

    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        os.close(fd)
