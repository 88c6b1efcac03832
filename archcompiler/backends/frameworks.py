"""Which framework Keras runs on: TensorFlow, JAX or PyTorch (Keras's KERAS_BACKEND).

Keras reads KERAS_BACKEND once, when it is first imported, so the choice is made here, before
backends/keras.py imports it; this module never imports Keras (nor the frameworks: it asks only
whether their packages are installed).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading

from ..errors import Location, SpecError

# KERAS_BACKEND's value → the package it needs and the extra that installs it
FRAMEWORKS = {
    "tensorflow": ("tensorflow", "archcompiler"),
    "jax": ("jax", "archcompiler[jax]"),
    "torch": ("torch", "archcompiler[torch]"),
}
DEFAULT = "tensorflow"


def framework_loaded() -> bool:
    """Has this process imported Keras or a framework it runs on? (Asked, never imported.)"""
    return "keras" in sys.modules or any(p in sys.modules for p, _ in FRAMEWORKS.values())


def lone_process() -> bool:
    """No framework loaded and no other Python thread: this process may fork, or end at once
    with `os._exit` (nothing else holds threads or exit hooks that need the usual exit)."""
    return not framework_loaded() and threading.active_count() == 1


def running_framework() -> str | None:
    """The framework of the Keras already imported in this process, else None."""
    keras = sys.modules.get("keras")
    return None if keras is None else str(keras.backend.backend())


def choose_framework(name: str | None) -> str:
    """Make Keras run on `name` (None: KERAS_BACKEND as set, else TensorFlow) and return it.

    Sets KERAS_BACKEND when Keras is not yet imported; a SpecError (at `--backend`, or at
    KERAS_BACKEND where the variable chose) if the framework is unknown, not installed, or
    another one than the Keras already running in this process."""
    where = Location("--backend" if name is not None else "KERAS_BACKEND")
    chosen = name if name is not None else os.environ.get("KERAS_BACKEND") or DEFAULT
    if chosen not in FRAMEWORKS:
        raise SpecError.at(
            where, f"unknown Keras backend {chosen!r}: give one of {', '.join(FRAMEWORKS)}"
        )
    running = running_framework()
    if running is not None:
        if running != chosen:
            raise SpecError.at(
                where,
                f"Keras is already running on {running} in this process; it reads "
                f"KERAS_BACKEND once, at import: choose {chosen} in a new process",
            )
        return chosen
    package, extra = FRAMEWORKS[chosen]
    if importlib.util.find_spec(package) is None:
        raise SpecError.at(
            where, f"the {chosen} backend needs the {package} package: pip install '{extra}'"
        )
    os.environ["KERAS_BACKEND"] = chosen
    return chosen
