"""Files we write are all-or-nothing: written beside the target, then renamed over it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from .errors import Location, SpecError

_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


_PREFIX = ".archc-"
_OURS = re.compile(r"\.archc-(\d+)-")  # `.archc-PID-…`: the writer's process id


@contextlib.contextmanager
def replacing(target: str, suffix: str) -> Iterator[str]:
    """Yield a temporary path in the target's directory. When the block completes, the file
    gets a file's usual mode and is renamed over `target`; on any exception (Ctrl-C too) it is
    removed. The target is therefore always the old file or the complete new one. A failure of
    the file system (a missing or read-only folder, a full disk, a name too long) is a
    SpecError at the target, in the system's words; temporary files that killed runs left in
    the folder are removed first."""
    directory = os.path.dirname(os.path.abspath(target))
    tmp: str | None = None
    try:
        if not os.path.isdir(directory):
            raise SpecError.at(Location(target), f"cannot write this file: no folder {directory}")
        remove_stale_temporaries(directory)
        # A Ctrl-C between creating the file and knowing its name would leave it behind, so
        # interrupts wait until `tmp` is set; one that came meanwhile is raised right after.
        with _interrupts_deferred():
            prefix = f"{_PREFIX}{os.getpid()}-"
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
            os.close(fd)
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp made it private
        os.replace(tmp, target)
    except BaseException as e:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(e, OSError):
            reason = e.strerror or str(e)
            raise SpecError.at(Location(target), f"cannot write this file: {reason}") from None
        raise


def remove_stale_temporaries(directory: str) -> list[str]:
    """Remove `.archc-PID-…` files whose process is gone (a SIGKILL leaves them: nothing runs
    to clean up); a live writer's file is left alone. Returns the names removed."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            m = _OURS.match(entry.name)
            if m and entry.is_file(follow_symlinks=False) and not _alive(int(m.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or a number we cannot ask about: leave it
    return True


def write_atomically(target: str, data: bytes | str) -> None:
    """Write `data` (text as UTF-8) to `target` all or nothing; a SpecError if it cannot."""
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


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def replacing_folder(target: str, suffix: str = ".tmp") -> Iterator[str]:
    """`replacing` for a folder: a temporary folder beside the target; on success the
    old folder is moved aside, the new one renamed into place and the old one removed (with
    interrupts held off, so the target is the old artifact or the new one, complete)."""
    where = Location(target)
    parent = os.path.dirname(os.path.abspath(target))
    tmp: str | None = None
    try:
        if not os.path.isdir(parent):
            raise SpecError.at(where, f"cannot write this folder: no folder {parent}")
        _remove_stale_folders(parent)
        with _interrupts_deferred():
            prefix = f"{_PREFIX}{os.getpid()}-"
            tmp = tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent)
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp made it private
        with _interrupts_deferred():
            if os.path.isdir(target):
                aside = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=parent)
                os.replace(target, aside)  # onto the empty folder just made
                try:
                    os.replace(tmp, target)
                except OSError:
                    os.replace(aside, target)
                    raise
                shutil.rmtree(aside, ignore_errors=True)
            else:
                os.replace(tmp, target)
            tmp = None
    except BaseException as e:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise SpecError.at(where, f"cannot write this folder: {e.strerror or e}") from None
        raise


def _remove_stale_folders(parent: str) -> None:
    """`.archc-PID-…` folders whose process is gone (killed mid-export) are removed."""
    with contextlib.suppress(OSError), os.scandir(parent) as entries:
        for entry in entries:
            m = _OURS.match(entry.name)
            if m and entry.is_dir(follow_symlinks=False) and not _alive(int(m.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)
