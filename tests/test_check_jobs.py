"""`archc check` over many specs in forked workers (cli/workers.py): the same answers, in the
same order, with the same exit status as one process; a worker that dies or fails costs only
time; none is left behind. Every run forks in a fresh interpreter (a subprocess): the test
process itself may hold TensorFlow's threads, where the command does not fork."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcompiler.backends import frameworks
from archcompiler.cli import workers
from tests.conftest import ROOT

HOSTILE = sorted((ROOT / "tests" / "hostile").glob("*.yaml"))
SMALL_ZOO = ["lenet5", "alexnet", "vgg11", "squeezenet", "resnet18", "mobilenet"]
POOL = (
    [str(ROOT / "specs" / f"{n}.yaml") for n in SMALL_ZOO]
    + [str(p) for p in HOSTILE[::6]]  # failing ones, each its own located error
    + [str(ROOT / "specs" / "no_such_spec.yaml")]
)


def archc(*args: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "archcompiler.cli", *args],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.lists(st.sampled_from(POOL), min_size=2, max_size=10),
    jobs=st.sampled_from(["0", "2", "3", "7"]),
    quiet=st.booleans(),
)
def test_workers_answer_as_one_process_does(files: list[str], jobs: str, quiet: bool) -> None:
    flags = ["-q"] if quiet else []
    assert archc("check", "-j", jobs, *flags, *files) == archc("check", "-j", "1", *flags, *files)


def test_the_zoo_checks_the_same_in_workers() -> None:
    specs = sorted(str(p) for p in (ROOT / "specs").glob("*.yaml"))
    one = archc("check", "-j", "1", *specs)
    assert one[0] == 0 and one[1].count(": ok — ") == len(specs)
    assert archc("check", "-j", "2", *specs) == one


def run_workers(body: str) -> tuple[int, str, str]:
    """A script using `workers.in_order` in a fresh interpreter, in its own process group: one
    that has not ended within 120 s is killed with all it forked, and the test fails."""
    script = "import os, sys, time\nfrom archcompiler.cli.workers import in_order\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", script + textwrap.dedent(body)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the script did not end: a worker was left running")
    return proc.returncode, out, err


def test_what_a_dead_worker_took_is_done_again_here() -> None:
    out = run_workers("""
        parent = os.getpid()
        def fn(i):
            if os.getpid() != parent and i % 3 == 0:
                os.kill(os.getpid(), 9)  # killed, as by the out-of-memory killer
            if os.getpid() != parent and i % 3 == 1:
                raise RuntimeError("a bug that strikes in a worker only")
            return i * i
        print(list(in_order(fn, list(range(40)), 4)))
    """)
    code, printed, err = out
    assert (code, err) == (0, "")
    assert printed.strip() == str([i * i for i in range(40)])


def test_ctrl_c_leaves_no_worker_behind(tmp_path: Path) -> None:
    out = run_workers(f"""
        parent = os.getpid()
        def fn(i):
            if os.getpid() != parent:
                open(os.path.join({str(tmp_path)!r}, str(os.getpid())), "w").close()
                time.sleep(3600)  # until killed
            while len(os.listdir({str(tmp_path)!r})) < 2:
                time.sleep(0.01)  # both workers are busy
            raise KeyboardInterrupt  # as Ctrl-C raises it
        try:
            list(in_order(fn, list(range(8)), 3))
        except KeyboardInterrupt:
            print("interrupted")
    """)
    assert out == (0, "interrupted\n", "")
    pids = [int(p.name) for p in tmp_path.iterdir()]
    assert len(pids) == 2
    for pid in pids:  # killed and reaped: no such process any more
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_failure_comes_after_the_answers_before_it() -> None:
    # this process fails on what it takes (but item 0), the slower workers never do: the answers
    # before the failing item come first, then its failure, as in one process
    out = run_workers("""
        parent = os.getpid()
        def fn(i):
            if os.getpid() != parent:
                time.sleep(0.05)
            elif i > 0:
                raise ValueError(i)
            return i
        got = []
        try:
            for r in in_order(fn, list(range(12)), 3):
                got.append(r)
        except ValueError as e:
            print(got, e)
    """)
    code, printed, err = out
    assert (code, err) == (0, "")
    got, failed = printed.rsplit("]", 1)
    assert got + "]" == str(list(range(int(failed))))
    assert 1 <= int(failed) < 12


def test_more_items_than_the_pipe_holds_are_all_answered() -> None:
    # 100,000 indices are 400 kB, over a pipe's 64 KiB: the rest is computed in the parent
    out = run_workers("""
        r = list(in_order(lambda i: i + 1, list(range(100_000)), 2))
        print(r == list(range(1, 100_001)))
    """)
    assert out == (0, "True\n", "")


def test_when_it_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "can_fork", lambda: True)
    monkeypatch.setattr(workers, "cores", lambda: 4)
    assert workers.workers_for(0, 10) == 4  # one per core
    assert workers.workers_for(0, 3) == 3  # no more than there are specs
    assert workers.workers_for(6, 10) == 6
    assert workers.workers_for(1, 10) == 1  # -j 1: in this process
    assert workers.workers_for(0, 1) == 1  # one spec: nothing to share
    monkeypatch.setattr(workers, "can_fork", lambda: False)
    assert workers.workers_for(4, 10) == 1


def test_a_loaded_framework_or_a_thread_keeps_it_in_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(frameworks, "framework_loaded", lambda: True)
    assert not workers.can_fork()


def test_jobs_must_be_a_count() -> None:
    code, _, err = archc("check", "-j", "-1", "specs/lenet5.yaml")
    assert code == 2 and "-j" in err
