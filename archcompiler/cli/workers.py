"""Work over many files on every core: `archc check a.yaml b.yaml …` hands the files out to
forked copies of this process, then prints their answers in the order of the command line, as
one process would have printed them.

Forking after the imports is what makes it pay: a worker starts in a millisecond with pydantic,
our modules and the validated-argument memo already loaded. The files are handed out one at a
time (a pipe of indices that every worker reads from), so one large network does not hold up a
share of small ones. A worker that dies (killed, out of memory, a bug) costs nothing but time:
whatever it did not send back is done again here, where its failure is reported the usual way.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from typing import TypeVar

from ..backends.frameworks import lone_process

T = TypeVar("T")
R = TypeVar("R")

_INDEX = struct.Struct("<I")
_ATOMIC = getattr(select, "PIPE_BUF", 512)  # a pipe write of up to this many bytes is all or none


def cores() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Forking is safe here: POSIX fork (not macOS, whose system libraries forbid it), no other
    Python thread, and no framework loaded (TensorFlow's threads would not survive it)."""
    return hasattr(os, "fork") and sys.platform != "darwin" and lone_process()


def workers_for(jobs: int, items: int) -> int:
    """How many processes work on `items` files for `--jobs` (0: one per core)."""
    wanted = jobs or cores()
    if wanted < 2 or items < 2 or not can_fork():
        return 1
    return min(wanted, items)


def in_order(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """`fn(item)` for every item, in their order; with `workers` > 1, computed by that many
    processes (this one and forked copies). `fn` must only compute: its output is what it
    returns, printed by the caller; a worker writes nothing on the standard streams."""
    if workers < 2:
        yield from map(fn, items)
        return
    results = _gathered(fn, items, workers)
    for i, item in enumerate(items):
        # what no worker sent back (one died) is computed here, its failure reported as usual
        yield results[i] if i in results else fn(item)


def _gathered(fn: Callable[[T], R], items: Sequence[T], workers: int) -> dict[int, R]:
    """The results the workers computed, by index; every worker has ended when this returns."""
    tasks_r = _queue(len(items))
    for stream in (sys.stdout, sys.stderr):  # or a worker would inherit, and lose, their buffers
        if stream is not None:
            stream.flush()
    children: list[tuple[int, int]] = []  # (pid, read end of its results)
    results: dict[int, R] = {}
    try:
        for _ in range(workers - 1):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                _work(fn, items, tasks_r, write, [r for _, r in children] + [read])
            os.close(write)
            children.append((pid, read))
        _take_into(results, fn, items, tasks_r)  # this process works too
        for pid, read in children:
            with os.fdopen(read, "rb") as f:
                data = f.read()
            with suppress(Exception):  # a worker cut short sent part of a pickle, or nothing
                results.update(pickle.loads(data))
            os.waitpid(pid, 0)
        children.clear()
    finally:
        os.close(tasks_r)
        for pid, _ in children:  # interrupted (Ctrl-C, an error here): none is left behind
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with suppress(OSError):
                os.waitpid(pid, 0)
    return results


def _queue(count: int) -> int:
    """The read end of a pipe that holds the indices 0 … count-1, written before any fork: as
    many as it takes (64 KiB, 16,384 of them, on Linux; 4 KiB for a user over the system's
    pipe quota). Those it cannot take are computed by this process after the others."""
    tasks_r, tasks_w = os.pipe()
    os.set_blocking(tasks_w, False)  # a full pipe must not wait for a reader: there is none yet
    data = b"".join(_INDEX.pack(i) for i in range(count))
    try:
        for start in range(0, len(data), _ATOMIC):  # whole indices: all of a chunk or none
            os.write(tasks_w, data[start : start + _ATOMIC])
    except BlockingIOError:
        pass
    finally:
        os.close(tasks_w)  # read to its end, the pipe says: no more work
    return tasks_r


def _take(fn: Callable[[T], R], items: Sequence[T], tasks: int) -> Iterator[tuple[int, R]]:
    """Take indices from the task pipe until it is empty, computing each."""
    while len(raw := os.read(tasks, _INDEX.size)) == _INDEX.size:
        (i,) = _INDEX.unpack(raw)
        yield i, fn(items[i])


def _take_into(results: dict[int, R], fn: Callable[[T], R], items: Sequence[T], tasks: int) -> None:
    """A share of the work, taken until the task pipe is empty. A failure of `fn` stops it and
    leaves that item out: `in_order` computes it again in its turn, here, so what came before it
    is printed first, as one process would. Ctrl-C (not an Exception) ends the workers at once."""
    with suppress(Exception):
        for i, result in _take(fn, items, tasks):
            results[i] = result


def _work(fn: Callable[[T], R], items: Sequence[T], tasks: int, out: int,
          close: list[int]) -> None:  # fmt: skip
    """A forked worker: its share, pickled into `out`, then the end of the process (no exit
    hooks, no flushing of what it inherited: those belong to the parent, which redoes whatever
    it does not receive)."""
    try:
        for fd in close:
            os.close(fd)
        done: dict[int, R] = {}
        _take_into(done, fn, items, tasks)
        with os.fdopen(out, "wb") as f:
            f.write(pickle.dumps(done, pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(0)
