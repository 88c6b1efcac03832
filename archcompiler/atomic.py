"""Files we write are all-or-nothing: written beside the target, then renamed over it."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def replacing(target: str, suffix: str) -> Iterator[str]:
    """Yield a temporary path in the target's directory. When the block completes, the file
    gets a file's usual mode and is renamed over `target`; on any exception (Ctrl-C too) it is
    removed. The target is therefore always the old file or the complete new one."""
    directory = os.path.dirname(os.path.abspath(target))
    tmp: str | None = None
    try:
        # A Ctrl-C between creating the file and knowing its name would leave it behind, so
        # interrupts wait until `tmp` is set; one that came meanwhile is raised right after.
        with _interrupts_deferred():
            fd, tmp = tempfile.mkstemp(prefix=".archc-", suffix=suffix, dir=directory)
            os.close(fd)
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def write_atomically(target: str, data: bytes | str) -> None:
    """Write `data` (text as UTF-8) to `target` all or nothing; OSError as the system says."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with replacing(target, ".tmp") as tmp, open(tmp, "wb") as f:
        f.write(raw)


@contextlib.contextmanager
def interrupts_handled_by(handler: Callable[[int, Any], None]) -> Iterator[dict[int, Any]]:
    """`handler` answers SIGINT and SIGTERM in the block; the previous handlers (yielded) are
    put back after it. Nothing is installed, and {} yielded, outside the main thread (where
    Python's handlers never run) or when a handler was set outside Python (it could not be
    put back)."""
    previous = {s: signal.getsignal(s) for s in _INTERRUPTS}
    try:
        if any(h is None for h in previous.values()):
            previous = {}
        for s in previous:
            signal.signal(s, handler)
    except ValueError:  # not the main thread
        previous = {}
    try:
        yield previous
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM that arrive in the block are handled when it ends, as they would have
    been. Python-level handlers, not a signal mask: with TensorFlow's threads running, a
    signal blocked in this thread is delivered to another one and still interrupts here."""
    pending: list[tuple[int, Any]] = []
    try:
        with interrupts_handled_by(lambda signum, frame: pending.append((signum, frame))) as old:
            yield
    finally:
        for signum, frame in pending:
            handler = old[signum]
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)  # now with its own default action


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
