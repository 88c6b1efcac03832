"""docs/tutorial.md stays true: its specs compile, it ends at specs/fashion_resnet.yaml, and every
`archc` listing it quotes is what archc prints today.

The tutorial is replayed top to bottom in a scratch directory holding a copy of specs/:
- a ```yaml fence with `archspec:` is a whole spec; it is saved under the file name that the
  first command of the next ```console fence uses;
- a ```yaml fence without it is an edit ("change the backbone to …"): its top-level sections
  replace those of the saved spec for the next ```console fence only;
- in a ```console fence, each `$ archc …` line is run and the lines quoted under it are compared
  with the real output: table rows cell by cell under the quoted column headings (so a new
  column in `archc summary` does not break the tutorial, but a changed figure does), totals
  lines ignoring alignment, every other line exactly; `…` marks lines left out.
"""

from __future__ import annotations

import itertools
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from archcompiler.compiler import compile_file
from archcompiler.graph import Graph
from archcompiler.ops.base import fmt
from tests.conftest import ROOT

TUTORIAL = ROOT / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
TOTAL = re.compile(r"^[A-Z][\w ()-]*:\s")  # "Total params:  1,735,274  (6.6 MB float32)"
GROUPED = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")  # 27,050
SHAPE = re.compile(r"\b\d+×\d+×\d+\b")  # 14×14×32
# keras.applications' file for VGG16(include_top=False); the slow test makes a stand-in.
VGG16_NOTOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"


@dataclass
class Command:
    argv: list[str]
    quoted: list[str] = field(default_factory=list)


def fences() -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return FENCE.findall(TUTORIAL.read_text())


def whole_specs() -> list[str]:
    return [body for lang, body in fences() if lang == "yaml" and "archspec:" in body]


def prose() -> str:
    return FENCE.sub("", TUTORIAL.read_text())


def commands(body: str) -> list[Command]:
    out: list[Command] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append(Command(shlex.split(line[2:])))
        else:
            assert out, f"console output before any command: {line!r}"
            out[-1].quoted.append(line.rstrip())
    return out


def spec_argument(command: Command) -> str:
    return next(a for a in command.argv if a.endswith(".yaml"))


def apply_edit(text: str, fragment: str) -> str:
    """Replace the top-level sections of `text` that `fragment` gives, keeping line numbers
    of everything above them as a reader's edited file would."""
    lines = text.splitlines()
    for key in re.findall(r"^(\w+):", fragment, re.M):
        part = re.search(rf"^{key}:.*?(?=^\w|\Z)", fragment, re.M | re.S).group(0)
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        end = next(
            (i for i in range(start + 1, len(lines)) if re.match(r"\w", lines[i])), len(lines)
        )
        lines[start:end] = part.rstrip("\n").splitlines()
    return "\n".join(lines) + "\n"


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def label(cell: str) -> str:
    return cell.removeprefix("▸ ")


def table(actual: list[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The column headings and {row label: {heading: cell}} of an `archc summary` table."""
    start = next((i for i, line in enumerate(actual) if line.startswith("Layer ")), None)
    if start is None:
        return [], {}
    heads = cells(actual[start])
    rows = {}
    for line in actual[start + 2 :]:
        if set(line) == {"─"}:
            break
        row = cells(line)
        rows[label(row[0])] = dict(zip(heads, row, strict=False))
    return heads, rows


def assert_quoted(command: Command, output: str) -> None:
    actual = [line.rstrip() for line in output.splitlines()]
    heads, rows = table(actual)
    normalised = {" ".join(line.split()) for line in actual}
    quoted_heads: list[str] | None = None
    where = " ".join(command.argv)
    for line in command.quoted:
        if line.strip() in ("", "…") or set(line.strip()) == {"─"}:
            continue
        if line.startswith("Layer "):
            quoted_heads = cells(line)
            missing = set(quoted_heads) - set(heads)
            assert not missing, f"{where}: archc no longer prints the columns {missing}"
        elif TOTAL.match(line):
            assert " ".join(line.split()) in normalised, f"{where}: stale line {line!r}"
        elif quoted_heads is not None:  # a table row: compare each quoted cell
            row = dict(zip(quoted_heads, cells(line), strict=False))
            name = label(row["Layer"])
            assert name in rows, f"{where}: archc prints no row {name!r}"
            for head, cell in row.items():
                now = rows[name].get(head, "")
                assert label(now) == label(cell), f"{where}: {name} {head} is {now!r}, not {cell!r}"
        elif line.startswith("Wrote "):  # the file size depends on the Keras version
            size = re.compile(r"\(\d+(\.\d+)? [KMG]?B\)")
            assert size.sub("", line) in {size.sub("", a) for a in actual}, f"{where}: {line!r}"
        else:
            assert line in actual, f"{where}: stale line {line!r}\nnow:\n{output}"


def replay(workspace: Path, build: bool) -> list[str]:
    """Run the tutorial's commands in order (`archc build` only if `build`); returns the
    ```python fences that follow a build, for the caller to run."""
    pending: str | None = None
    edit: str | None = None
    saved: dict[str, str] = {}
    python: list[str] = []
    built = False
    for lang, body in fences():
        if lang == "yaml" and "archspec:" in body:
            pending, edit = body, None
        elif lang == "yaml":
            edit = body
        elif lang == "python" and built:
            python.append(body)
        elif lang == "console":
            cmds = commands(body)
            path = spec_argument(cmds[0])
            if pending is not None:
                saved[path], pending = pending, None
            text = saved.get(path) or (ROOT / path).read_text()
            (workspace / path).write_text(apply_edit(text, edit) if edit else text)
            edit = None
            for cmd in cmds:
                assert cmd.argv[0] == "archc", cmd.argv
                assert any(q.strip() not in ("", "…") for q in cmd.quoted), cmd.argv
                if cmd.argv[1] == "build" and not build:
                    continue
                built |= cmd.argv[1] == "build"
                result = CliRunner().invoke(main, cmd.argv[1:])
                failed = any(": error: " in q for q in cmd.quoted)
                assert result.exit_code == int(failed), (cmd.argv, result.output)
                assert_quoted(cmd, result.output)
            (workspace / path).write_text(text)  # an edit holds for one console fence only
    return python


def graphs(workspace: Path) -> list[Graph]:
    out = []
    for i, text in enumerate(whole_specs()):
        path = workspace / "specs" / f"tutorial_{i}.yaml"
        path.write_text(text)
        out.append(compile_file(str(path)))
    return out


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("index", range(len(whole_specs())))
def test_every_whole_spec_compiles(index: int, workspace: Path) -> None:
    # Inside specs/, so that `extends: vgg16.yaml` finds its base.
    path = workspace / "specs" / f"tutorial_{index}.yaml"
    path.write_text(whole_specs()[index])
    assert len(compile_file(str(path))) > 1


def test_the_tutorial_ends_at_the_zoo_spec_fashion_resnet() -> None:
    finals = [s for s in whole_specs() if re.search(r"^name: fashion_resnet$", s, re.M)]
    assert finals == [(ROOT / "specs" / "fashion_resnet.yaml").read_text()]


def test_every_quoted_listing_is_what_archc_prints_now(workspace: Path) -> None:
    """`replay` asserts each command's exit code and output against the quoted listing."""
    assert replay(workspace, build=False) == []  # without builds, no Python to run after them


def test_figures_in_the_prose_are_archcs(workspace: Path) -> None:
    """Numbers like 27,050 and shapes like 4×4×512 in the running text are figures of the
    tutorial's specs (a node's params or MACs, a total, an output shape) or quoted listings."""
    known: set[str] = set()
    for g in graphs(workspace):
        figures = [g.total_params, g.trainable_params, g.non_trainable_params, g.macs]
        for n in g:
            figures += [n.params, n.macs, n.trainable_params]
            known.add(fmt(n.shape))
        known |= {f"{x:,}" for x in figures}
    listings = "\n".join(body for lang, body in fences() if lang == "console")
    for figure in GROUPED.findall(prose()) + SHAPE.findall(prose()):
        assert figure in known or figure in listings, f"the tutorial says {figure}; archc does not"


def test_the_vgg16_head_is_the_zoo_transfer_spec(workspace: Path) -> None:
    (mine,) = [s for s in whole_specs() if "extends: vgg16.yaml" in s]
    (workspace / "specs" / "cats_dogs.yaml").write_text(mine)
    ours = compile_file(str(workspace / "specs" / "cats_dogs.yaml"))
    zoo = compile_file(str(ROOT / "specs" / "vgg16_transfer.yaml"))

    def layers(g: Graph) -> list[tuple]:
        return [(n.name, n.op, n.shape, n.params, n.trainable_params, n.inputs) for n in g]

    assert layers(ours) == layers(zoo)


@pytest.mark.slow
def test_build_commands_and_the_keras_snippet(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs `archc build` as quoted (with a random stand-in for the ImageNet weights file) and
    the Python snippet on a few random images in place of Fashion-MNIST."""
    import h5py
    import keras
    import numpy as np
    from keras.src.legacy.saving import legacy_h5_format

    donor = keras.applications.VGG16(include_top=False, weights=None, input_shape=(150, 150, 3))
    with h5py.File(workspace / VGG16_NOTOP, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, donor)

    rng = np.random.default_rng(0)

    def fake_fashion_mnist() -> tuple:
        def split(n: int) -> tuple:
            return rng.integers(0, 256, (n, 28, 28), np.uint8), rng.integers(0, 10, n, np.uint8)

        return split(64), split(16)

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_fashion_mnist)
    snippets = replay(workspace, build=True)
    assert snippets, "no ```python fence after `archc build`"
    for code in snippets:
        capsys.readouterr()
        exec(compile(code, str(TUTORIAL), "exec"), {})
        printed = capsys.readouterr().out
        # A `# …` comment right under a print() line is what it prints.
        for above, line in itertools.pairwise(code.splitlines()):
            if "print(" in above and line.startswith("# "):
                assert line[2:] in printed, f"the snippet says {line[2:]!r}; it printed {printed}"
    # The frozen base kept the weights file's values through the .keras file.
    layer = keras.saving.load_model(workspace / "cats_dogs.keras").get_layer("block5_conv3")
    assert not layer.trainable
    kernel = donor.get_layer(layer.name).get_weights()[0]
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
