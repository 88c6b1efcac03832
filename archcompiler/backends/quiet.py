"""Importing the framework — Keras and its backend (TensorFlow by default, or JAX or PyTorch by
KERAS_BACKEND) — without its start-up lines on the terminal; `archc -v` lets them through.

TensorFlow (2.21 here) logs from C++ through absl. The lines it writes while its shared
libraries load — "oneDNN custom operations are on…", "Could not find cuda drivers…", twice
(two of its libraries log them) — come before absl's log is initialised, which
TF_CPP_MIN_LOG_LEVEL cannot reach: only sending file descriptor 2 elsewhere during the import
does. The lines after the import (failed call to cuInit, CPU features, tf.data's notes)
do heed TF_CPP_MIN_LOG_LEVEL, set before it. Python-side, TensorFlow's and absl's loggers are
raised to errors, and so is JAX's logger of its "no GPU/TPU found" warning.

What the import writes is held in an anonymous temporary file and shown if the import fails,
so a broken installation still explains itself; faulthandler writes to the real stderr
meanwhile, so a crash inside the import (a segfault, TensorFlow's abort) is not hidden either.
Warnings our own code gives later are untouched.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

from ..errors import Location, SpecError

VERBOSE_ENV = "ARCHC_VERBOSE"  # set by `archc -v`; any value but "" or "0" is verbose
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}  # a user's own setting wins
QUIET_LOGGERS = ("tensorflow", "absl", "jax._src.xla_bridge")  # raised to ERROR


def verbose_requested() -> bool:
    """Whether `archc -v` (or ARCHC_VERBOSE=1) asked for the framework's own lines."""
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


def import_keras(verbose: bool | None = None, *, tensorflow: bool = False) -> ModuleType:
    """The `keras` module, imported now (with its backend) without the framework's start-up
    lines unless `verbose` (default: `verbose_requested()`). `tensorflow=True` imports
    TensorFlow too whatever the backend (the training pipeline is tf.data). Cheap once done."""
    names = ["tensorflow", "keras"] if tensorflow or _backend() == "tensorflow" else ["keras"]
    missing = [name for name in names if name not in sys.modules]
    if not missing:
        return sys.modules["keras"]
    if verbose if verbose is not None else verbose_requested():
        _import(missing)
        return sys.modules["keras"]
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    with _stderr_held():
        _import(missing)  # TensorFlow before Keras: its libraries load inside the hold
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    return sys.modules["keras"]


def _import(names: list[str]) -> None:
    """Import `names` in order; a framework that is not installed (or will not import) is a
    failure of the world, said as one: `archc: error: cannot import …`."""
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise SpecError.at(
                Location("archc"), f"cannot import {name} ({e})",
                "build, train, evaluate and predict need TensorFlow and Keras (pip install "
                "tensorflow); check, summary and graph do not",
            ) from e  # fmt: skip


def _backend() -> str:
    """The backend Keras will load (KERAS_BACKEND, else tensorflow; ~/.keras/keras.json aside)."""
    return os.environ.get("KERAS_BACKEND", "tensorflow").strip().lower() or "tensorflow"


@contextlib.contextmanager
def _stderr_held() -> Iterator[None]:
    """File descriptor 2 goes to an anonymous temporary file for the block; what was written
    there is shown if the block raises, dropped otherwise."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or replaced stream is no reason to fail
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep quiet
        yield
        return
    with tempfile.TemporaryFile() as held:
        handler_was_on = faulthandler.is_enabled()
        faulthandler.enable(file=saved)  # a crash in C++ still reaches the terminal
        os.dup2(held.fileno(), 2)
        failed = False
        try:
            yield
        except Exception:
            failed = True
            raise
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()  # Python's own writes during the block belong to the block
            os.dup2(saved, 2)
            if handler_was_on:  # its file is not known: stderr's, else the process's fd 2
                try:
                    faulthandler.enable()
                except (AttributeError, ValueError, OSError):  # io.UnsupportedOperation too
                    faulthandler.enable(file=sys.__stderr__ or 2)
            else:
                faulthandler.disable()
            os.close(saved)
            if failed:  # the framework's lines may say why
                held.seek(0)
                data = held.read()
                while data:
                    data = data[os.write(2, data) :]
