"""The private parts of nbgrader, nbclient and jupyter_client the grader relies on.

The grader extends these libraries where they have no public hook: the
sandboxed kernel manager overrides jupyter_client's asynchronous start and
clean-up steps, :class:`~autograder.execute.RobustExecute` overrides
nbclient's per-cell timeout lookup and timeout handler, and
:class:`~autograder.gradecells.OverwriteGradeCells` replaces one method of
nbgrader's ``OverwriteCells``.  Every such dependency is listed here, in
:data:`HOOKS`, with the versions it was written for (:data:`WRITTEN_FOR`,
the pins of ``pyproject.toml``).  :func:`problems` checks them against the
installed libraries; :func:`require` (called where the overrides are
defined) refuses to go on when a hook is gone, instead of letting an
override silently never run.  A test runs :func:`problems` on every build.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import warnings

__all__ = ["HOOKS", "WRITTEN_FOR", "problems", "require", "version_notes"]

WRITTEN_FOR = {"nbgrader": "0.9.6", "nbclient": "0.11.0", "jupyter_client": "8.10.0"}
"""Distribution versions the hooks were written and tested for."""

HOOKS = (
    ("jupyter_client.manager", "KernelManager", "_async_pre_start_kernel",
     "sandbox/kernel.py: private IPC folder and transport before the kernel command is made"),
    ("jupyter_client.manager", "KernelManager", "_async_launch_kernel",
     "sandbox/kernel.py: the kernel command wrapped in prlimit + bubblewrap"),
    ("jupyter_client.manager", "KernelManager", "_async_cleanup_resources",
     "sandbox/kernel.py: sandbox teardown (processes killed, lent folder given back)"),
    ("jupyter_client.manager", "KernelManager", "provisioner",
     "sandbox/kernel.py: the bubblewrap process (provisioner.process) to kill"),
    ("nbclient.client", "NotebookClient", "_get_timeout",
     "execute.py: the trusted per-cell time limits"),
    ("nbclient.client", "NotebookClient", "_async_handle_timeout",
     "execute.py: a cell past its limit stops the sandbox instead of interrupting"),
    ("nbgrader.preprocessors", "OverwriteCells", "add_missing_grade_cells",
     "gradecells.py: deleted grade cells restored where they were"),
    ("nbgrader.preprocessors", "OverwriteCells", "missing_cell_transform",
     "gradecells.py: a restored cell built by nbgrader itself"),
)
"""``(module, class, attribute, what the grader uses it for)``."""


def _has(module: str, cls: str, attribute: str) -> bool:
    klass = getattr(importlib.import_module(module), cls, None)
    if klass is None:
        return False
    return hasattr(klass, attribute) or attribute in getattr(klass, "class_traits", dict)()


def problems() -> list[str]:
    """Missing hooks (errors) and version differences (notes), one sentence each."""
    out = []
    for module, cls, attribute, use in HOOKS:
        if not _has(module, cls, attribute):
            out.append(f"{module}.{cls}.{attribute} is gone (needed by {use})")
    return out


def version_notes() -> list[str]:
    """Installed versions that differ from :data:`WRITTEN_FOR`."""
    notes = []
    for dist, version in WRITTEN_FOR.items():
        try:
            installed = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            notes.append(f"{dist} {installed} is installed; the grader was written for {version}")
    return notes


def require() -> None:
    """Raise ``RuntimeError`` when a hook is missing; warn when a version differs."""
    missing = problems()
    if missing:
        raise RuntimeError("this version of the grader cannot run with the installed libraries: "
                           + "; ".join(missing + version_notes()))
    for note in version_notes():
        warnings.warn(note + " (private hooks checked: see autograder.compat)", stacklevel=2)
