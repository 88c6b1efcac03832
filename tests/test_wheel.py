"""The built wheel, installed into a fresh virtual environment, works outside the checkout: the
zoo ships inside it, a bare name resolves to the zoo, `extends: resnet50` works from any
folder, and the Python API answers.

The new environment gets the wheel alone (`--no-deps`); its dependencies come from the running
environment's site-packages through a `.pth` line (installing TensorFlow again would take
minutes). A `.pth` line adds a folder without running the `.pth` files inside it, so the
running environment's editable install of this checkout stays out of sight.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"),
         str(ROOT)], check=True, timeout=600, cwd=work,
    )  # fmt: skip
    wheel = next((work / "dist").glob("archcompiler-*.whl"))
    env = work / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next((env / "lib").glob("python*/site-packages"))
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install",
         "--quiet", "--no-deps", str(wheel)] if _pip_has_python_option() else
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True, timeout=600, cwd=work,
    )  # fmt: skip
    if not (env / "bin" / "archc").exists():  # --target installs no scripts: write the one
        (env / "bin" / "archc").write_text(
            f"#!{env / 'bin' / 'python'}\nfrom archcompiler.cli import run_command_line\n"
            "run_command_line()\n"
        )
        (env / "bin" / "archc").chmod(0o755)
    return env


def _pip_has_python_option() -> bool:
    out = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True,
                         text=True).stdout  # fmt: skip
    major, minor = (int(x) for x in out.split()[1].split(".")[:2])
    return (major, minor) >= (22, 3)


def run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_the_package_and_its_zoo_come_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    code = (
        "import archcompiler, archcompiler.zoo as z; "
        "print(archcompiler.__file__); print(z.ZOO_DIR); print(len(z.zoo_specs()))"
    )
    r = run(venv, tmp_path, str(venv / "bin" / "python"), "-c", code)
    assert r.returncode == 0, r.stderr
    package, zoo, count = r.stdout.split()
    assert Path(package).is_relative_to(venv) and Path(zoo).is_relative_to(venv)
    assert Path(zoo).name == "zoo_specs"
    assert int(count) == len(list((ROOT / "specs").glob("*.yaml")))


def test_zoo_names_work_from_any_folder(venv: Path, tmp_path: Path) -> None:
    r = run(venv, tmp_path, "archc", "summary", "mobilenet", "--set", "alpha=0.5")
    assert r.returncode == 0, r.stderr
    assert "Model: mobilenet" in r.stdout and "Total params:" in r.stdout
    r = run(venv, tmp_path, "archc", "zoo")
    assert r.returncode == 0, r.stderr
    assert "resnet50" in r.stdout and "ResNet50" in r.stdout
    assert f"{len(list((ROOT / 'specs').glob('*.yaml')))} networks" in r.stdout
    (tmp_path / "mine.yaml").write_text(
        "archspec: 1\nname: mine\nextends: resnet50\nparams: {classes: 10}\n"
    )
    r = run(venv, tmp_path, "archc", "check", "mine.yaml")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("mine.yaml: ok — 23,608,202 params")  # ResNet-50, 10 classes


def test_the_python_api_and_a_build_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    code = (
        "import archcompiler\n"
        "net = archcompiler.compile('resnet50', classes=10)\n"
        "print(net.params, net.output_shape)\n"
        "try:\n"
        "    archcompiler.compile('resnet5')\n"
        "except archcompiler.SpecError as e:\n"
        "    print(e)\n"
    )
    r = run(venv, tmp_path, str(venv / "bin" / "python"), "-c", code)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.strip().splitlines()
    assert first == "23608202 (10,)"
    assert second.startswith("resnet5: error: no such file, and no zoo network is named")
    r = run(venv, tmp_path, "archc", "build", "lenet5", "-q", "-o", "l5.keras")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "l5.keras").stat().st_size > 0
