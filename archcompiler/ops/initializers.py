"""Weight initializers, as Keras names them (keras.initializers): a name such as `he_normal`, or a
mapping `{class_name: VarianceScaling, config: {scale: 2.0, mode: fan_out}}` as keras.applications
passes them. They change no shape, weight count or MAC count; the Keras backend passes them on.

`initializer(...)` makes the annotated type of one layer argument. The table below holds every
initializer class Keras 3 has that a spec can use, with the config keys its constructor takes and
what each must be, so a mistyped key or value is an error at `archc check`, not at build time.
Nothing here imports Keras.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ..errors import brief, did_you_mean
from ..strict import Strict

Check = Callable[[Any], str | None]  # a config value → what is wrong with it, or None


def _number(value: Any) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return None if ok else "must be a number"


def _positive(value: Any) -> str | None:
    return _number(value) or (None if value > 0 else "must be greater than 0")


def _seed(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    return None if ok else "must be an integer from 0 to 2**31 - 1"


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else "must be one of " + ", ".join(map(repr, choices))

    return check


# keras.src.initializers: each class a spec may name, and its constructor's config keys (those a
# number, string or boolean can set; Keras 3.15's `input_axes`/`output_axes` take lists).
_SEEDED = {"seed": _seed}
CLASSES: dict[str, dict[str, Check]] = {
    "Zeros": {},
    "Ones": {},
    "Constant": {"value": _number},
    "RandomNormal": {"mean": _number, "stddev": _number, **_SEEDED},
    "TruncatedNormal": {"mean": _number, "stddev": _number, **_SEEDED},
    "RandomUniform": {"minval": _number, "maxval": _number, **_SEEDED},
    "VarianceScaling": {
        "scale": _positive,
        "mode": _one_of("fan_in", "fan_out", "fan_avg"),
        "distribution": _one_of("truncated_normal", "untruncated_normal", "normal", "uniform"),
        **_SEEDED,
    },
    "GlorotUniform": _SEEDED,
    "GlorotNormal": _SEEDED,
    "HeUniform": _SEEDED,
    "HeNormal": _SEEDED,
    "LecunUniform": _SEEDED,
    "LecunNormal": _SEEDED,
    "Orthogonal": {"gain": _number, **_SEEDED},
    "Identity": {"gain": _number},
}
REQUIRED: dict[str, tuple[str, ...]] = {"Constant": ("value",)}  # Keras fails without them


def snake(name: str) -> str:
    """GlorotUniform → glorot_uniform, as keras.src.utils.naming.to_snake_case spells it."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


CANONICAL = {**{c: c for c in CLASSES}, **{snake(c): c for c in CLASSES}}
# Names usable bare: every class that needs no config (Keras's `constant` fails without one).
NAMES = tuple(snake(c) for c in CLASSES if c not in REQUIRED)


def _class_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("should be the name of a keras.initializers class, e.g. HeNormal")
    if value not in CANONICAL:
        hint = did_you_mean(value, list(CANONICAL)) or f" (one of {', '.join(CLASSES)})"
        raise ValueError(f"names no Keras initializer class{hint}")
    return value


def _scalar(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 64:
        raise ValueError("should be at most 64 characters")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("should be a finite number")
    if not isinstance(value, (bool, int, float, str)):
        raise ValueError("should be a number, a string or true/false")
    return value


# Checked by hand for messages that name the problem (and listed in the JSON Schema as is).
ClassName = Annotated[
    str,
    PlainValidator(_class_name),
    WithJsonSchema({"type": "string", "enum": list(CANONICAL)}),
]
_ConfigKey = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,39}$")]
_ConfigValue = Annotated[
    Any,
    AfterValidator(_scalar),
    WithJsonSchema(
        {"anyOf": [{"type": ["boolean", "number"]}, {"type": "string", "maxLength": 64}]}
    ),
]


class InitializerConfig(Strict):
    """An initializer as a Keras config mapping: `{class_name: VarianceScaling, config: {…}}`."""

    doc_type: ClassVar[str] = "{class_name, config}"  # how the reference shows this form
    class_name: Annotated[
        ClassName, Field(description="a keras.initializers class, CamelCase or snake_case")
    ]
    config: Annotated[
        dict[_ConfigKey, _ConfigValue],
        Field(
            max_length=8, validate_default=True,
            description="its constructor's arguments: numbers, strings, booleans",
        ),
    ] = {}  # fmt: skip

    @field_validator("config")
    @classmethod
    def _known_keys(cls, config: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        name = info.data.get("class_name")
        if name is None:  # the class name failed already; that error is the one to read
            return config
        canonical = CANONICAL[name]
        keys = CLASSES[canonical]
        for key, value in config.items():
            if key not in keys:
                takes = ", ".join(keys) if keys else "nothing"
                hint = did_you_mean(key, list(keys))
                raise ValueError(f"has no key '{key}' for {canonical} (it takes {takes}){hint}")
            problem = keys[key](value)
            if problem:
                raise ValueError(f"key '{key}' of {canonical} {problem} (got {brief(value)})")
        missing = [k for k in REQUIRED.get(canonical, ()) if k not in config]
        if missing:
            raise ValueError(f"needs a '{missing[0]}' for {canonical}")
        return config

    def keras(self) -> dict[str, Any]:
        """The mapping `keras.initializers.get` takes."""
        return {"class_name": CANONICAL[self.class_name], "config": dict(self.config)}


def _form(value: Any) -> str:
    return "mapping" if isinstance(value, (dict, InitializerConfig)) else "name"


def initializer(weight: str, rank: int) -> Any:
    """The type of an initializer argument of a `rank`-D weight named `weight` in messages.

    Keras's Identity fills 2-D weights only and Orthogonal needs at least 2 dimensions, so those
    are refused where Keras would fail to build the layer."""
    refused = {"Identity": "fills 2-D weights only"} if rank != 2 else {}
    if rank < 2:
        refused["Orthogonal"] = "needs a weight of 2 or more dimensions"
    names = tuple(n for n in NAMES if CANONICAL[n] not in refused)

    def fits(value: Any) -> Any:
        name = CANONICAL[value.class_name if isinstance(value, InitializerConfig) else value]
        if name in refused:
            raise ValueError(f"cannot be {name} here: it {refused[name]}, and {weight} is {rank}-D")
        return value

    return Annotated[
        Annotated[Literal[names], Tag("name")]  # type: ignore[valid-type]
        | Annotated[InitializerConfig, Tag("mapping")],
        Discriminator(_form),
        AfterValidator(fits),
        Field(description=f"how {weight} starts (keras.initializers, by name or config)"),
    ]


def to_keras(value: str | InitializerConfig) -> str | dict[str, Any]:
    """An initializer argument as Keras layers take it."""
    return value.keras() if isinstance(value, InitializerConfig) else value


KernelInit = initializer("the kernel", 4)  # a conv kernel is kh×kw×cin×cout
BiasInit = initializer("the bias", 1)
