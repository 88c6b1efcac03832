"""A spec file and the files it `extends`, loaded and checked, base first."""

from __future__ import annotations

import os
import stat

from ..errors import Location, SpecError, did_you_mean
from ..limits import MAX_EXTENDS_DEPTH
from ..spec.expr import Helper
from ..spec.loader import Doc, load_file
from ..spec.validate import CheckedFile, UserBlock, check_file
from ..zoo import ZOO_DIR, is_zoo_name, zoo_names


def load_chain(path: str, allowed_dirs: tuple[str, ...] = ()) -> list[CheckedFile]:
    """The file and the files it `extends`, base first; each checked with the blocks and the
    functions of the files below it (a child may use, and replace, its base's). A base must lie
    in the folder tree of the file that names it, in the zoo, or under `allowed_dirs`."""
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
        where = doc.location(("extends",))
        target = resolve_extends(parent, path, allowed_dirs, where)
        if os.path.realpath(target) in seen:
            raise SpecError.at(where, f"'{parent}' is already in this chain of `extends` (a cycle)")
        if len(seen) >= MAX_EXTENDS_DEPTH:
            raise SpecError.at(where, f"`extends` chains hold at most {MAX_EXTENDS_DEPTH} files")
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


def resolve_extends(parent: str, child: str, allowed_dirs: tuple[str, ...], where: Location) -> str:
    """The file `extends: PARENT` of file CHILD names, confined (symlinks resolved) to CHILD's
    folder tree, the zoo and `allowed_dirs`, and a regular file: checked before it is opened, so
    that a spec cannot make archcompiler read, or quote, any other file (docs/contracts.md)."""
    if "\0" in parent or not parent.strip():
        raise SpecError.at(where, "`extends` needs a file name (no NUL characters)")
    if is_zoo_name(parent):
        target = os.path.join(ZOO_DIR, f"{parent}.yaml")
        if not os.path.isfile(target):
            names = zoo_names()
            raise SpecError.at(
                where, f"no zoo spec is named '{parent}'{did_you_mean(parent, names)} "
                "(a file of your own is named with its .yaml)",
            )  # fmt: skip
        return target
    home = os.path.dirname(os.path.abspath(child))
    target = os.path.join(home, parent)
    real = os.path.realpath(target)
    roots = [home, str(ZOO_DIR), *allowed_dirs]
    if not any(_within(real, os.path.realpath(root)) for root in roots):
        raise SpecError.at(
            where,
            f"'{parent}' is outside this spec's folder ({home}): a spec may extend files in its "
            "own folder tree and the zoo only (widen it with --allow-path DIR)",
        )
    try:
        mode = os.stat(real).st_mode
    except (OSError, ValueError):
        raise SpecError.at(where, f"cannot find '{parent}' (looked at {target})") from None
    if not stat.S_ISREG(mode):
        raise SpecError.at(where, f"'{parent}' is not a regular file (looked at {target})")
    return target


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
