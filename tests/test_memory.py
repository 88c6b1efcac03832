"""Memory as a bound the user can see (train/memory.py): a run that cannot fit is refused before
TensorFlow is imported, with a located error naming the figure and what the machine has;
out-of-memory failures that still happen are a clear error, not an internal one."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archcompiler.compiler import compile_file
from archcompiler.train import memory
from tests.helpers import run_cli, write
from tests.test_model_files import archc_without_tensorflow

HUGE = "archspec: 1\nname: huge\ninput: {shape: [46340, 46340, 1]}\nbackbone:\n" \
       "  - conv: {filters: 1, kernel: 3}\n  - global_avg_pool\n" \
       "  - dense: {units: 2, activation: softmax}\n"  # fmt: skip


@pytest.fixture
def two_classes(tmp_path):
    from tests.digits import write_digits

    return write_digits(tmp_path / "data", size=8, classes=[0, 1])


def test_a_run_that_cannot_fit_is_refused_before_tensorflow(tmp_path, two_classes) -> None:
    spec = write(tmp_path, HUGE)
    code, err = archc_without_tensorflow("train", str(spec), "--data", str(two_classes),
                                         "-o", str(tmp_path / "run"))  # fmt: skip
    first = err.splitlines()[0]
    assert code == 1 and first.startswith(f"{spec}:3:"), err  # at the input
    assert "training needs about" in first and "this machine has" in first, err
    assert "for the activations of a batch of 32" in first
    assert "--batch-size" in err and "--max-memory" in err
    assert not (tmp_path / "run").exists()


def test_max_memory_sets_the_budget(tmp_path, two_classes) -> None:
    spec = write(tmp_path, HUGE.replace("46340, 46340", "64, 64"))
    args = ["train", str(spec), "--data", str(two_classes), "--max-memory", "1K"]
    code, err = archc_without_tensorflow(*args, "-o", str(tmp_path / "r"))
    assert code == 1 and "--max-memory allows 1.0 KB" in err, err
    code, _, err = run_cli("train", str(spec), "--data", str(two_classes), "--max-memory", "lots")
    assert code == 2 and "expected a size such as 8G or 512M" in err


def test_the_estimate_counts_weights_activations_and_the_cache(tmp_path) -> None:
    """Against figures worked out by hand for a two-layer net (not the code's own sums)."""
    spec = write(tmp_path, "archspec: 1\nname: t\ninput: {shape: [10, 10, 3]}\nbackbone:\n"
                 "  - conv: {filters: 4, kernel: 3, name: c}\n  - flatten\n"
                 "  - dense: {units: 2, name: d}\n")  # fmt: skip
    g = compile_file(spec)
    params = (3 * 3 * 3 * 4 + 4) + (8 * 8 * 4 * 2 + 2)  # 112 + 514
    values = 10 * 10 * 3 + 8 * 8 * 4 + 8 * 8 * 4 + 2  # input, conv, flatten, dense
    needs = memory.training_needs(g, batch_size=16, optimizer="adam", images=100, cache=True)
    assert needs.weights == params * 4 * 4  # weights, gradients, Adam's two slots
    assert needs.activations == values * 16 * 4
    assert needs.cache == 100 * 300 * 4
    sgd = memory.training_needs(g, 16, "sgd", 100, cache=False)
    # not cached in memory: the shuffle buffer still holds them (all 100; at most 10,000)
    assert sgd.weights == params * 4 * 3 and sgd.cache == 100 * 300 * 4
    assert memory.training_needs(g, 16, "sgd", 50_000, cache=False).cache == 10_000 * 300 * 4
    features = memory.training_needs(g, 16, "adam", 100, cache=True, features_of="c")
    assert features.cache == 100 * 256 * 4


@given(n=st.integers(0, 10**6), unit=st.sampled_from(["", "K", "M", "G", "T"]),
       suffix=st.sampled_from(["", "B", "iB"]))  # fmt: skip
def test_sizes_parse_in_binary_multiples(n, unit, suffix) -> None:
    text = f"{n}{unit}{suffix if unit or suffix == 'B' else ''}"
    assert memory.parse_size(text) == n * 1024 ** " KMGT".index(unit or " ")


@pytest.mark.parametrize("text", ["", "lots", "1X", "-1G", "1,5G", "١G"])
def test_bad_sizes_are_refused(text) -> None:
    with pytest.raises(ValueError, match="expected a size"):
        memory.parse_size(text)


def test_out_of_memory_is_a_clear_error_not_an_internal_one(tmp_path, monkeypatch) -> None:
    from archcompiler.cli import design

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(design, "compile_spec", exhausted)
    code, _, err = run_cli("summary", str(write(tmp_path, HUGE)))
    assert code == 1 and err.startswith("archc: error: out of memory (MemoryError)"), err
    assert "internal error" not in err and "--batch-size" in err


def test_the_machines_memory_is_known_here() -> None:
    available = memory.available_bytes()
    assert available is None or available > 0
    if available:
        assert math.log2(available) > 20  # more than a megabyte: a real figure
