"""The `archc` group and what its commands share: the options, `--set` parsing, compiling a
spec, and turning every user mistake into a located message and exit 1."""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from functools import wraps
from typing import Any, NoReturn

import click

from ..backends.frameworks import lone_process
from ..compiler import Limits, compile_file
from ..errors import SpecError, first_line
from ..graph import Graph
from ..limits import limits_for
from .help import ArchcGroup


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        out[key.strip()] = value.strip()
    return out


def compile_spec(spec: str, sets: tuple[str, ...], limits: Limits, no_head: bool) -> Graph:
    """What summary, build and graph share: the spec with --set, bounds and --no-head."""
    return compile_file(spec, parse_sets(sets), head=not no_head, limits=limits)


def spec_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--set, --max-params, --max-nodes and --allow-path, shared by every command that compiles
    a spec; the command receives the last three as one `limits: Limits`."""

    @wraps(command)
    def with_limits(*args: Any, max_params: int, max_nodes: int, allow_paths: tuple[str, ...],
                    **kwargs: Any) -> Any:  # fmt: skip
        limits = limits_for(max_params, max_nodes, allow_paths)
        return command(*args, limits=limits, **kwargs)

    f = click.option(
        "--allow-path", "allow_paths", multiple=True, metavar="DIR",
        type=click.Path(file_okay=False),
        help="Let `extends` read specs under DIR too (by default only the spec's own folder "
        "tree and the zoo). Repeatable.",
    )(with_limits)  # fmt: skip
    f = click.option(
        "--max-nodes", type=click.IntRange(1), default=Limits.max_nodes, show_default=True,
        help="Refuse specs that expand to more primitive ops than this (or walk more than 2× as "
        "many nodes and block instances, placed or not).",
    )(f)  # fmt: skip
    f = click.option(
        "--max-params", type=click.IntRange(1), default=Limits.max_params, show_default=True,
        help="Refuse specs with more parameters than this.",
    )(f)  # fmt: skip
    return click.option(
        "--set", "sets", multiple=True, metavar="KEY=VALUE",
        help="Override a param of the spec (typed by its default). Repeatable.",
    )(f)  # fmt: skip


def no_head_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--no-head", is_flag=True, help="Leave out the head (classifier).")(f)


def depth_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--depth N: fold blocks nested deeper than N into one `what` (row, node)."""
    return click.option(
        "--depth", type=click.IntRange(0), default=None,
        help=f"Fold blocks nested deeper than N into one {what} (0: top-level blocks only).",
    )  # fmt: skip


def output_option(help: str, *, required: bool = False, **kwargs: Any) -> Callable[..., Any]:
    """-o/--output FILE (a directory where `kwargs` say so)."""
    kwargs.setdefault("type", click.Path(dir_okay=False))
    return click.option("-o", "--output", required=required, default=None, help=help, **kwargs)


def format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True
    )


def reports_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """SpecError → located messages on stderr, exit 1; any other failure is our bug: exit 2."""

    @wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except SpecError as e:
            click.echo(e.render(), err=True)
            sys.exit(1)
        except click.ClickException:
            raise  # usage errors: click prints them and exits 2
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as e:
            if isinstance(e, OSError) and _streams_refuse(e):  # files fail as SpecErrors
                _say_cannot_write(e)
                sys.exit(1)
            if isinstance(e, MemoryError) or type(e).__name__ == "ResourceExhaustedError":
                _out_of_memory(e)  # a failure of the world, not our bug
            # an internal error: say so plainly, keep the trace for debugging
            if os.environ.get("ARCHC_DEBUG"):
                raise
            click.echo(
                f"archc: internal error: {type(e).__name__}: {e}\n"
                "(this is a bug in archcompiler; rerun with ARCHC_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(2)

    return run


def _out_of_memory(e: Exception) -> None:
    said = first_line(e, 300)
    click.echo(
        f"archc: error: out of memory ({said})\n"
        "  note: need less with a smaller --batch-size, a smaller input size, or --no-cache",
        err=True,
    )
    sys.exit(1)


def _streams_refuse(e: OSError) -> bool:
    """Is `e` standard output or error refusing a write (a full disk, a closed pipe)? A write to
    a stream names no file; the system calls on files do (open, rename), and files archcompiler
    writes fail as located SpecErrors before this."""
    return e.filename is None and e.filename2 is None


def _say_cannot_write(e: OSError) -> None:
    """A failure of the world, said in one line (nothing for a reader that left, `| head`);
    stdout goes to the null device, or its unwritten rest would fail again at exit with a
    traceback."""
    if not isinstance(e, BrokenPipeError):
        with suppress(OSError):  # stderr may be the stream that fails
            sys.stderr.write(f"archc: error: cannot write the output ({e.strerror or e})\n")
            sys.stderr.flush()
    with suppress(Exception):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_command_line() -> NoReturn:
    """`archc` as a program (the console script, `python -m archcompiler.cli`): `main`, then
    the process ends as soon as its output is flushed. Freeing every object one by one at
    interpreter exit took ~100 ms after a check of the zoo, a tenth of the run. When a
    framework is loaded (its threads and exit hooks), or threads run, it exits the usual way."""
    code: Any = 0
    try:
        main()
    except SystemExit as e:
        code = e.code
    except OSError as e:  # click's own output (--help, --version, usage) met a failing stream
        _say_cannot_write(e)
        code = 1
    if not lone_process():
        sys.exit(code)
    if code is not None and not isinstance(code, int):  # sys.exit("message")
        with suppress(OSError):
            print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # what the usual exit runs first (temporary folders, logging)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: the program was started with that stream closed
                stream.flush()
    except OSError as e:
        _say_cannot_write(e)
        code = 1
    os._exit(code or 0)


def echo_report(lines: Iterable[str]) -> None:
    """Report lines on stdout; those starting with "warning:" on stderr."""
    for line in lines:
        click.echo(line, err=line.startswith("warning:"))


@click.group(cls=ArchcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archcompiler")
@click.option(
    "-v", "--verbose", is_flag=True,
    help="Let TensorFlow's (or JAX's, PyTorch's) own log lines through to stderr.",
)  # fmt: skip
def main(verbose: bool) -> None:
    """archcompiler: YAML architecture specs in, shape-checked Keras models out."""
    if verbose:  # read by backends/quiet.py when the framework is imported
        os.environ["ARCHC_VERBOSE"] = "1"
