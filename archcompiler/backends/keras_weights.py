"""`--weights imagenet`: keras.applications' own weights file for a spec that is its twin.

Which file a twin loads (its name, URL and hash) depends on the constructor's arguments — the
head or not, MobileNet's α and input size, MobileNetV3's `minimalistic` — and keras.applications
computes it inside each constructor. Rather than copy forty rules, we ask Keras: the twin is
built with `weights="imagenet"` while `get_file` is replaced by a recorder that stops the
constructor at the request. The real `get_file` then takes the file from Keras's cache
(`$KERAS_HOME/models`, default `~/.keras/models`, checked against the official hash) or
downloads it; offline, the error says which file to put where.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from typing import Any

import keras
from keras.src.utils import file_utils

from ..errors import first_line
from ..graph import Graph

# spec params that are also keras.applications constructor arguments of the same meaning
_SHARED_ARGS = ("alpha", "depth_multiplier", "minimalistic")
IMAGENET_CLASSES = 1000


class WeightsUnavailable(Exception):
    """The official file cannot be had: the message says why and what to do."""


@dataclass(frozen=True)
class WeightsRequest:
    file_name: str
    origin: str
    file_hash: str | None
    include_top: bool

    def cache_path(self) -> str:
        return os.path.join(os.path.expanduser(file_utils.config.keras_home()), "models",
                            self.file_name)  # fmt: skip


class _Requested(Exception):
    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs


def request_for(twin: str, graph: Graph, head: bool) -> WeightsRequest:
    """The file keras.applications.TWIN loads for this graph's settings (nothing is fetched)."""
    constructor = getattr(keras.applications, twin)
    shape = tuple(graph.nodes[graph.inputs[0]].shape)
    classes = graph.nodes[graph.outputs[0]].shape[-1] if head else None
    include_top = head and classes == IMAGENET_CLASSES  # other classes: the backbone's file
    accepted = inspect.signature(constructor).parameters
    kwargs: dict[str, Any] = {"weights": "imagenet", "include_top": include_top,
                              "input_shape": shape}  # fmt: skip
    kwargs.update({k: graph.params[k] for k in _SHARED_ARGS if k in graph.params and k in accepted})
    real = file_utils.get_file

    def record(fname: Any = None, origin: Any = None, **kw: Any) -> str:
        if str(fname or origin).endswith(".json"):  # the class-index file, not the weights
            return real(fname, origin, **kw)
        raise _Requested({"fname": fname, "origin": origin, **kw})

    file_utils.get_file = record
    try:
        constructor(**kwargs)
    except _Requested as r:
        got = r.kwargs
        name = str(got["fname"] or os.path.basename(str(got["origin"])))
        return WeightsRequest(name, str(got["origin"]), got.get("file_hash"), include_top)
    except ValueError as e:  # keras.applications refuses these settings for imagenet weights
        raise WeightsUnavailable(f"keras.applications.{twin} has no imagenet weights for "
                                 f"these settings: {first_line(e, 300)}") from None  # fmt: skip
    finally:
        file_utils.get_file = real
        keras.backend.clear_session()
    raise WeightsUnavailable(f"keras.applications.{twin} loaded no weights file")


def fetch(request: WeightsRequest) -> str:
    """The official file's path: from Keras's cache if it is there and whole, else downloaded
    by Keras (with its hash check). WeightsUnavailable offline, saying where to put it."""
    path = request.cache_path()
    if (
        os.path.isfile(path)
        and request.file_hash
        and not file_utils.validate_file(path, request.file_hash)
    ):
        raise WeightsUnavailable(
            f"{path} is not the official {request.file_name} (its hash is not "
            f"{request.file_hash}); delete it, or replace it with the file from {request.origin}"
        )
    try:
        return str(file_utils.get_file(request.file_name, request.origin, cache_subdir="models",
                                       file_hash=request.file_hash))  # fmt: skip
    except Exception as e:  # offline: Keras raises a bare Exception ("URL fetch failure …")
        raise WeightsUnavailable(
            f"cannot download {request.file_name} ({first_line(e, 300)}); offline, put the file "
            f"from {request.origin} at {path}"
        ) from None
