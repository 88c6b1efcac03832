"""A spec file and the files it `extends`, loaded and checked, base first."""

from __future__ import annotations

import os

from ..errors import SpecError
from ..limits import MAX_EXTENDS_DEPTH
from ..spec.expr import Helper
from ..spec.loader import Doc, load_file
from ..spec.validate import CheckedFile, UserBlock, check_file


def load_chain(path: str) -> list[CheckedFile]:
    """The file and the files it `extends`, base first; each checked with the blocks and the
    functions of the files below it (a child may use, and replace, its base's)."""
    seen: list[str] = []
    docs: list[Doc] = []
    while True:
        doc = load_file(path)
        docs.append(doc)
        seen.append(os.path.realpath(path))
        data = doc.data if isinstance(doc.data, dict) else {}
        parent = data.get("extends")
        if not isinstance(parent, str):
            break
        target = os.path.join(os.path.dirname(path), parent)
        where = doc.location(("extends",))
        if os.path.realpath(target) in seen:
            raise SpecError.at(where, f"'{parent}' is already in this chain of `extends` (a cycle)")
        if len(seen) > MAX_EXTENDS_DEPTH:
            raise SpecError.at(where, f"`extends` is nested deeper than {MAX_EXTENDS_DEPTH} files")
        if not os.path.isfile(target):
            raise SpecError.at(where, f"cannot find '{parent}' (looked at {target})")
        path = target
    chain: list[CheckedFile] = []
    blocks: dict[str, UserBlock] = {}
    functions: dict[str, Helper] = {}
    for doc in reversed(docs):
        checked = check_file(doc, blocks, functions)
        blocks, functions = checked.blocks, checked.functions
        chain.append(checked)
    return chain


def nearest(chain: list[CheckedFile], key: str) -> CheckedFile | None:
    """The file nearest the top of the chain that writes top-level `key`."""
    return next((f for f in reversed(chain) if key in f.doc.data), None)
