"""The `archc` command: a thin layer over the library (docs/contracts.md).

`check`, `summary`, `graph`, `schema`, `blocks` and `docs` never import TensorFlow; a test runs
them in a subprocess to prove it. User mistakes print `path:line:col: error: …` on stderr and
exit 1, without a traceback.
"""

# each command's module is imported when the command is looked up (help.COMMAND_MODULES)
from .app import main, run_command_line

__all__ = ["main", "run_command_line"]
