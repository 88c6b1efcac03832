"""Every spec in specs/ compiles; the classic networks have their papers' sizes and counts."""

from __future__ import annotations

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT, SPECS

NAMES = [p.stem for p in SPECS]


@pytest.mark.parametrize("path", SPECS, ids=NAMES)
def test_every_spec_compiles_and_adds_up(path) -> None:
    g = compile_file(path)
    assert g.total_params == sum(n.params for n in g)
    assert g.total_params == g.trainable_params + g.non_trainable_params
    assert g.outputs and all(o in g.nodes for o in g.outputs)
    first = path.read_text().splitlines()[:3]
    assert any("yaml-language-server" in line for line in first)
    assert any(line.startswith("# ") and "," in line for line in first[1:]), "cite the paper"


def spatial(path, *names):
    g = compile_file(path)
    return [g.nodes[n].shape for n in names]


def spec(name: str):
    return next(p for p in SPECS if p.stem == name)


def test_lenet5_sizes_from_the_paper() -> None:
    # LeCun et al. 1998, Fig. 2: 32 → C1 28×28×6 → S2 14 → C3 10×10×16 → S4 5 → C5 120 → F6 84
    shapes = spatial(spec("lenet5"), "input", "c1", "s2", "c3", "s4", "c5", "f6", "predictions")
    assert shapes == [
        (32, 32, 1), (28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (1, 1, 120), (84,), (10,)
    ]  # fmt: skip
    g = compile_file(spec("lenet5"))
    assert g.nodes["c1"].params == 156  # paper §II.B: 156 trainable parameters
    assert g.nodes["c5"].params == 48_120  # paper: 48,120 trainable connections
    assert g.nodes["f6"].params == 10_164  # paper: 10,164 trainable parameters


def test_alexnet_sizes_from_the_paper() -> None:
    # Krizhevsky et al. 2012, Fig. 2: 55×55×96 → 27×27×256 → 13×13×384 → 13×13×256 → 4096
    names = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6"]
    assert spatial(spec("alexnet"), *names) == [
        (55, 55, 96), (27, 27, 96), (27, 27, 256), (13, 13, 256), (13, 13, 384), (13, 13, 384),
        (13, 13, 256), (6, 6, 256), (4096,),
    ]  # fmt: skip
    grouped = compile_file(spec("alexnet"))
    single = compile_file(spec("alexnet"), {"groups": "1"})
    assert grouped.total_params == 60_965_224  # the paper's "60 million parameters"
    assert single.total_params == 62_378_344
    assert "LRN" in grouped.doc or "response normalization" in grouped.doc


def test_zfnet_sizes_from_the_paper() -> None:
    # Zeiler & Fergus 2013, Fig. 3: 224 → 110 → 55 → 26 → 13 → 13 → 13 → 6
    names = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]
    got = [s[:2] for s in spatial(spec("zfnet"), *names)]
    assert got == [(110, 110), (55, 55), (26, 26), (13, 13), (13, 13), (13, 13), (13, 13), (6, 6)]
    assert [s[-1] for s in spatial(spec("zfnet"), *names)] == [96, 96, 256, 256, 384, 384, 256, 256]


@pytest.mark.parametrize("classes", [2, 10, 1000])
def test_classes_param_sets_the_output(classes: int) -> None:
    for name in ("lenet5", "alexnet", "zfnet"):
        g = compile_file(spec(name), {"classes": str(classes)})
        assert g.nodes[g.outputs[0]].shape == (classes,)


@pytest.mark.parametrize("path", SPECS, ids=NAMES)
def test_every_spec_reads_the_same_in_any_yaml_reader(path) -> None:
    """Portable YAML: our loader reads `1e-5` as a float where YAML 1.1 readers (PyYAML's
    safe_load, which most tooling and JSON-Schema checks use) read a string, so the zoo writes
    `1.0e-5` and reads identically both ways."""
    import yaml

    from archcompiler.spec.loader import load_file

    assert load_file(path).data == yaml.safe_load(path.read_text(encoding="utf-8"))


# --- the zoo's keras.applications twins (issue: every CNN Keras ships, as a spec) ---------------


@pytest.mark.parametrize("path", SPECS, ids=NAMES)
def test_every_spec_names_its_keras_applications_twin_or_says_it_has_none(path) -> None:
    from archcompiler.reference import spec_twin

    doc = compile_file(path).doc
    assert spec_twin(doc) or "No keras.applications twin" in doc


def test_every_named_twin_has_a_parity_test() -> None:
    """A spec whose doc claims a twin is compared with it: some tests/test_parity_*.py names
    both the spec and the keras.applications constructor."""
    from archcompiler.reference import spec_twin

    parity = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_parity_*.py"))
    for path in SPECS:
        twin = spec_twin(compile_file(path).doc)
        if twin:
            assert f'"{twin}"' in parity and path.stem in parity, (path.name, twin)


def test_the_zoo_has_a_twin_for_every_constructor_keras_applications_ships() -> None:
    """40 of 40: each CNN constructor of keras.applications (its public names that start with a
    capital) is the twin of at least one zoo spec, and no spec names one Keras lacks."""
    import keras

    from archcompiler.reference import spec_twin

    shipped = {n for n in dir(keras.applications) if n[:1].isupper()}
    twins = {spec_twin(compile_file(path).doc) for path in SPECS} - {None}
    assert not twins - shipped, "twins that keras.applications does not ship"
    assert sorted(shipped - twins) == [], "keras.applications constructors without a zoo spec"
    assert len(shipped) == 40
