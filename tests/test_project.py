"""Promises about the repository itself: README commands, CI, no machine paths, no eval."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    main_job, tests = readme_commands()[:2]
    assert "pip install" in main_job and "archc " in main_job
    assert "pip install" in tests and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci, "CI must run the README's test command verbatim"


def test_the_main_job_spec_exists() -> None:
    main_job = readme_commands()[0]
    spec = re.search(r"archc \w+ (\S+\.yaml)", main_job).group(1)
    assert (ROOT / spec).is_file()


def test_no_eval_or_exec_in_the_package() -> None:
    for path in (ROOT / "archcompiler").rglob("*.py"):
        code = path.read_text()
        assert not re.search(r"(?<![\w.])(eval|exec)\(", code), path
        assert not re.search(r"yaml\.(unsafe_load|full_load|load)\(", code), path


def test_no_file_names_a_machine_path() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    pattern = re.compile(r"/(work|root|home|Users|tmp/pytest)/\w")
    for name in files:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yaml", ".toml", ".json", ""} and path.is_file():
            assert not pattern.search(path.read_text(errors="ignore")), name


def test_the_wheel_lists_every_package_of_the_source() -> None:
    """pyproject.toml lists the packages (the zoo is a mapped folder, which `find` cannot
    combine with): a new subpackage left off would be missing from the wheel."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "archcompiler").rglob("__init__.py")
    }
    assert listed == found | {"archcompiler.zoo_specs"}
