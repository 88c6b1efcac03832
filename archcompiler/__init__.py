"""archcompiler: declarative CNN specs → shapes, params and MACs → Keras models."""

import os

# TensorFlow's stock CPU kernels cannot run a depthwise conv with unequal strides or a dilated
# transposed conv; its oneDNN kernels can. TensorFlow turns oneDNN on by default only on some
# CPUs (not on AMD EPYC, for one), so a spec that builds could not train or predict there. Set
# before TensorFlow is imported (this package imports it lazily); a user's own setting wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


# The Python API (api.py), imported on first use so that `archc check` pays nothing for it.
_API = {"compile", "Network", "evaluate", "list_zoo", "predict"}


def __getattr__(name: str) -> object:
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "SpecError":
        from .errors import SpecError

        return SpecError
    raise AttributeError(f"module 'archcompiler' has no attribute {name!r}")


__all__ = ["Network", "SpecError", "compile", "evaluate", "list_zoo", "predict"]
