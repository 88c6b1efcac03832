"""Which cluster `archc train --strategy multi-worker` is part of, and which worker this is —
read from `TF_CONFIG` (as Kubernetes' training operators and Slurm scripts set it) or written
from `--workers host:port,… --task N`. No TensorFlow here: a mistake fails before it loads.

The chief — the task of type "chief", or else worker 0, as tf.distribute decides — is the one
process that writes the run directory; the others train and write nothing there.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Location, SpecError

TF_CONFIG = "TF_CONFIG"
ROLES = ("chief", "worker")  # MultiWorkerMirroredStrategy's; no parameter servers
_ADDRESS = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


@dataclass(frozen=True)
class Cluster:
    """Every task's address by role, and this process's role and index."""

    tasks: dict[str, tuple[str, ...]]  # "chief" (at most one) and "worker" addresses
    role: str
    index: int

    @property
    def workers(self) -> int:
        """Processes that train (the chief included)."""
        return sum(len(v) for v in self.tasks.values())

    @property
    def rank(self) -> int:
        """This process's place among all of them: the chief first, then the workers."""
        return self.index if self.role == "chief" else len(self.tasks.get("chief", ())) + self.index

    @property
    def is_chief(self) -> bool:
        return self.rank == 0

    @property
    def address(self) -> str:
        return self.tasks[self.role][self.index]

    def tf_config(self) -> str:
        cluster = {role: list(addresses) for role, addresses in self.tasks.items()}
        return json.dumps({"cluster": cluster, "task": {"type": self.role, "index": self.index}})

    def describe(self) -> str:
        who = "the chief" if self.is_chief else f"{self.role} {self.index}"
        return f"{self.workers} workers; this is {who} ({self.address})"


def _fail(where: str, message: str, *notes: str) -> SpecError:
    return SpecError.at(Location(where), message, *notes)


def _checked_address(address: Any, where: str) -> str:
    m = _ADDRESS.match(address) if isinstance(address, str) else None
    if m is None or not 0 < int(m.group(2)) < 65536:
        raise _fail(where, f"{address!r} is not host:port (a port from 1 to 65535)")
    return address


def from_flags(workers: str, task: int) -> Cluster:
    """--workers host:port,host:port,… --task N: worker N of these (worker 0 is the chief)."""
    addresses = tuple(_checked_address(a.strip(), "--workers") for a in workers.split(","))
    if len(set(addresses)) != len(addresses):
        raise _fail("--workers", "an address is given twice")
    if not 0 <= task < len(addresses):
        raise _fail("--task", f"--task {task}: there are {len(addresses)} workers, numbered "
                    f"0 to {len(addresses) - 1}")  # fmt: skip
    return Cluster({"worker": addresses}, "worker", task)


def from_tf_config(text: str) -> Cluster:
    """The cluster TF_CONFIG describes (its JSON, checked as tf.distribute would need it)."""
    try:
        config = json.loads(text)
    except ValueError as e:
        raise _fail(TF_CONFIG, f"is not JSON: {e}") from None
    if not isinstance(config, dict):
        raise _fail(TF_CONFIG, 'must be {"cluster": {...}, "task": {"type": …, "index": …}}')
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise _fail(TF_CONFIG, 'has no "cluster": {"worker": ["host:port", …]}')
    other = sorted(set(cluster) - set(ROLES))
    if other:
        raise _fail(TF_CONFIG, f"has tasks of type {', '.join(other)}: multi-worker "
                    "training takes a chief and workers (no parameter servers)")  # fmt: skip
    tasks: dict[str, tuple[str, ...]] = {}
    for role in ROLES:
        if role in cluster:
            if not isinstance(cluster[role], list) or not cluster[role]:
                raise _fail(TF_CONFIG, f'"cluster": "{role}" must be a list of host:port')
            tasks[role] = tuple(_checked_address(a, TF_CONFIG) for a in cluster[role])
    if len(tasks.get("chief", ())) > 1:
        raise _fail(TF_CONFIG, "has more than one chief")
    if not isinstance(task, dict) or task.get("type") not in tasks:
        raise _fail(TF_CONFIG, f'"task" must name this process: {{"type": one of '
                    f"{', '.join(tasks)}, \"index\": N}}")  # fmt: skip
    index = task.get("index", 0)
    count = len(tasks[task["type"]])
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
        raise _fail(TF_CONFIG, f'"task": index {index!r}: there are {count} of type '
                    f"{task['type']}")  # fmt: skip
    return Cluster(tasks, task["type"], index)


def resolve(workers: str | None, task: int | None,
            environ: Mapping[str, str] = os.environ) -> Cluster:  # fmt: skip
    """The cluster from the flags (both needed, and no TF_CONFIG beside them) or TF_CONFIG."""
    if (workers is None) != (task is None):
        raise _fail("--workers" if task is None else "--task",
                    "--workers and --task go together")  # fmt: skip
    if workers is not None and task is not None:
        if environ.get(TF_CONFIG):
            raise _fail("--workers", "TF_CONFIG is set too: give the cluster one way, not both")
        return from_flags(workers, task)
    text = environ.get(TF_CONFIG)
    if not text:
        raise _fail(
            "--strategy", "multi-worker needs the cluster: TF_CONFIG, or --workers and --task",
            "e.g. --workers host1:12345,host2:12345 --task 0 (docs/distributed.md)",
        )  # fmt: skip
    return from_tf_config(text)


def check_batch_size(cluster: Cluster, batch_size: int) -> None:
    """--batch-size is the global batch: every worker takes an equal part of it."""
    if batch_size % cluster.workers:
        raise _fail("--batch-size", f"{batch_size} does not divide among {cluster.workers} "
                    "workers: it is the global batch, each worker takes an equal part",
                    f"use a multiple of {cluster.workers}")  # fmt: skip
