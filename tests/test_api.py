"""The Python API (archcompiler.compile, Network), driven as a script or a notebook would."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archcompiler
from archcompiler.compiler import compile_file
from archcompiler.summary import rows
from archcompiler.zoo import zoo_names, zoo_path
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent
# zoo networks whose `classes` param is the width of their only output (all but the binary ones)
WITH_CLASSES = [
    n for n in ["lenet5", "alexnet", "vgg16", "resnet18", "mobilenet", "squeezenet", "densenet121"]
    if n in zoo_names()
]  # fmt: skip


def test_a_zoo_name_and_its_file_compile_to_the_same_graph() -> None:
    by_name = archcompiler.compile("resnet50")
    by_path = archcompiler.compile(ROOT / "specs" / "resnet50.yaml")
    graph = compile_file(ROOT / "specs" / "resnet50.yaml")
    assert by_name.spec == str(zoo_path("resnet50"))
    for net in (by_name, by_path):
        assert net.params == graph.total_params == 25_636_712  # keras.applications.ResNet50
        assert net.macs == graph.macs
        assert [n.name for n in net.nodes] == [n.name for n in graph]
        assert net.shapes() == {n.name: tuple(n.shape) for n in graph}


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(WITH_CLASSES), classes=st.integers(1, 5000), head=st.booleans())
def test_keyword_overrides_are_typed_as_set_is(name: str, classes: int, head: bool) -> None:
    net = archcompiler.compile(name, classes=classes, head=head)
    cli = compile_file(zoo_path(name), {"classes": str(classes)}, head=head)  # type: ignore[arg-type]
    assert net.params == cli.total_params and net.macs == cli.macs
    assert net.spec_params["classes"] == classes
    if head:
        assert net.output_shape == (classes,)


@settings(max_examples=20, deadline=None)
@given(alpha=st.sampled_from([0.25, 0.5, 0.75, 1.0]), size=st.integers(4, 8).map(lambda k: 32 * k))
def test_float_and_int_overrides_give_keras_published_mobilenet_shapes(
    alpha: float, size: int
) -> None:
    net = archcompiler.compile("mobilenet", alpha=alpha, size=size, head=False)
    # keras.applications.MobileNet's last block: 1024·α channels at size/32
    assert net.output_shape == (size // 32, size // 32, int(1024 * alpha))


def test_errors_raise_spec_error_with_the_located_diagnostics_the_cli_prints() -> None:
    with pytest.raises(archcompiler.SpecError) as caught:
        archcompiler.compile("resnet50", clases=10)
    code, _, err = run_cli("summary", "resnet50", "--set", "clases=10")
    assert code == 1
    assert err.strip() == caught.value.render().strip()
    (d,) = caught.value.diagnostics
    assert d.location.path == str(zoo_path("resnet50")) and d.location.line > 0
    assert "did you mean 'classes'?" in str(caught.value)
    with pytest.raises(archcompiler.SpecError, match="no zoo network is named 'resnt50'"):
        archcompiler.compile("resnt50")


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.mark.parametrize("name", ["resnet50", "inception_v3", "squeezenet", "lenet5"])
def test_in_a_notebook_a_network_shows_its_summary_table(name: str) -> None:
    net = archcompiler.compile(name)
    parser = _Table()
    parser.feed(net._repr_html_())
    header, *body = parser.rows
    expected = rows(net.graph, 1)
    layer_rows = body[: len(expected)]
    assert header[:4] == ["Layer", "Op", "Output shape", "Params"]
    assert [r[0].removeprefix("▸ ") for r in layer_rows] == [r.name for r in expected]
    assert [r[2] for r in layer_rows] == [r.shape for r in expected]
    totals = dict(r for r in body[len(expected) :] if len(r) == 2)
    assert totals["Total params"].startswith(f"{net.params:,}")


def test_the_html_escapes_what_a_spec_writes(tmp_path: Path) -> None:
    spec = tmp_path / "x.yaml"
    spec.write_text(
        "archspec: 1\nname: x\ndoc: '<script>alert(1)</script>'\ninput: {shape: [8, 8, 3]}\n"
        "backbone:\n  - conv: {filters: 4, kernel: 3}\n"
    )
    page = archcompiler.compile(spec)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_the_graph_shows_as_svg_with_graphviz_and_not_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    net = archcompiler.compile("resnet50")
    if shutil.which("dot"):
        svg = net._repr_svg_()
        assert svg is not None and "<svg" in svg and "bottleneck ×3" in svg  # conv2, folded
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert net._repr_svg_() is None  # Jupyter then shows the HTML alone
    assert "digraph" in net.to_dot(depth=0)


def test_the_api_answers_without_tensorflow() -> None:
    code = (
        "import sys, archcompiler\n"
        "net = archcompiler.compile('densenet121', classes=5)\n"
        "net._repr_html_(); net.summary(); net.to_dot(); archcompiler.list_zoo()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_to_keras_builds_the_model_the_graph_describes() -> None:
    net = archcompiler.compile("mobilenetv2", alpha=0.35, size=96, classes=7)
    model = net.to_keras()
    assert model.count_params() == net.params
    assert tuple(model.output_shape[1:]) == net.output_shape == (7,)
    assert [layer.name for layer in model.layers] == [n.name for n in net.nodes]


@pytest.mark.slow
def test_the_example_notebook_runs(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(ROOT / "docs" / "examples" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    outputs = [c.outputs for c in notebook.cells if c.cell_type == "code"]
    shown = outputs[0][0]["data"]
    assert "text/html" in shown and "archcompiler-summary" in shown["text/html"]
    assert outputs[1][0]["data"]["text/plain"] == "(23608202, 3855945728, (224, 224, 3), (10,))"
    assert "did you mean 'classes'?" in outputs[3][0]["text"]
    assert outputs[4][-1]["data"]["text/plain"] == "True"


@pytest.mark.slow
def test_train_evaluate_and_predict_from_python(digits_dir: Path, tmp_path: Path) -> None:
    """The same run directory and report as `archc train`/`evaluate`/`predict`."""
    import json

    net = archcompiler.compile("lenet5")
    record = net.train(str(digits_dir), str(tmp_path / "run"), epochs=3, batch_size=64)
    assert record == json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["result"]["epochs_done"] == 3, record["result"]
    model = str(tmp_path / "run" / "model.keras")
    report = archcompiler.evaluate(model, str(digits_dir))
    assert report["accuracy"] > 0.8  # LeNet-5 on the digits, 3 epochs
    images = sorted(str(p) for p in (digits_dir / "7").glob("*.png"))[:3]
    predicted = archcompiler.predict(model, images, top=2)
    assert [p["image"] for p in predicted] == images and len(predicted[0]["top"]) == 2
    with pytest.raises(archcompiler.SpecError, match="error: "):
        archcompiler.predict(model, [str(tmp_path / "missing.png")])


def test_the_examples_of_docs_python_md_give_what_it_shows() -> None:
    import doctest

    failed, tried = doctest.testfile(
        str(ROOT / "docs" / "python.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert tried >= 15 and failed == 0
