"""The model zoo: the spec files archcompiler comes with (`specs/` of the repository, shipped in
the wheel as the package `archcompiler.zoo_specs`).

Everything that lists the zoo — `archc zoo`, the generated docs/zoo.md, the tests parametrized
over every spec, the benchmarks — lists it through `zoo_specs()`; a spec argument or an
`extends:` that is a bare name (`resnet50`) is looked up with `zoo_path()`.
"""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# installed from a wheel: archcompiler/zoo_specs/; in a checkout (or an editable install): specs/
ZOO_DIR = _HERE / "zoo_specs" if (_HERE / "zoo_specs").is_dir() else _HERE.parent / "specs"


def zoo_specs(directory: Path = ZOO_DIR) -> list[Path]:
    """Every spec of the zoo (or of `directory`), sorted by file name."""
    return sorted(directory.glob("*.yaml"))


def zoo_names() -> list[str]:
    """The names of the zoo's networks (`resnet50`, …), sorted."""
    return [p.stem for p in zoo_specs()]


def is_zoo_name(name: str) -> bool:
    """A bare name — no folder, no `.yaml` — names a zoo spec (`resnet50`)."""
    return (
        bool(name.strip())
        and "/" not in name
        and os.sep not in name
        and not name.endswith((".yaml", ".yml"))
        and name not in (".", "..")
    )


def zoo_path(name: str) -> Path | None:
    """The zoo spec called `name`, or None when there is none."""
    if not is_zoo_name(name):
        return None
    path = ZOO_DIR / f"{name}.yaml"
    return path if path.is_file() else None
