"""Safe YAML loading that remembers where every key, value and list item came from.

We compose the document ourselves from the parser's event stream (libyaml when available), so
that nothing recursive runs on user input and every refusal is located:

- only the plain YAML tags (str, int, float, bool, null, map, seq) — no `!!python/...`;
- duplicate keys in a mapping (PyYAML would silently keep the last one);
- aliases: a bounded count, and a bounded total of expanded nodes (billion laughs);
- nesting depth, file size, non-UTF-8 bytes, NaN/inf, several documents, merge keys.

The result is a `Doc`: plain Python data plus a table `path -> (key mark, value mark)`, where a
path is the tuple of keys and indices leading to a value, e.g. ("backbone", 3, "conv", "filters").
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import Diagnostic, Location, SpecError
from ..limits import MAX_ALIASES, MAX_EXPANDED_NODES, MAX_FILE_BYTES
from ..limits import MAX_NESTING as MAX_DEPTH
from ..limits import MAX_YAML_INT_BITS as MAX_INT_BITS
from ..model_files import not_a_spec

Path = tuple[Any, ...]
Mark = tuple[int, int]  # 1-based (line, col)

_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")


def _reads_exponent_floats(base: type) -> type:
    """A SafeLoader that also reads `1e-5` as a float (YAML 1.1 wants `1.0e-5`)."""
    loader = type(f"_{base.__name__}", (base,), {})
    loader.add_implicit_resolver(  # type: ignore[attr-defined]
        "tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789")
    )
    return loader


PURE_LOADER = _reads_exponent_floats(yaml.SafeLoader)
LOADER = _reads_exponent_floats(yaml.CSafeLoader) if yaml.__with_libyaml__ else PURE_LOADER

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "value")}


@dataclass
class Doc:
    """A loaded spec file: data, source text and the location of every path."""

    path: str
    text: str
    data: Any
    keys: dict[Path, Mark] = field(default_factory=dict)
    values: dict[Path, Mark] = field(default_factory=dict)
    quoted: set[Path] = field(default_factory=set)
    _lines: list[str] | None = field(default=None, repr=False, compare=False)
    _found: dict[tuple[Path, bool], Location] = field(default_factory=dict, repr=False,
                                                      compare=False)  # fmt: skip

    def location(self, path: Path, *, key: bool = False) -> Location:
        """Where `path` is written; falls back to the nearest enclosing value that has a mark.
        Remembered: every primitive a block places asks for its block's location."""
        path = tuple(path)
        found = self._found.get((path, key))
        if found is None:
            found = self._found[(path, key)] = self._locate(path, key)
        return found

    def _locate(self, path: Path, key: bool) -> Location:
        table = self.keys if key else self.values
        while path:
            mark = table.get(path) or self.values.get(path) or self.keys.get(path)
            if mark:
                return self._loc(mark)
            path = path[:-1]
        return self._loc(self.values.get((), (1, 1)))

    def _loc(self, mark: Mark) -> Location:
        line, col = mark
        if self._lines is None:  # split once: locations are made for every node placed
            self._lines = self.text.splitlines()
        lines = self._lines
        text = lines[line - 1] if 0 < line <= len(lines) else None
        return Location(self.path, line, col, text)

    def error(self, path: Path, message: str, *, key: bool = False, notes: tuple = ()) -> SpecError:
        return SpecError(Diagnostic(self.location(path, key=key), message, tuple(notes)))


def load_file(path: str | os.PathLike[str]) -> Doc:
    """Read and load a spec file; every problem is a located SpecError."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block, a device never end
            raise SpecError.at(
                Location(name),
                "not a regular file (a spec is a file: not a device, FIFO or folder)",
            )
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise SpecError.at(
                Location(name), f"file is {size:,} bytes; specs are limited to {MAX_FILE_BYTES:,}"
            )
        with open(name, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise SpecError.at(Location(name), f"cannot read file: {e.strerror or e}") from None
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str = "<string>") -> Doc:
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError.at(Location(name), f"file is larger than {MAX_FILE_BYTES:,} bytes")
    if (what := not_a_spec(raw)) is not None:  # a model, weights or image file: say so, unlocated
        raise SpecError.at(Location(name), *what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[: e.start].decode("utf-8", "replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1  # in characters, as every column
        raise SpecError.at(
            Location(name, line, col), f"file is not UTF-8 (byte 0x{raw[e.start]:02x})"
        ) from None
    return load_text(text.removeprefix("\ufeff"), name)


def load_text(text: str, name: str = "<string>", *, loader: type = LOADER) -> Doc:
    """Compose `text` with `loader` (libyaml's when PyYAML has it; `PURE_LOADER` gives the same
    result, slower)."""
    doc = Doc(name, text, None)
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise SpecError.at(Location(name), "file is empty; a spec starts with `archspec: 1`")
    try:
        _Composer(doc, loader).run(text)
    except _YAMLFailure as failure:
        raise _our_bound_first(doc, loader, failure) from None
    return doc


def _our_bound_first(doc: Doc, loader: type, failure: _YAMLFailure) -> SpecError:
    """The error to report for a YAML library's refusal at offset `failure.index`.

    A parser may refuse a document for limits of its own before our composer has seen the events
    in front of the refusal: libyaml 0.2.6 stops at 1,000 nested flow collections, and its scanner
    reads up to 1,024 characters ahead of the last event it delivered, so in `[[[[…` its limit
    fires long before we see depth 65. When the text in front of the refusal opens enough flow
    collections for nesting to be the cause, we compose just that text: whatever our composer
    refuses there (our depth bound, a collection used as a key) is what a parser without such a
    limit leads to, at the same line and column, in the same words.
    """
    head = doc.text[: failure.index]
    if head.count("[") + head.count("{") > MAX_DEPTH:
        try:
            _Composer(Doc(doc.path, doc.text, None), loader).run(head, collected=False)
        except SpecError as ours:
            return ours
        except _YAMLFailure:  # the library refuses the head too: its own words stand
            pass
    return failure.error


@dataclass(slots=True)
class _Frame:
    container: Any  # dict or list being filled
    path: Path
    anchor: str | None
    is_list: bool
    key: Any = None  # mapping: the pending key, or _NO_KEY
    key_mark: Mark | None = None
    size: int = 1  # expanded node count, for the alias bound
    start: Mark = (1, 1)


_NO_KEY = object()

# the parsers (libyaml's and PyYAML's) make events of exactly these classes: `type(event) is`
_SCALAR, _ALIAS, _MAPPING_START = yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent
_STREAM_END, _DOCUMENT_START = yaml.StreamEndEvent, yaml.DocumentStartEvent
_SKIPPED = frozenset({yaml.StreamStartEvent, yaml.DocumentEndEvent})
_COLLECTION_END = frozenset({yaml.MappingEndEvent, yaml.SequenceEndEvent})


_COMPLEX_KEY = "mapping keys must be plain scalars, not lists or mappings"


class _YAMLFailure(Exception):
    """The YAML library refused the text at character `index`; `error` says so, located."""

    def __init__(self, error: SpecError, index: int) -> None:
        self.error, self.index = error, index


class _Composer:
    """Builds plain data from parser events, iteratively (no recursion on user input)."""

    def __init__(self, doc: Doc, loader: type = LOADER) -> None:
        self.doc = doc
        self.loader = loader
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.aliases = 0
        self.errors: list[Diagnostic] = []
        # plain scalar (text, implicit) -> its value: specs repeat the same few words and numbers
        # thousands of times, and resolving each one's tag is most of the loading time
        self.plain: dict[tuple[str, Any], Any] = {}

    def fail(self, mark: Mark, message: str) -> SpecError:
        return SpecError(Diagnostic(self.doc._loc(mark), message))

    def note(self, mark: Mark, message: str) -> None:
        self.errors.append(Diagnostic(self.doc._loc(mark), message))

    def run(self, text: str, *, collected: bool = True) -> None:
        """Compose `text` (the document's text, or the part of it in front of a refusal); the
        mistakes collected on the way (duplicate keys) are raised at the end if `collected`."""
        loader = None
        try:
            loader = self.loader(text)  # PyYAML's own reader checks the characters here
            self._compose(loader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            where = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = e.problem or e.context or "invalid YAML"
            error = self.fail(where, f"invalid YAML: {problem}")
            raise _YAMLFailure(error, mark.index if mark else len(text)) from None
        except yaml.reader.ReaderError as e:  # a control character: locate it ourselves
            before = self.doc.text[: e.position]
            where = (before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
            char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
            raise self.fail(
                where, f"control characters are not allowed in YAML (found {char})"
            ) from None
        except yaml.YAMLError as e:
            raise self.fail((1, 1), f"invalid YAML: {e}") from None
        finally:
            if loader is not None:
                loader.dispose()
        if self.errors and collected:
            raise SpecError(self.errors)

    def _compose(self, loader: Any) -> None:
        """One loop over the events, the tables and counters in locals: this runs for every
        key and value of the file (the parser's own work is a quarter of loading). Each event
        gives a value to place (`value`, its subtree's node count `size`, how many nodes it adds
        to the expanded document `fresh`, `quoted`: None for a collection or alias, which may not
        be a key) or changes the stack and continues."""
        values, keys, quoted_paths = self.doc.values, self.doc.keys, self.doc.quoted
        anchors, plain = self.anchors, self.plain
        stack: list[_Frame] = []
        top: _Frame | None = None  # stack[-1]
        root: list[Any] = []
        documents = expanded = 0
        get_event = loader.get_event
        while True:
            event = get_event()
            start = event.start_mark
            mark = (start.line + 1, start.column + 1)
            kind = type(event)
            size = fresh = 1
            quoted: bool | None = False
            if kind is _SCALAR and event.tag is None and not event.style:
                # the common case first: an untagged plain scalar (the tag checks below pass),
                # its value remembered by its text (see `_plain`)
                value = plain.get((event.value, event.implicit), _NO_KEY)
                if value is _NO_KEY:
                    value = self._plain(loader, event, mark)
                if event.anchor:
                    anchors[event.anchor] = (value, 1)
            elif kind in _COLLECTION_END:
                frame = stack.pop()
                top = stack[-1] if stack else None
                value, size, fresh, quoted, mark = frame.container, frame.size, 0, None, frame.start
                if frame.anchor:
                    anchors[frame.anchor] = (value, size)
            elif kind is _STREAM_END:
                break
            elif kind is _DOCUMENT_START:
                documents += 1
                if documents > 1:
                    raise self.fail(mark, "a spec file holds one YAML document; found a second")
                continue
            elif kind in _SKIPPED:
                continue
            elif kind is _ALIAS:
                value, size = self._alias(event.anchor, mark)
                fresh, quoted = size, None
            else:
                tag = event.tag
                if tag not in (None, "!") and not tag.startswith(_TAG):
                    raise self.fail(mark, _refuse_tag(tag))
                if kind is _SCALAR:
                    value = self._scalar(loader, event, mark)
                    if event.anchor:
                        anchors[event.anchor] = (value, 1)
                    quoted = event.style in ("'", '"')
                else:  # a mapping or sequence starts
                    if len(stack) >= MAX_DEPTH:
                        raise self.fail(mark, f"nesting is deeper than {MAX_DEPTH} levels")
                    is_map = kind is _MAPPING_START
                    if tag not in (None, "!", _TAG + ("map" if is_map else "seq")):
                        raise self.fail(mark, _refuse_tag(tag))
                    if top is None:
                        path: Path = ()
                    elif top.is_list:
                        path = (*top.path, len(top.container))
                    elif top.key is _NO_KEY:
                        raise self.fail(mark, _COMPLEX_KEY)
                    else:
                        path = (*top.path, top.key)
                    values[path] = mark
                    expanded += 1
                    top = _Frame({} if is_map else [], path, event.anchor, not is_map,
                                 _NO_KEY, None, 1, mark)  # fmt: skip
                    stack.append(top)
                    continue
            # place the value into its parent, or make it the document root
            expanded += fresh
            if expanded > MAX_EXPANDED_NODES:
                raise self.fail(mark, f"document expands to more than {MAX_EXPANDED_NODES:,} nodes")
            if top is None:
                root.append(value)
                continue
            top.size += size
            container = top.container
            if top.is_list:
                path = (*top.path, len(container))
                container.append(value)
            elif top.key is _NO_KEY:  # this value is a key
                if quoted is None:
                    raise self.fail(mark, _COMPLEX_KEY)
                if value in container:
                    first = keys[(*top.path, value)]
                    self.note(mark, f"duplicate key '{value}' (first given at line {first[0]})")
                    value = _Duplicate(str(value))
                top.key, top.key_mark = value, mark
                continue
            else:
                key = top.key
                path = (*top.path, key)
                if type(key) is not _Duplicate:
                    container[key] = value
                    keys[path] = top.key_mark  # type: ignore[assignment]
                top.key = _NO_KEY
            if path not in values:  # a collection's mark was set where it starts
                values[path] = mark
            if quoted:
                quoted_paths.add(path)
        if not root or root[0] is None:
            raise self.fail((1, 1), "file is empty; a spec starts with `archspec: 1`")
        self.doc.data = root[0]

    def _alias(self, anchor: str, mark: Mark) -> tuple[Any, int]:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise self.fail(mark, f"more than {MAX_ALIASES} aliases in one file")
        if anchor not in self.anchors:
            raise self.fail(mark, f"alias '*{anchor}' refers to no anchor above it")
        return self.anchors[anchor]

    def _plain(self, loader: Any, event: Any, mark: Mark) -> Any:
        """`_scalar` of an untagged plain scalar, remembered by its text (values are immutable;
        a refusal is not remembered, so every occurrence is refused at its own mark)."""
        key = (event.value, event.implicit)
        try:
            return self.plain[key]
        except KeyError:
            value = self.plain[key] = self._scalar(loader, event, mark)
            return value

    def _scalar(self, loader: Any, event: Any, mark: Mark) -> Any:
        if event.tag == "!" or (event.style in ("'", '"', "|", ">") and event.tag is None):
            return event.value
        tag = event.tag or _resolve(loader, event.value, event.implicit)
        if tag == _TAG + "merge":
            raise self.fail(mark, "merge keys '<<' are not supported; use params or blocks")
        if tag not in _SCALAR_TAGS:
            raise self.fail(mark, _refuse_tag(tag))
        kind = tag[len(_TAG) :]
        if kind in ("str", "timestamp", "value"):
            return event.value
        node = yaml.ScalarNode(tag, event.value)
        try:
            value = getattr(loader, f"construct_yaml_{kind}")(node)
        except (ValueError, yaml.YAMLError):
            raise self.fail(mark, f"'{_short(event.value)}' is not a valid {kind}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(mark, f"'{_short(event.value)}' is not a finite number")
        if isinstance(value, int) and abs(value).bit_length() > MAX_INT_BITS:
            raise self.fail(mark, f"'{_short(event.value)}' is too large a number")
        return value


def _resolve(loader: Any, value: str, implicit: tuple[bool, bool]) -> str:
    """`loader.resolve(ScalarNode, value, implicit)` without its list building, for loaders that
    have no path or wildcard resolvers (ours): a spec's every distinct name passes here."""
    resolvers = loader.yaml_implicit_resolvers
    if loader.yaml_path_resolvers or None in resolvers:
        return loader.resolve(yaml.ScalarNode, value, implicit)
    if implicit[0]:
        for tag, regexp in resolvers.get(value[:1], ()):  # value[:1] is '' for '', as there
            if regexp.match(value):
                return tag
    return loader.DEFAULT_SCALAR_TAG


def _short(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else f"{text[:keep]}… ({len(text):,} characters)"


def _refuse_tag(tag: str) -> str:
    shown = "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag
    return f"tag '{shown}' is not allowed; specs hold plain YAML values (no tags)"


class _Duplicate(str):
    """Marks the key of a duplicate entry so its value is read (for more errors) but dropped."""

    __slots__ = ()
