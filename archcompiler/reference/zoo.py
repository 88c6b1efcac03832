"""docs/zoo.md: every spec of the zoo with its input, params, MACs, depth and paper."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..backends.keras_layers import keras_layer
from ..compiler import compile_file
from ..ops import OPS, fmt
from ..summary import human
from ..zoo import ZOO_DIR, zoo_specs
from .markdown import GENERATED_NOTE, _cell

# Ops whose nodes count as the network's "depth" in docs/zoo.md: convolutions and dense layers.
_WEIGHTED_LAYERS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Dense")

_ABBREVIATIONS = {"al", "cf", "e.g", "eq", "fig", "figs", "i.e", "no", "proc", "sec", "vol", "vs"}
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z][a-z]|[0-9`])")
_SURNAME = re.compile(r"[A-Z][\w'\-]*,")  # `He,` in `K. He, X. Zhang, …`
_INITIALS = re.compile(r"[A-Z](\.-[A-Z])*")  # `K` of `K. He`, `L.-C` of `L.-C. Chen`
_TWIN = re.compile(r"keras\.applications\.\s*([A-Z]\w*)")


def first_sentence(text: str) -> str:
    """The first sentence of prose that cites papers: a period ends it unless it follows an
    initial (`K. He,`) or an abbreviation (`Fig. 3`, `Proc. IEEE`)."""
    text = " ".join(text.split())
    for m in _SENTENCE_END.finditer(text):
        word = text[: m.start()].rsplit(" ", 1)[-1].lstrip("(\"'")
        if _INITIALS.fullmatch(word) and _SURNAME.match(text, m.end()):
            continue
        if word.lower() in _ABBREVIATIONS:
            continue
        return text[: m.start() + 1]
    return text


def spec_paper(text: str) -> str:
    """The source paper named by a spec's header comment (`# ResNet-50 — K. He, …, CVPR 2016,
    Table 1 …`): the first sentence of the leading comments after the dash, without the period."""
    header = ""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if "yaml-language-server" not in line:  # a line ending in `Inception-` goes on unspaced
            header += ("" if header.endswith("-") else " ") + line.lstrip("#").strip()
    sentence = first_sentence(header)
    if " — " in sentence:
        sentence = sentence.split(" — ", 1)[1]
    return sentence.rstrip(".")


def spec_twin(doc: str) -> str | None:
    """The keras.applications constructor a spec's `doc` says it is layer for layer
    (`… layer for layer as keras.applications.MobileNetV2 …`), or None."""
    m = _TWIN.search(doc.split("layer for layer as", 1)[1]) if "layer for layer as" in doc else None
    return m.group(1) if m else None


def _is_weighted_layer(op: str) -> bool:
    return op in OPS and keras_layer(op) in _WEIGHTED_LAYERS


@dataclass(frozen=True)
class ZooEntry:
    file: str
    name: str
    inputs: str
    params: int
    macs: int
    depth: int
    paper: str
    doc: str
    twin: str | None


def zoo_entries(specs_dir: Path = ZOO_DIR) -> list[ZooEntry]:
    """Compile every spec of the zoo (or of `specs_dir`) and read off the zoo's columns."""
    entries = []
    for path in zoo_specs(specs_dir):
        graph = compile_file(path)
        entries.append(
            ZooEntry(
                file=path.name,
                name=graph.name,
                inputs=", ".join(fmt(graph.nodes[i].shape) for i in graph.inputs),
                params=graph.total_params,
                macs=graph.macs,
                depth=sum(_is_weighted_layer(n.op) for n in graph),
                paper=spec_paper(path.read_text(encoding="utf-8")),
                doc=first_sentence(graph.doc),
                twin=spec_twin(graph.doc),
            )
        )
    return entries


def zoo_markdown(specs_dir: Path = ZOO_DIR) -> str:
    """docs/zoo.md: one row per spec of the zoo (or of `specs_dir`), then what each one is."""
    entries = zoo_entries(specs_dir)
    out = [
        "# The model zoo",
        "",
        GENERATED_NOTE,
        "",
        f"The {len(entries)} specs in `specs/`, compiled with their default params (head "
        "included). *Params* counts all weights (trainable and not); *MACs* are the "
        "multiply-accumulates of convolutions and dense layers for one image; *depth* counts "
        "the layers with weights of the convolution and dense kinds (`"
        + "`, `".join(k for k in OPS if _is_weighted_layer(k))
        + "`), projection shortcuts and depthwise convolutions included. "
        "*keras.applications* names the constructor a spec is identical to, layer for layer "
        "(names, params, shapes, predictions with the same weights: tests/test_parity_*.py). "
        "`archc summary specs/NAME.yaml` shows every layer.",
        "",
        "| spec | keras.applications | input | params | MACs | depth | paper |",
        "|---|---|---|--:|--:|--:|---|",
    ]
    for e in entries:
        link = f"[`{e.name}`](../specs/{e.file})"
        params = f"{e.params:,} ({human(e.params)})"
        twin = f"`{e.twin}`" if e.twin else "—"
        out.append(
            f"| {link} | {twin} | {e.inputs} | {params} | {human(e.macs)} | {e.depth} "
            f"| {_cell(e.paper)} |"
        )
    out += ["", "## What each spec is", ""]
    out += [f"- **{e.name}** — {e.doc}" for e in entries]
    return "\n".join(out) + "\n"
