"""Files we write are all-or-nothing: written beside the target, then renamed over it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def replacing(target: str, suffix: str) -> Iterator[str]:
    """Yield a temporary path in the target's directory. When the block completes, the file
    gets a file's usual mode and is renamed over `target`; on any exception (Ctrl-C too) it is
    removed. The target is therefore always the old file or the complete new one."""
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".archc-", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
