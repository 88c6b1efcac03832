"""Files archcompiler reads that are not specs — saved models, weights files, images — checked
before TensorFlow is imported and before Keras opens them, so that a missing, wrong, broken or
hostile file is a located error at once: not an internal error after ten seconds of imports,
and not a `MemoryError` from a `.keras` archive whose `config.json` inflates to gigabytes.

A `.keras` file is a zip archive (config.json, metadata.json, model.weights.h5). Its members'
declared sizes bound what Python's zipfile will inflate (it stops at the declared size), so
bounding the declared sizes and the member count bounds the work of opening one.
"""

from __future__ import annotations

import os
import stat
import zipfile

from .errors import Location, SpecError

MAX_MEMBERS = 10_000  # a Keras 3 model has 3 (plus assets)
MAX_JSON_BYTES = 64 * 1024 * 1024  # config.json / metadata.json, inflated (ResNet-152: 0.6 MB)
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
WEIGHTS_SUFFIXES = (".h5", ".hdf5", ".keras")


def check_regular_file(path: str, what: str) -> None:
    """`path` names a regular file: not missing, not a folder, FIFO or device."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        raise SpecError.at(Location(path), f"{what} not found") from None
    if not stat.S_ISREG(mode):
        raise SpecError.at(Location(path), f"{what} is not a regular file")


def check_model_file(path: str) -> None:
    """A saved `.keras` model that Keras can be asked to open."""
    check_regular_file(path, "model file")
    if not path.endswith(".keras"):
        raise SpecError.at(Location(path), "the model must be a .keras file")
    check_keras_archive(path)


def check_keras_archive(path: str) -> None:
    """A zip archive with a config.json, within the bounds above; a clear error otherwise."""
    where = Location(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        message = "not a .keras file: not a zip archive, or a truncated one"
        raise SpecError.at(where, message) from None
    except OSError as e:
        raise SpecError.at(where, f"cannot read this file: {e.strerror or e}") from None
    if len(members) > MAX_MEMBERS:
        raise SpecError.at(where, f"not a .keras file: {len(members):,} members")
    names = {m.filename: m for m in members}
    if "config.json" not in names:
        raise SpecError.at(where, "not a .keras file: it has no config.json")
    for name in ("config.json", "metadata.json"):
        member = names.get(name)
        if member is not None and member.file_size > MAX_JSON_BYTES:
            raise SpecError.at(
                where, f"not a .keras file: its {name} would inflate to "
                f"{member.file_size:,} bytes (at most {MAX_JSON_BYTES:,})",
            )  # fmt: skip


def check_weights_file(path: str) -> None:
    """`--weights`: a `.weights.h5` or legacy `.h5` (an HDF5 file), or a `.keras` model."""
    check_regular_file(path, "weights file")
    if not path.endswith(WEIGHTS_SUFFIXES):
        raise SpecError.at(
            Location(path), "weights must be a .weights.h5, a legacy .h5 or a .keras file"
        )
    if path.endswith(".keras"):
        check_keras_archive(path)
        return
    try:
        with open(path, "rb") as f:
            head = f.read(len(HDF5_SIGNATURE))
    except OSError as e:
        raise SpecError.at(Location(path), f"cannot read this file: {e.strerror or e}") from None
    if head != HDF5_SIGNATURE:
        raise SpecError.at(Location(path), "not an HDF5 weights file (no HDF5 signature)")


def check_image_files(paths: list[str]) -> None:
    """Images for `archc predict`: each a regular file (decoding is TensorFlow's, later)."""
    for path in paths:
        check_regular_file(path, "image")


# the first bytes of files archcompiler reads that are not specs → (what it is, what to do)
SIGNATURES = {
    b"PK\x03\x04": (
        "this is a Keras model file (a zip archive), not a spec",
        "to inspect it: keras.saving.load_model(FILE).summary() in Python; to run it: "
        "`archc evaluate FILE --data DIR` or `archc predict FILE IMAGE…`",
    ),
    HDF5_SIGNATURE: (
        "this is an HDF5 (weights) file, not a spec",
        "to load weights into a spec's model: `archc build SPEC --weights FILE` (or train)",
    ),
    b"\x89PNG": ("this is a PNG image, not a spec", "to classify it: `archc predict MODEL FILE`"),
    b"\xff\xd8\xff": (
        "this is a JPEG image, not a spec",
        "to classify it: `archc predict MODEL FILE`",
    ),
}


def not_a_spec(raw: bytes) -> tuple[str, str] | None:
    """(message, note) when a file starting with `raw` is a model, weights or image file given
    where a spec belongs; None otherwise."""
    for signature, said in SIGNATURES.items():
        if raw.startswith(signature):
            return said
    return None
