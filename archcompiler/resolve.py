"""`archc resolve`: a spec as the compiler sees it — one flat document, no `extends` — and where
every value in it comes from.

The merge follows the compiler's own rules (compiler/chain.py, bindings.py, walk.py, finish.py):
`input`/`inputs`, `backbone` and `head` come from the nearest file that writes them (`input`
before `inputs`, as the walk looks); `outputs` and `freeze` from the nearest file that gives
them, `naming` from the nearest that sets it (else the default, `ops`); `name` and `doc` from
the spec itself only (the Graph's name and doc are the top file's); params merged by key in the
base's order (a child's value takes its base's place, so "params see only the params above
them" reads the same); `blocks` by name; `functions` by function name; `override:` per node
name, argument by argument. `$expressions` are kept as written: they see the same params and
functions, so they evaluate identically. `override:` is kept too, merged, rather than applied:
it names nodes that exist only after expansion (block instances, repeat groups, nodes inside
blocks), so applying it would mean rewriting block bodies, while one merged `override:` is
exactly what the walk uses. `--set` values are written as their typed values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import yaml

from .compiler import Limits, resolve_spec
from .compiler.chain import load_chain, nearest
from .compiler.walk import Walk
from .errors import Diagnostic, Location, SpecError
from .graph import Graph
from .spec import expr
from .spec.loader import _EXPONENT_FLOAT, Path
from .spec.validate import CheckedFile, expressions_in
from .zoo import ZOO_DIR

# the order of a flat spec's top-level keys when no file of the chain fixes it
_ORDER = ("archspec", "name", "doc", "params", "input", "inputs", "backbone", "head", "outputs",
          "blocks", "functions", "override", "freeze", "naming")  # fmt: skip
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")  # `repeat: {names: "b{p}"}`


@dataclass(frozen=True)
class Origin:
    """Where one value of the flat spec comes from."""

    file: str | None  # as the user named it (relative to the spec's folder where it lies there)
    line: int | None
    level: int | None  # which `extends` level: 0 the spec itself, 1 its base, …
    via: str  # "written", "extends", "override", "--set" or "default"


@dataclass
class Resolved:
    """A resolved spec: the flat document, its chain (the spec first), the Graph it compiles
    to, where each of its values comes from, and the params nothing reads."""

    data: dict[str, Any]
    files: list[str]  # relative to the spec's folder (the zoo's by their names)
    graph: Graph
    sets: dict[str, str]
    owners: dict[Path, tuple[int | None, str]]  # path → (chain index, via), nearest wins
    chain: list[CheckedFile]
    unused: list[tuple[str, Location]]
    given: str = ""  # the spec as the user named it

    def origin(self, path: Path) -> Origin:
        """Where the value at `path` of the flat spec is written."""
        probe = tuple(path)
        while probe not in self.owners:
            probe = probe[:-1]
        index, via = self.owners[probe]
        if index is None:
            return Origin(None, None, None, via)
        f = self.chain[index]
        line = f.doc.location(path, key=False).line or None
        level = len(self.chain) - 1 - index
        return Origin(self.files[level], line, level, via)


def resolve(
    path: str, sets: Mapping[str, str] | None = None, limits: Limits | None = None
) -> Resolved:
    """Load SPEC's `extends` chain, compile it (so every mistake is reported where it is
    written), and merge it into one flat spec. Raises SpecError."""
    lim = limits or Limits()
    sets = dict(sets or {})
    top_path = resolve_spec(os.fspath(path))
    chain = load_chain(top_path, lim.allowed_dirs)
    graph = Walk(chain, sets, True, lim).run()
    data: dict[str, Any] = {}
    owners: dict[Path, tuple[int | None, str]] = {}
    top = len(chain) - 1

    def via(i: int) -> str:
        return "written" if i == top else "extends"

    def take(key: str, f: CheckedFile | None) -> None:
        if f is not None:
            i = chain.index(f)
            data[key] = f.doc.data[key]
            owners[(key,)] = (i, via(i))

    owners[()] = (None, "merged")
    for key in ("archspec", "name", "doc"):
        if key in chain[top].doc.data:
            take(key, chain[top])
    _merge_params(chain, sets, graph, data, owners, via)
    if nearest(chain, "input") is not None:  # the walk looks for `input` first
        take("input", nearest(chain, "input"))
    else:
        take("inputs", nearest(chain, "inputs"))
    take("backbone", nearest(chain, "backbone"))
    take("head", nearest(chain, "head"))
    for key in ("outputs", "freeze"):
        take(key, next((f for f in reversed(chain) if getattr(f.spec, key) is not None), None))
    _merge_named(chain, "blocks", lambda k, v: k, data, owners, via)
    _merge_named(chain, "functions", _function_name, data, owners, via)
    _merge_override(chain, data, owners)
    naming = next((f for f in reversed(chain) if f.spec.naming), None)
    if naming is not None:
        take("naming", naming)
    else:
        data["naming"], owners[("naming",)] = "ops", (None, "default")
    data = {k: data[k] for k in _key_order(chain) if k in data}
    files = [_shown(f.doc.path, top_path) for f in reversed(chain)]
    given = os.fspath(path) if top_path == os.fspath(path) else os.path.basename(top_path)
    resolved = Resolved(data, files, graph, sets, owners, chain, [], given)
    resolved.unused = unused_params(resolved)
    return resolved


def _merge_params(chain: list[CheckedFile], sets: Mapping[str, str], graph: Graph,
                  data: dict, owners: dict, via: Any) -> None:  # fmt: skip
    params: dict[str, Any] = {}
    for i, f in enumerate(chain):
        for k, v in f.spec.params.items():
            params[k] = v
            owners[("params", k)] = (i, via(i))
    for k in sets:
        value = graph.params[k]
        if expr.is_expr(value):  # a string --set that would read as an expression
            raise SpecError.at(
                Location("--set"), f"--set {k}=…: a string starting with '$' cannot be written "
                "as a plain value in a resolved spec",
            )  # fmt: skip
        params[k] = value
        owners[("params", k)] = (owners[("params", k)][0], "--set")
    if params or any("params" in f.doc.data for f in chain):
        data["params"] = params
        owners[("params",)] = (None, "merged")


def _merge_named(chain: list[CheckedFile], key: str, name_of: Any, data: dict, owners: dict,
                 via: Any) -> None:  # fmt: skip
    """`blocks` (by name) or `functions` (by function name): a child's entry replaces its
    base's, in the base's place."""
    merged: dict[str, tuple[str, Any]] = {}  # name → (key written, value)
    where: dict[str, int] = {}
    for i, f in enumerate(chain):
        written = f.doc.data.get(key)
        for k, v in (written if isinstance(written, dict) else {}).items():
            name = name_of(k, v)
            if name in merged and merged[name][0] != k:  # a new signature: the same place
                merged = {n: ((k, v) if n == name else e) for n, e in merged.items()}
            else:
                merged[name] = (k, v)
            where[name] = i
    if not merged:
        return
    data[key] = {k: v for k, v in merged.values()}
    owners[(key,)] = (None, "merged")
    for name, (k, _) in merged.items():
        owners[(key, k)] = (where[name], via(where[name]))


def _function_name(signature: str, body: Any) -> str:
    return signature.split("(", 1)[0].strip()


def _merge_override(chain: list[CheckedFile], data: dict, owners: dict) -> None:
    """`override:` per node name, argument by argument (bindings.Overrides)."""
    merged: dict[str, dict[str, Any]] = {}
    for i, f in enumerate(chain):
        for name, args in f.spec.override.items():
            merged[name] = {**merged.get(name, {}), **args}
            owners[("override", name)] = (i, "override")
            for arg in args:
                owners[("override", name, arg)] = (i, "override")
    if merged:
        data["override"] = merged
        owners[("override",)] = (None, "merged")


def _key_order(chain: list[CheckedFile]) -> list[str]:
    """The top-level keys in the order the base-most file writes them, then each child's new
    ones, then the rest in the language's order."""
    order: list[str] = []
    for f in chain:
        order += [k for k in f.doc.data if isinstance(k, str) and k not in order]
    return [*order, *(k for k in _ORDER if k not in order)]


def _shown(path: str, top: str) -> str:
    """A chain file as a reader knows it: relative to the spec's folder when it lies there,
    the zoo's by its file name, any other as given."""
    real, home = os.path.realpath(path), os.path.dirname(os.path.realpath(top))
    if real == os.path.realpath(top):
        return os.path.basename(real)
    if real.startswith(home + os.sep):
        return os.path.relpath(real, home)
    if real.startswith(os.path.realpath(ZOO_DIR) + os.sep):
        return os.path.basename(real)
    return path


# ---- params nothing reads --------------------------------------------------------------------
def unused_params(r: Resolved) -> list[tuple[str, Location]]:
    """Params no `$expression` (nor `repeat` names pattern) of the flat spec reads, directly
    or through params that are read; each with where it is written."""
    functions = {name: len(h.params) for name, h in r.chain[-1].functions.items()}
    params = r.data.get("params", {})
    reads: dict[str, set[str]] = {k: _names(v, functions) for k, v in params.items()}
    wanted: set[str] = set()
    for key, value in r.data.items():
        if key not in ("params", "functions"):
            wanted |= _names(value, functions) | _templates(value)
    todo = [k for k in wanted if k in params]
    while todo:
        for k in reads.get(todo.pop(), ()):
            if k in params and k not in wanted:
                wanted.add(k)
                todo.append(k)
    out = []
    for k in params:
        if k not in wanted:
            index = r.owners[("params", k)][0]
            f = r.chain[index if index is not None else -1]
            out.append((k, f.doc.location(("params", k), key=True)))
    return out


def _names(value: Any, functions: Mapping[str, int]) -> set[str]:
    found: set[str] = set()
    for _, text in expressions_in(value):
        found |= expr.names(text[1:], functions)
    return found


def _templates(value: Any) -> set[str]:
    """Params read by `{p}` in `repeat: {names: …}` patterns."""
    found: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            rep = v.get("repeat")
            if isinstance(rep, dict) and isinstance(rep.get("names"), str):
                found |= set(_PLACEHOLDER.findall(rep["names"]))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return found


def unused_diagnostics(r: Resolved) -> list[Diagnostic]:
    """One located diagnostic per param nothing reads."""
    out = []
    for k, where in r.unused:
        origin = r.origin(("params", k))
        inherited = f" (inherited from {origin.file})" if origin.level else ""
        short = os.path.relpath(where.path)  # the base's path was made absolute
        if not short.startswith(".."):
            where = replace(where, path=short)
        out.append(Diagnostic(where, f"param '{k}'{inherited} is never used: nothing reads it"))
    return out


# ---- paths -----------------------------------------------------------------------------------
def walk_paths(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) inside `value`, containers before what they hold."""
    stack = [(path, value)]
    while stack:
        p, v = stack.pop()
        yield p, v
        if isinstance(v, dict):
            stack.extend(reversed([((*p, k), x) for k, x in v.items()]))
        elif isinstance(v, list):
            stack.extend(reversed([((*p, i), x) for i, x in enumerate(v)]))


def dotted(path: Path) -> str:
    """`backbone[3].conv.filters` for ("backbone", 3, "conv", "filters")."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ---- output ----------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Safe YAML, block style, no anchors; strings our loader would read as something else
    (`1e5`: a float to it, not to YAML 1.1) quoted."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789"))
_Dumper.add_representer(
    str,
    lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style='"' if "\n" in s else None),
)
_COMMENT_AT = 48  # the column trailing comments line up at (when the line is shorter)


def _label(origin: Origin) -> str | None:
    if origin.via == "merged":
        return None
    if origin.via in ("--set", "default"):
        return origin.via
    return _printable(f"{origin.file}:{origin.line}")


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def to_yaml(r: Resolved) -> str:
    """The flat spec as YAML, each value followed by a comment saying where it is written."""
    text = yaml.dump(r.data, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=88)  # fmt: skip
    lines = text.splitlines()
    tree = yaml.compose(text, Loader=yaml.SafeLoader)
    comments: dict[int, str] = {}
    containers: list[tuple[int, int, Path]] = []  # (depth, line, path): deepest first later
    for path, node, key_line in _nodes(r.data, tree):
        if not _news(r, path):  # as the value around it says: said once, there
            continue
        if isinstance(node, yaml.ScalarNode) or not node.value:  # a leaf
            block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
            line = node.start_mark.line if block else node.end_mark.line
            comments.setdefault(line, _label(r.origin(path)))  # type: ignore[arg-type]
        else:
            containers.append((-len(path), key_line, path))
    for _, line, path in sorted(containers):
        comments.setdefault(line, _label(r.origin(path)))  # type: ignore[arg-type]
    for i, label in comments.items():
        lines[i] = f"{lines[i].ljust(_COMMENT_AT)}  # {label}"
    return _header(r) + "\n".join(lines) + "\n"


def _news(r: Resolved, path: Path) -> bool:
    """Does the value at `path` come from elsewhere than the value around it?"""
    label = _label(r.origin(path))
    if not path or label is None:
        return False
    return label != _label(r.origin(path[:-1]))


def _nodes(value: Any, node: Any, path: Path = (), key_line: int | None = None) -> Iterator:
    """(path, YAML node, line of its key or list dash) for every value, walked with the data
    (the dumper keeps the order of the mappings it is given)."""
    stack = [(value, node, path, node.start_mark.line if key_line is None else key_line)]
    while stack:
        v, n, p, line = stack.pop()
        yield p, n, line
        if isinstance(v, dict) and isinstance(n, yaml.MappingNode):
            for (k, x), (kn, xn) in zip(v.items(), n.value, strict=True):
                stack.append((x, xn, (*p, k), kn.start_mark.line))
        elif isinstance(v, list) and isinstance(n, yaml.SequenceNode):
            for i, (x, xn) in enumerate(zip(v, n.value, strict=True)):
                stack.append((x, xn, (*p, i), xn.start_mark.line))


def _header(r: Resolved) -> str:
    chain = (r.given or r.files[0]) + "".join(f", extending {f}" for f in r.files[1:])
    sets = " ".join(f"--set {k}={v}" for k, v in r.sets.items())
    lines = [f"generated by `archc resolve` from {chain}" + (f" with {sets}" if sets else ""),
             "one flat spec (no `extends`) that compiles to the same Graph; each comment says",
             "where a value is written (a value without one: where the value around it is;",
             "`--set`: given on the command line; `default`: the language's default)"]  # fmt: skip
    return "".join(f"# {_printable(line)}\n" for line in lines)


def to_json(r: Resolved) -> dict[str, Any]:
    """The flat spec, its files and each value's origin by path (`backbone[3].conv.filters`)."""
    provenance = {}
    for path, value in walk_paths(r.data):
        if path and not (isinstance(value, (dict, list)) and value):
            o = r.origin(path)
            provenance[dotted(path)] = {"file": o.file, "line": o.line, "level": o.level,
                                        "via": o.via}  # fmt: skip
    unused = []
    for k, _ in r.unused:
        o = r.origin(("params", k))
        unused.append({"param": k, "file": o.file, "line": o.line, "level": o.level})
    return {"spec": r.given, "files": r.files, "sets": r.sets, "resolved": r.data,
            "provenance": provenance, "unused_params": unused}  # fmt: skip
