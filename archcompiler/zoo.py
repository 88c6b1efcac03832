"""The model zoo: the spec files archcompiler comes with (`specs/` of the repository).

Everything that lists the zoo — the generated docs/zoo.md, the tests parametrized over every
spec, the benchmarks — lists it through `zoo_specs()`.
"""

from __future__ import annotations

from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent.parent / "specs"


def zoo_specs(directory: Path = ZOO_DIR) -> list[Path]:
    """Every spec of the zoo (or of `directory`), sorted by file name."""
    return sorted(directory.glob("*.yaml"))
