"""Provenance inside the `.keras` (archcompiler/provenance.py) and `archc explain`: the record
against the Graph and against what Keras itself wrote, plain Keras still loading the file,
and the explain command's answers and errors."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from archcompiler import provenance
from archcompiler.compiler import compile_file
from archcompiler.graph import Graph
from tests.conftest import ROOT
from tests.helpers import frameworks_imported, load_in_plain_keras, located_error, run_cli


def fake_keras(path: Path) -> None:
    """An archive laid out as Keras 3 writes one (members, order, no compression)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.0", "date_saved": "x"}))
        z.writestr("config.json", json.dumps({"class_name": "Functional", "config": {}}))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 40)


def saved(tmp_path: Path, graph: Graph, name: str = "m.keras") -> Path:
    path = tmp_path / name
    fake_keras(path)
    provenance.add_to_archive(str(path), provenance.record(graph, "tensorflow"))
    return path


def own_spec(tmp_path: Path) -> Path:
    """A copy of lenet5 and a spec extending it, in a folder the test may change."""
    shutil.copy(ROOT / "specs" / "lenet5.yaml", tmp_path / "base.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("archspec: 1\nextends: base.yaml\nname: child\nparams: {classes: 7}\n")
    return child


@pytest.mark.parametrize(("spec", "sets"), [("lenet5", {}), ("resnet18", {"size": "32"})])
def test_the_record_holds_every_node_with_its_source_and_block(spec, sets) -> None:
    graph = compile_file(spec, sets)
    rec = provenance.record(graph, "tensorflow")
    assert list(rec["layers"]) == list(graph.nodes)
    for n in graph:
        entry = rec["layers"][n.name]
        assert (entry["file"], entry["line"], entry["col"]) == (
            n.source.path, n.source.line, n.source.col,
        )  # fmt: skip
        assert entry["block"] == list(n.block) and entry["op"] == n.op
    assert rec["params"] == json.loads(json.dumps(graph.params))
    assert [f["path"] for f in rec["spec"]["files"]] == graph.files
    assert rec["keras_backend"] == "tensorflow" and rec["archcompiler_version"]
    if spec == "resnet18":  # blocks nest: stage > block
        assert rec["layers"]["conv2_block1_1_conv"]["block"] == ["conv2", "conv2_block1"]


def test_the_spec_digest_is_run_json_s(tmp_path) -> None:
    """The same sha256 as `archc train` records in run.json, and each file's own."""
    import hashlib

    from archcompiler.train.rundir import spec_hash

    graph = compile_file(own_spec(tmp_path))
    rec = provenance.record(graph)
    assert rec["spec"]["sha256"] == spec_hash(graph.files)
    for f in rec["spec"]["files"]:
        assert f["sha256"] == hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest()


def test_adding_the_record_keeps_the_other_members_byte_for_byte(tmp_path) -> None:
    path = tmp_path / "m.keras"
    fake_keras(path)
    with zipfile.ZipFile(path) as z:
        before = {i.filename: (z.read(i), i.compress_type) for i in z.infolist()}
    provenance.add_to_archive(str(path), provenance.record(compile_file("lenet5")))
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        meta = json.loads(z.read("metadata.json"))
        assert meta["keras_version"] == "3.0" and meta["date_saved"] == "x"  # Keras's own kept
        for i in z.infolist()[1:]:
            assert (z.read(i), i.compress_type) == before[i.filename]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


def test_explain_overview_and_json(tmp_path) -> None:
    path = saved(tmp_path, compile_file(own_spec(tmp_path)))
    code, out, err = run_cli("explain", path)
    assert code == 0, err
    assert "spec:     child" in out and "params:   classes=7" in out
    assert out.count("unchanged") == 2 and "layers:   9" in out
    assert "Keras on tensorflow" in out
    code, out, _ = run_cli("explain", path, "--format", "json")
    data = json.loads(out)
    assert [f["state"] for f in data["files"]] == ["unchanged", "unchanged"]
    assert data["params"]["classes"] == 7 and data["layers"] == 9


def test_explain_a_layer(tmp_path) -> None:
    graph = compile_file("resnet18", {"size": "32"})
    path = saved(tmp_path, graph)
    node = graph.nodes["conv3_block2_2_bn"]
    code, out, err = run_cli("explain", path, "conv3_block2_2_bn")
    assert code == 0, err
    assert f"source:   {node.source.path}:{node.source.line}:{node.source.col}" in out
    assert "block:    conv3 > conv3_block2" in out and "op:       bn" in out
    code, out, _ = run_cli("explain", path, "conv3_block2_2_bn", "--format", "json")
    assert json.loads(out)["line"] == node.source.line
    code, out, _ = run_cli("explain", path, "--layers")
    assert len(out.splitlines()) == len(graph)


def test_explain_sees_a_spec_changed_or_removed_since(tmp_path) -> None:
    child = own_spec(tmp_path)
    path = saved(tmp_path, compile_file(child))
    with open(tmp_path / "base.yaml", "a") as f:
        f.write("# edited\n")
    child.unlink()
    _, out, _ = run_cli("explain", path, "--format", "json")
    assert [f["state"] for f in json.loads(out)["files"]] == ["changed since", "missing"]
    _, out, _ = run_cli("explain", path)
    assert "changed since" in out and "missing" in out


def test_an_unknown_layer_is_a_located_error_with_a_suggestion(tmp_path) -> None:
    path = saved(tmp_path, compile_file("lenet5"))
    code, out, err = run_cli("explain", path, "c33")
    located_error(code, out, err, path, "no layer 'c33' in this model's provenance")
    assert "did you mean 'c3'?" in err


def test_a_model_without_a_record(tmp_path) -> None:
    path = tmp_path / "plain.keras"
    fake_keras(path)
    code, out, err = run_cli("explain", path)
    located_error(code, out, err, path, "made without archcompiler (or before provenance")
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    code, out, err = run_cli("explain", junk)
    located_error(code, out, err, junk, "not a .keras file")
    code, out, err = run_cli("explain", tmp_path / "none.keras")
    located_error(code, out, err, tmp_path / "none.keras", "model file not found")


class _FakeModel:
    def save(self, path: str) -> None:
        fake_keras(Path(path))


@pytest.mark.parametrize("where", ["record", "copy"])
def test_a_failure_while_adding_the_record_leaves_no_file(tmp_path, monkeypatch, where) -> None:
    from archcompiler.build import save_atomically

    target = tmp_path / "out.keras"
    if where == "record":
        monkeypatch.setattr(provenance, "add_to_archive", _raise)
    else:  # halfway through copying the members
        monkeypatch.setattr(provenance.shutil, "copyfileobj", _raise)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_atomically(_FakeModel(), str(target), record=provenance.record(compile_file("lenet5")))
    assert list(tmp_path.iterdir()) == []


def _raise(*args: object) -> None:
    raise RuntimeError("disk on fire")


def test_explain_never_imports_tensorflow(tmp_path) -> None:
    path = saved(tmp_path, compile_file("lenet5"))
    heavy, printed = frameworks_imported(["explain", path, "c3"])
    assert heavy == [] and "source:" in printed, printed[-2000:]


# --- with Keras: what `archc build` writes, loaded by plain Keras --------------------------


@pytest.mark.slow
def test_plain_keras_loads_a_model_with_provenance_and_predicts_the_same(tmp_path) -> None:
    import keras
    import numpy as np

    from archcompiler.backends import build_checked, get_backend
    from archcompiler.build import save_atomically

    graph = compile_file("lenet5")
    backend = get_backend("keras")
    model = build_checked(graph, backend)
    path = tmp_path / "l5.keras"
    save_atomically(model, str(path), backend.save_model, provenance.record(graph, "tensorflow"))
    rng = "__import__('numpy').random.default_rng(0)"
    x = f"{rng}.standard_normal((2, 32, 32, 1)).astype('float32')"
    show = f"__import__('json').dumps(keras.ops.convert_to_numpy(m({x})).tolist())"
    theirs = np.array(json.loads(load_in_plain_keras(path, show).strip().splitlines()[-1]))
    images = np.random.default_rng(0).standard_normal((2, 32, 32, 1)).astype("float32")
    ours = keras.ops.convert_to_numpy(model(images))
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-6)
    assert provenance.read_record(str(path))["layers"].keys() == graph.nodes.keys()


@pytest.mark.slow
def test_archc_build_records_every_layer_keras_saved(tmp_path) -> None:
    """Through the CLI, a spec with blocks: the record names exactly the layers Keras wrote
    in config.json, each with its source line."""
    path = tmp_path / "r18.keras"
    code, out, err = run_cli("build", "resnet18", "--set", "size=32", "-q", "-o", path)
    assert code == 0, err
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
        assert len(z.namelist()) == 3  # Keras's loader extracts archives with more (assets)
    keras_layers = [layer["config"]["name"] for layer in config["config"]["layers"]]
    rec = provenance.read_record(str(path))
    assert sorted(rec["layers"]) == sorted(keras_layers)
    graph = compile_file("resnet18", {"size": "32"})
    for name, entry in rec["layers"].items():
        assert entry["line"] == graph.nodes[name].source.line
    code, out, _ = run_cli("explain", path)
    assert code == 0 and f"layers:   {len(keras_layers):,}" in out
    assert os.path.basename(graph.files[0]) in out and "unchanged" in out


@pytest.mark.slow
def test_archc_train_records_provenance_in_both_models(tmp_path) -> None:
    from tests.digits import write_digits

    data = write_digits(tmp_path / "digits", classes=range(3))
    run_dir = tmp_path / "run"
    code, _, err = run_cli("train", "lenet5", "--data", data, "-o", run_dir, "--epochs", 1, "-q")
    assert code == 0, err
    for name in ("model.keras", "last.keras"):
        rec = provenance.read_record(str(run_dir / name))
        assert rec["saved_by"] == "archc train" and "c3" in rec["layers"]
        run = json.loads((run_dir / "run.json").read_text())
        assert rec["spec"]["sha256"] == run["spec"]["sha256"]


@pytest.mark.slow
def test_the_explain_listings_in_docs_inspect_md(tmp_path, monkeypatch) -> None:
    """docs/inspect.md's `archc explain` section: its ```text listings are what archc prints
    (replayed as tests/test_inspect_doc.py replays the ```console ones, which must stay fast)."""
    import re

    from tests.test_inspect_doc import FENCE, replay

    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    section = (ROOT / "docs" / "inspect.md").read_text().split("## `archc explain", 1)[1]
    replayed = 0
    for lang, body in FENCE.findall(section):
        if lang == "text" and re.match(r"\$ archc ", body):
            replayed += len(replay(body))
    assert replayed >= 4
