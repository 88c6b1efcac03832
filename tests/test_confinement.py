"""Specs confined to their folder (docs/contracts.md, What a spec can make archcompiler do):
`extends` reads a file only in the folder tree of the file that names it (symlinks resolved),
in the zoo, or under `--allow-path`; special files are refused before they are opened; nothing
outside is read, so nothing outside is ever quoted in an error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler.compiler import Limits, compile_file
from archcompiler.compiler.chain import resolve_extends
from archcompiler.errors import Location, SpecError
from archcompiler.zoo import ZOO_DIR
from tests.helpers import run_cli, write

SECRET = "root:$6$s3cr3t-hash:19000:0:99999:7:::"
BASE = "archspec: 1\nname: base\ninput: {shape: [8, 8, 3]}\nbackbone: [relu]\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A project folder `proj/` and, beside it, a file with a secret in it."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "secret.yaml").write_text(f"{SECRET}\n")
    return tmp_path


def refused(path: Path, fragment: str, *args: str) -> str:
    code, _, err = run_cli("check", str(path), *args)
    assert code == 1 and "Traceback" not in err, err
    assert err.startswith(f"{path}:"), err
    assert fragment in err.splitlines()[0], err
    return err


@pytest.mark.parametrize("parent", ["../secret.yaml", "{outside}/secret.yaml", "/etc/passwd",
                                    "/proc/self/environ", "sub/../../secret.yaml"])  # fmt: skip
def test_a_base_outside_the_folder_is_refused_unread(outside, parent) -> None:
    parent = parent.format(outside=outside)
    spec = write(outside / "proj", f"archspec: 1\nname: c\nextends: {parent}\n")
    err = refused(spec, "is outside this spec's folder")
    assert SECRET not in err and "root:" not in err
    assert "--allow-path" in err


def test_a_symlink_out_of_the_folder_is_refused(outside) -> None:
    os.symlink(outside / "secret.yaml", outside / "proj" / "base.yaml")
    spec = write(outside / "proj", "archspec: 1\nname: c\nextends: base.yaml\n")
    assert SECRET not in refused(spec, "is outside this spec's folder")


def test_allow_path_widens_the_folder(outside) -> None:
    (outside / "shared").mkdir()
    (outside / "shared" / "base.yaml").write_text(BASE)
    spec = write(outside / "proj", "archspec: 1\nname: c\nextends: ../shared/base.yaml\n")
    refused(spec, "is outside this spec's folder")
    code, _, err = run_cli("check", str(spec), "--allow-path", str(outside / "shared"))
    assert code == 0, err
    graph = compile_file(spec, limits=Limits(allowed_dirs=(str(outside / "shared"),)))
    assert graph.nodes["relu"].shape == (8, 8, 3)


def test_a_subfolder_and_a_symlink_inside_are_fine(tmp_path) -> None:
    (tmp_path / "bases").mkdir()
    (tmp_path / "bases" / "base.yaml").write_text(BASE)
    os.symlink(tmp_path / "bases" / "base.yaml", tmp_path / "link.yaml")
    for parent in ("bases/base.yaml", "link.yaml", "./bases/../bases/base.yaml"):
        spec = write(tmp_path, f"archspec: 1\nname: c\nextends: {parent}\n")
        assert compile_file(spec).nodes["relu"].shape == (8, 8, 3)


@pytest.mark.parametrize("special", ["fifo", "folder"])
def test_special_files_are_refused_before_they_are_opened(tmp_path, special) -> None:
    target = tmp_path / "base.yaml"
    os.mkfifo(target) if special == "fifo" else target.mkdir()  # a FIFO would block on open
    spec = write(tmp_path, "archspec: 1\nname: c\nextends: base.yaml\n")
    err = refused(spec, "'base.yaml' is not a regular file")
    assert err.startswith(f"{spec}:3:10:")  # at the `extends` that names it


def test_a_nul_in_the_path_is_a_located_error(tmp_path) -> None:
    spec = write(tmp_path, 'archspec: 1\nname: c\nextends: "base\\0.yaml"\n')
    err = refused(spec, "no NUL characters")
    assert err.startswith(f"{spec}:3:10:")


def test_a_zoo_name_extends_the_zoo_from_any_folder(tmp_path) -> None:
    spec = write(tmp_path, "archspec: 1\nname: mine\nextends: resnet50\nparams: {classes: 10}\n")
    graph = compile_file(spec)
    assert graph.nodes[graph.outputs[0]].shape == (10,)
    assert graph.files[0] == str(ZOO_DIR / "resnet50.yaml")
    spec = write(tmp_path, "archspec: 1\nname: mine\nextends: resnt50\n")
    refused(spec, "no zoo spec is named 'resnt50' — did you mean 'resnet50'?")


def test_zoo_specs_extend_each_other_inside_the_zoo() -> None:
    """The zoo is its own folder: vgg16_transfer extends vgg16, each EfficientNet the family."""
    chains = {path.stem: compile_file(path).files for path in sorted(ZOO_DIR.glob("*.yaml"))}
    assert chains["vgg16_transfer"] == [str(ZOO_DIR / "vgg16.yaml"),
                                        str(ZOO_DIR / "vgg16_transfer.yaml")]  # fmt: skip
    assert sum(len(files) > 1 for files in chains.values()) >= 20


SEGMENTS = st.sampled_from(["..", ".", "sub", "deep", "base.yaml", "link", "/etc", "/", "x"])


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(SEGMENTS, min_size=1, max_size=6))
def test_whatever_the_path_it_resolves_inside_or_is_refused(tmp_path_factory, parts) -> None:
    """For generated paths (`..`, absolute parts, a symlink to the parent folder), the file a
    base resolves to always lies in the spec's folder tree; everything else is a SpecError."""
    root = tmp_path_factory.mktemp("root")
    home = root / "proj"
    (home / "sub" / "deep").mkdir(parents=True)
    for folder in (home, home / "sub", home / "sub" / "deep", root):
        (folder / "base.yaml").write_text(BASE)
    os.symlink(root, home / "sub" / "link")  # leads out
    parent = os.path.join(*parts)
    try:
        target = resolve_extends(parent, str(home / "c.yaml"), (), Location("c.yaml", 3, 10))
    except SpecError:
        return
    real = os.path.realpath(target)
    assert real.startswith(str(home) + os.sep) or real.startswith(str(ZOO_DIR) + os.sep)
