"""The run directory: what a training run leaves behind, and when one may be reused.

    RUN_DIR/model.keras    the best epoch by validation accuracy (loads with plain Keras)
    RUN_DIR/last.keras     the last epoch, with the optimizer's state (for --resume)
    RUN_DIR/history.json   per-epoch metrics, rewritten after every epoch
    RUN_DIR/curves.png     loss and accuracy per epoch (matplotlib)
    RUN_DIR/run.json       spec hash, params, data, command, versions, result
    RUN_DIR/logs/          TensorBoard logs (--tensorboard)
    RUN_DIR/confusion-DATA.png, evaluation-DATA.json   `archc evaluate` on the folder DATA

Every file is written all-or-nothing (beside it, then renamed), so a run stopped at any moment
leaves a consistent directory that `--resume` continues.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..atomic import replacing
from ..errors import Location, SpecError

MODEL, LAST, HISTORY, CURVES, RUN, LOGS = (
    "model.keras", "last.keras", "history.json", "curves.png", "run.json", "logs",
)  # fmt: skip
ARTIFACTS = (MODEL, LAST, HISTORY, CURVES, RUN, LOGS, "confusion.png")  # the last: before 0.2
EVALUATIONS = re.compile(r"(confusion-.+\.png|evaluation-.+\.json)")  # of the replaced model


def evaluation_files(model: str, data: str) -> tuple[str, str]:
    """Where `archc evaluate MODEL --data DATA` writes its confusion matrix and report: beside
    the model, named after the data folder, so evaluating another folder keeps this one."""
    name = os.path.basename(os.path.normpath(os.path.abspath(data)))
    name = re.sub(r"[^\w.-]+", "_", name).strip(".") or "data"
    beside = os.path.dirname(os.path.abspath(model))
    return (os.path.join(beside, f"confusion-{name}.png"),
            os.path.join(beside, f"evaluation-{name}.json"))  # fmt: skip


def write_json(path: str, data: Any) -> None:
    with replacing(path, ".json") as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, default=str)
        f.write("\n")


MAX_RUN_FILE_BYTES = 16 * 1024 * 1024  # run.json and history.json of a long run: kilobytes


class _SpecRecord(BaseModel):
    path: str | None = None
    sha256: str | None = None
    set: dict[str, str] = {}


class _DataRecord(BaseModel):
    class_names: list[str] | None = None
    preprocess: str | None = None


class RunRecord(BaseModel, extra="allow"):
    """The fields of run.json that evaluate, predict and --resume read, with their types: a
    file edited by hand, or from another tool, is a located error, not an internal one."""

    spec: _SpecRecord = _SpecRecord()
    data: _DataRecord = _DataRecord()
    training: dict[str, Any] = {}
    resumed: list[dict[str, Any]] = []
    result: dict[str, Any] = {}


History = TypeAdapter(list[dict[str, float | int | str | None]])


def read_json(path: str) -> Any:
    try:
        if os.path.getsize(path) > MAX_RUN_FILE_BYTES:
            raise SpecError.at(Location(path), f"run file over {MAX_RUN_FILE_BYTES:,} bytes")
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SpecError.at(Location(path), f"cannot read this run file: {e}") from None


def read_run(path: str) -> dict[str, Any]:
    """run.json, its fields checked (RunRecord); returned as written."""
    return _checked(path, RunRecord)


def read_history(path: str) -> list[dict[str, Any]]:
    """history.json: one mapping of metric → number per epoch."""
    return _checked(path, History)


def _checked(path: str, model: Any) -> Any:
    data = read_json(path)
    try:
        if isinstance(model, TypeAdapter):
            model.validate_python(data)
        else:
            model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = _json_path(data, first["loc"])
        if not where:
            kind = "a JSON object" if model is RunRecord else "a JSON list of objects"
            raise SpecError.at(Location(path), f"not a run file: the file is not {kind}") from None
        said = first["msg"][:1].lower() + first["msg"][1:]
        raise SpecError.at(Location(path), f"{where}: {said}") from None
    return data


def _json_path(data: Any, loc: tuple[Any, ...]) -> str:
    """`data.class_names`, `3.loss`: the part of a pydantic error's location that is in the
    file (pydantic adds the member type a union tried, e.g. `float`)."""
    parts = []
    for part in loc:
        inside = isinstance(data, dict) and part in data
        inside |= isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not inside:
            break
        data = data[part]
        parts.append(str(part))
    return ".".join(parts)


def spec_hash(files: list[str]) -> str:
    """sha256 over the spec file and the files it extends (their bytes, in order)."""
    h = hashlib.sha256()
    for path in files:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def default_run_dir(name: str, root: str = "runs") -> str:
    """runs/<spec name>-1, -2, … : the first that does not exist."""
    n = 1
    while os.path.exists(os.path.join(root, f"{name}-{n}")):
        n += 1
    return os.path.join(root, f"{name}-{n}")


def prepare_new(run_dir: str, force: bool) -> None:
    """Refuse a run directory that holds something, unless --force (which removes only the
    files a run writes, nothing else the user keeps there)."""
    if os.path.exists(run_dir) and not os.path.isdir(run_dir):
        raise SpecError.at(Location(run_dir), "the run directory is a file")
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        if not force:
            raise SpecError.at(
                Location(run_dir), "the run directory already exists",
                "continue it with --resume, replace its run with --force, or choose another -o",
            )  # fmt: skip
        _remove_artifacts(run_dir)
    try:
        os.makedirs(run_dir, exist_ok=True)
    except OSError as e:
        message = f"cannot create the run directory: {e.strerror}"
        raise SpecError.at(Location(run_dir), message) from None


def discard(run_dir: str) -> None:
    """Remove a new run that never finished an epoch: its files, and the folder if empty."""
    _remove_artifacts(run_dir)
    with contextlib.suppress(OSError):
        os.rmdir(run_dir)


def _remove_artifacts(run_dir: str) -> None:
    try:
        evaluations = [n for n in os.listdir(run_dir) if EVALUATIONS.fullmatch(n)]
    except OSError:  # gone already: nothing to remove
        evaluations = []
    for name in (*ARTIFACTS, *evaluations):
        path = os.path.join(run_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)


def load_resume(run_dir: str, digest: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """run.json and history.json of a run to continue; the spec must not have changed."""
    for name in (RUN, LAST):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise SpecError.at(
                Location(run_dir), f"cannot resume: no {name} here",
                "--resume takes a directory an earlier `archc train` wrote",
            )  # fmt: skip
    run = read_run(os.path.join(run_dir, RUN))
    if run.get("spec", {}).get("sha256") != digest:
        raise SpecError.at(
            Location(run_dir), "cannot resume: the spec (or a file it extends) changed since "
            "this run began", f"the run was trained from {run.get('spec', {}).get('path')}",
        )  # fmt: skip
    history_path = os.path.join(run_dir, HISTORY)
    history = read_history(history_path) if os.path.isfile(history_path) else []
    return run, history


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for package in ("archcompiler", "tensorflow", "keras", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out
