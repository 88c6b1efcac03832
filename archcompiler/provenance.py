"""Provenance inside the `.keras`: which spec (its files' sha256), which params, which
archcompiler and Keras backend made a saved model, and the spec file, line and block path of
every layer — written by `archc build` and `archc train`, read back by `archc explain`.

Where it goes: an `"archcompiler"` key in the archive's own metadata.json. Keras writes that
member (keras_version, date_saved) and never reads it when loading, so plain
`keras.saving.load_model` is unaffected. An extra member (`archcompiler.json`) would be
ignored too, but Keras's loader treats any archive of more than 3 members as having assets
and extracts the whole archive — weights included — to a temporary folder on every load.

The archive is rewritten once, after Keras wrote it to the temporary file and before that is
renamed over the target (build.py `save_atomically`), so the target is still all or nothing.
Reading never imports TensorFlow or Keras: the archive is read with zipfile.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from typing import Any

from .atomic import replacing
from .errors import Location, SpecError, did_you_mean
from .graph import Graph
from .model_files import check_model_file

KEY = "archcompiler"  # the key in metadata.json
FORMAT = 1  # the record's layout; bumped when it changes incompatibly
METADATA = "metadata.json"
NOT_OURS = "made without archcompiler (or before provenance was recorded)"


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def spec_digest(files: list[str]) -> str | None:
    """sha256 over the spec file and the files it extends (their bytes, in order): the same
    digest as run.json's spec_sha256 (train/rundir.py `spec_hash`); None if one is unreadable."""
    h = hashlib.sha256()
    for path in files:
        try:
            with open(path, "rb") as f:
                h.update(f.read())
        except OSError:
            return None
    return h.hexdigest()


def _version() -> str:
    try:
        return importlib.metadata.version("archcompiler")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _plain(value: object) -> object:
    """A param's value as JSON holds it (tuples as lists, anything else unusual as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def record(graph: Graph, framework: str | None = None, **extra: object) -> dict[str, Any]:
    """The provenance of a model built from `graph`, taken now (before a slow build, so the
    digests are of the files that were compiled): `framework` is the Keras backend; `extra`
    (e.g. inference=True) is kept as given."""
    layers = {}
    for n in graph:
        s = n.source
        layers[n.name] = {
            "op": n.op,
            "file": s.path if s else None,
            "line": s.line if s else None,
            "col": s.col if s else None,
            "block": list(n.block),
            "section": n.section,
        }
    files = [{"path": p, "absolute": os.path.abspath(p), "sha256": _sha256(p)} for p in graph.files]
    return {
        "format": FORMAT,
        "archcompiler_version": _version(),
        "keras_backend": framework,
        "spec": {"name": graph.name, "sha256": spec_digest(graph.files), "files": files},
        "params": _plain(dict(graph.params)),
        **{k: _plain(v) for k, v in extra.items()},
        "layers": layers,
    }


def add_to_archive(path: str, rec: dict[str, Any]) -> None:
    """Rewrite the `.keras` archive at `path` with `rec` under metadata.json's "archcompiler"
    key; the other members are copied as they are (same order, same compression). The new
    archive is written beside it and renamed over it: a failure leaves `path` as it was."""
    with (
        replacing(path, ".keras") as tmp,
        zipfile.ZipFile(path) as src,
        zipfile.ZipFile(tmp, "w") as out,
    ):
        for info in src.infolist():
            if info.filename == METADATA:
                meta = json.loads(src.read(info))
                meta[KEY] = rec
                out.writestr(info, json.dumps(meta, ensure_ascii=False))
                continue
            with src.open(info) as r, out.open(info, "w", force_zip64=True) as w:
                shutil.copyfileobj(r, w, 1 << 20)


@dataclass
class SpecFile:
    """A spec file named in a record, compared with the file on disk now."""

    path: str
    sha256: str | None
    state: str  # "unchanged", "changed since" or "missing"


def read_record(path: str) -> dict[str, Any]:
    """The provenance record of the `.keras` at `path`; a located error for a file that is not
    a `.keras`, or one saved without a record."""
    check_model_file(path)  # a regular .keras file, a bounded zip archive (model_files.py)
    where = Location(path)
    try:
        with zipfile.ZipFile(path) as archive:
            if METADATA not in archive.namelist():
                raise SpecError.at(where, f"no provenance: this model was {NOT_OURS}")
            meta = json.loads(archive.read(METADATA))
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise SpecError.at(where, f"cannot read this model's metadata.json: {e}") from None
    rec = meta.get(KEY) if isinstance(meta, dict) else None
    if not isinstance(rec, dict) or not isinstance(rec.get("layers"), dict):
        raise SpecError.at(where, f"no provenance: this model was {NOT_OURS}")
    if rec.get("format", 0) > FORMAT:
        raise SpecError.at(
            where, f"its provenance record is of a newer format ({rec['format']}) than this "
            f"archcompiler reads ({FORMAT})", "upgrade archcompiler",
        )  # fmt: skip
    return rec


def spec_files(rec: dict[str, Any]) -> list[SpecFile]:
    """Each recorded spec file with whether it still matches the file on disk."""
    out = []
    for f in rec.get("spec", {}).get("files", []):
        now = _sha256(f.get("absolute") or f["path"])
        state = "missing" if now is None else "unchanged" if now == f["sha256"] else "changed since"
        out.append(SpecFile(f["path"], f["sha256"], state))
    return out


def layer(rec: dict[str, Any], name: str, model: str) -> dict[str, Any]:
    """The record of layer `name`; a located error (with did-you-mean) when there is none."""
    layers = rec["layers"]
    if name not in layers:
        raise SpecError.at(
            Location(model),
            f"no layer '{name}' in this model's provenance{did_you_mean(name, layers)}",
            f"{len(layers):,} layers are recorded: `archc explain {model} --layers` lists them",
        )
    return {"name": name, **layers[name]}


def where(entry: dict[str, Any]) -> str:
    """`file:line:col` of a layer record (or the file alone, or 'unknown')."""
    if not entry.get("file"):
        return "unknown"
    return str(Location(entry["file"], entry.get("line") or 0, entry.get("col") or 0))


def overview(rec: dict[str, Any]) -> dict[str, Any]:
    """What `archc explain MODEL` shows, as JSON holds it."""
    spec = rec.get("spec", {})
    return {
        "spec": spec.get("name"),
        "sha256": spec.get("sha256"),
        "files": [f.__dict__ for f in spec_files(rec)],
        "params": rec.get("params", {}),
        "archcompiler_version": rec.get("archcompiler_version"),
        "keras_backend": rec.get("keras_backend"),
        "layers": len(rec["layers"]),
        "extra": {k: v for k, v in rec.items() if k not in _RECORDED},
    }


_RECORDED = {"format", "spec", "params", "archcompiler_version", "keras_backend", "layers"}


def render_overview(o: dict[str, Any]) -> str:
    """The overview as text."""
    lines = [f"spec:     {o['spec']}  (sha256 {str(o['sha256'])[:16]}…)"]
    for f in o["files"]:
        lines.append(f"  {f['path']}  {str(f['sha256'])[:16]}…  {f['state']}")
    params = ", ".join(f"{k}={json.dumps(v)}" for k, v in o["params"].items())
    lines.append(f"params:   {params or '(none)'}")
    lines.append(f"built by: archcompiler {o['archcompiler_version']}, Keras on "
                 f"{o['keras_backend'] or 'unknown'}")  # fmt: skip
    for k, v in o["extra"].items():  # e.g. inference
        lines.append(f"{k + ':':<9} {json.dumps(v)}")
    lines.append(f"layers:   {o['layers']:,}")
    return "\n".join(lines) + "\n"


def render_layer(entry: dict[str, Any]) -> str:
    """One layer's record as text."""
    block = " > ".join(entry.get("block") or []) or "(top level)"
    return (
        f"layer:    {entry['name']}\n"
        f"op:       {entry.get('op')}\n"
        f"source:   {where(entry)}\n"
        f"block:    {block}\n"
        f"section:  {entry.get('section')}\n"
    )
