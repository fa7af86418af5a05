"""Execute submissions so that none is ever lost at execution time.

nbgrader's ``Execute`` preprocessor (nbclient's ``NotebookClient`` underneath)
has two failure modes that cost a student their whole submission or the
grader hours:

* a **dead kernel** (the student calls ``os._exit(0)``, the kernel crashes,
  TensorFlow aborts under the sandbox's memory limit) raises
  ``DeadKernelError``; nbgrader then drops the submission with no grade and
  no feedback;
* a **cell that never ends** and ignores interrupts (``while True: try: pass
  except KeyboardInterrupt: pass``) is interrupted on timeout, keeps running,
  and every following cell waits for its own full timeout in turn.

:class:`RobustExecute` replaces :class:`~autograder.sandbox.SandboxedExecute`
in ``c.Autograde.autograde_preprocessors``.  It runs the kernel in the same
bubblewrap sandbox and changes three things:

1. **Per-cell time limits from a trusted table**, never from the notebook:
   :attr:`RobustExecute.cell_timeouts` maps an assignment id (or
   ``"default"``) to ``{profile: seconds}`` for ordinary cells, and
   :attr:`RobustExecute.test_timeout` applies to autograder test cells
   (nbgrader metadata ``grade=True, solution=False``).  The profile is
   :attr:`RobustExecute.profile` when set, else ``course.env.get_profile()``
   in the grader's process (``CNN_COURSE_PROFILE``, or GPU detection, which
   imports Keras: set the variable on grading machines to skip that, and so
   that the grader and the sandboxed kernel agree on the profile).
2. **A cell that runs past its limit stops the sandbox**: the kernel manager
   is shut down at once (``now=True``: SIGKILL, then the sandbox teardown
   kills whatever is left in its PID namespace); interrupts are not relied
   upon.  The cell gets a ``CellTimeoutError`` output naming the cell, the
   limit and the profile; every code cell after it gets a ``NotRun`` error
   output instead of being executed.
3. **A dead kernel** is handled the same way: the cell it died in gets a
   ``KernelDied`` error output, the remaining code cells ``NotRun``.

The notebook then goes on through the rest of the pipeline like any other:
``ScoreProbes`` and nbgrader score the cells that did not run 0, the cells
that ran before keep their points, and feedback is generated as usual.

``sys.exit()`` in a cell needs nothing special: IPython turns ``SystemExit``
into an error of that cell and the kernel lives on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from traitlets import Dict, Float, Integer, Unicode

from autograder import compat, provenance
from autograder.cells import grade_id, is_test_cell
from autograder.layout import CourseLayout
from autograder.sandbox import SandboxedExecute
from course.graded_data import TITLES

compat.require()  # the private library hooks overridden below exist

__all__ = ["STOPPED_ENAMES", "UNSANDBOXED_WARNING", "RobustExecute"]

UNSANDBOXED_WARNING = (
    "**Warning: this notebook was graded WITHOUT the grading sandbox** (bubblewrap was "
    "unusable on the grading machine and the instructor allowed unsandboxed grading). "
    "Its code ran with the grader's rights; scores may be less trustworthy.")
"""Markdown cell put first in every notebook graded outside the sandbox (it reaches the feedback)."""

TIMEOUT_ENAME = "CellTimeoutError"
"""``ename`` of the error output of the cell that ran past its time limit."""

DIED_ENAME = "KernelDied"
"""``ename`` of the error output of the cell the kernel died in."""

TOO_LARGE_ENAME = "CellTooLarge"
"""``ename`` of the error output of a cell refused by the size limits (:class:`~autograder.provenance.CellBudget`)."""

NOT_RUN_ENAME = "NotRun"
"""``ename`` of the error output of every code cell after the execution stopped."""

STOPPED_ENAMES = frozenset({TIMEOUT_ENAME, DIED_ENAME, NOT_RUN_ENAME})
"""Error names :class:`RobustExecute` writes; ``ScoreProbes`` keeps these outputs as they are."""

DEFAULT_CELL_TIMEOUTS = {"default": {"cpu": 600, "gpu": 300}}


class _ExecutionStopped(Exception):
    """Raised out of nbclient once the sandbox of a runaway cell has been stopped.

    Deliberately not an nbclient ``CellControlSignal``: for those nbclient
    leaves the cell's output-polling task running.
    """

    def __init__(self, evalue: str):
        super().__init__(evalue)
        self.evalue = evalue


def _error(ename: str, evalue: str) -> NotebookNode:
    """An nbformat ``error`` output (traceback in nbgrader's red ``ename:`` style)."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


def describe_cell(cell: NotebookNode, index: int) -> str:
    """``cell 7 (grade id test_x)`` or ``cell 3 (`while True:`)``: how a student finds it."""
    gid = grade_id(cell)
    if gid:
        return f"cell {index + 1} (grade id {gid})"
    first = next((line.strip() for line in cell.get("source", "").splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return f"cell {index + 1} (`{first}`)" if first else f"cell {index + 1}"


class RobustExecute(SandboxedExecute):
    """Sandboxed execution with trusted per-cell limits; no submission is lost.

    See the module docstring.  Configure it as ``c.RobustExecute.*`` (or
    ``c.Execute.*`` for nbclient's own options: ``timeout`` is the fallback
    limit for a profile missing from the table and for the kernel's start-up
    handshake).
    """

    cell_timeouts = Dict(
        default_value=DEFAULT_CELL_TIMEOUTS,
        help="Time limits in seconds of ordinary (non-test) cells: {assignment id or 'default': "
             "{profile: seconds}}.  An assignment's entry wins over 'default' for the profiles it "
             "names; a profile found in neither falls back to Execute.timeout.  0 or a negative "
             "value means no limit.",
    ).tag(config=True)
    test_timeout = Integer(
        300, help="Time limit in seconds of every autograder test cell (grade and not solution), "
                  "whatever the assignment and profile.",
    ).tag(config=True)
    profile = Unicode(
        "", help="Profile (cpu/gpu) that selects the ordinary cells' limits; empty: "
                 "course.env.get_profile() in the grader's process.",
    ).tag(config=True)
    held_out_data = Dict(
        help="Data sets whose test split the grader evaluates on, by assignment id: {assignment: "
             "['mnist', ...]}.  The kernel cannot read them (autograder.heldout); course.data "
             "gives it a stand-in test split of training images.",
    ).tag(config=True)
    trained_models = Dict(
        help="Model files that a given cell must train and save, by assignment id: {assignment: "
             "{file: grade id of the training cell}} (autograder.provenance.ModelGuard).",
    ).tag(config=True)
    max_cell_kb = Float(
        8, help="Most code (kB) one cell the student wrote may hold; a larger one is not run. "
                "0 for no limit.",
    ).tag(config=True)
    max_authored_kb = Float(
        16, help="Most code (kB) the cells the student wrote may hold together; the cell that "
                 "passes it and those after it are not run.  0 for no limit.",
    ).tag(config=True)

    _assignment: str = "default"
    _profile: str = ""
    _stopped: str | None = None
    _findings: provenance.Findings | None = None
    _budget: provenance.CellBudget | None = None  # set per graded run
    _guard: provenance.ModelGuard | None = None
    _withheld: tuple[str, ...] | list[str] = ()
    _graded_dir: str = ""

    # ------------------------------------------------------------------ limits

    def cell_limit(self, cell: NotebookNode) -> tuple[int | None, str]:
        """``(seconds or None, what the limit is)`` for ``cell`` under the current assignment."""
        if is_test_cell(cell):
            return self.test_timeout, "the time limit of autograder test cells"
        seconds = None
        for key in (self._assignment, "default"):
            entry = self.cell_timeouts.get(key) or {}
            if self._profile in entry:
                seconds = entry[self._profile]
                break
        else:
            seconds = self.timeout
        return seconds, f"the time limit of ordinary cells of {self._assignment}"

    def _get_timeout(self, cell: NotebookNode | None) -> int | None:
        """nbclient's per-cell timeout lookup, answered from the trusted table."""
        if cell is None:  # the start-up handshake
            return super()._get_timeout(cell)
        seconds, _ = self.cell_limit(cell)
        return seconds if seconds and seconds > 0 else None

    # ------------------------------------------------------------------ execution

    def preprocess(self, nb: NotebookNode, resources=None, km=None):
        """Execute ``nb``; a dead kernel or a runaway cell stops execution, never the grading."""
        info = (resources or {}).get("nbgrader", {})
        self._assignment = info.get("assignment") or "default"
        self._profile = self.profile or grading_profile()
        # The kernel reads the same profile (CNN_COURSE_* passes into the sandbox), so the
        # notebook's budgets and the grader's limits and thresholds always agree.
        os.environ["CNN_COURSE_PROFILE"] = self._profile
        self._stopped = None
        self._unsandboxed = False
        self._next_index = 0  # the first cell not finished yet
        resources = resources if resources is not None else {}
        self._findings = provenance.Findings.of(resources)
        held = self._prepare_graded_run(nb, resources)
        try:
            nb, resources = super().preprocess(nb, resources, km)
            return nb, resources
        except (DeadKernelError, CellTimeoutError) as exc:  # outside any cell, e.g. at start-up
            self.log.error("the kernel stopped outside a cell of %s: %r", self._assignment, exc)
            self._stop_kernel()
            self._stopped = ("Not run: the kernel died or stopped answering outside a cell (the "
                             "sandbox memory limit, a crash or a timeout at start-up).")
            for cell in nb.cells[self._next_index:]:
                self._mark_not_run(cell)
            return nb, resources
        finally:
            if held:
                provenance.restore_notebooks(*held)
                shutil.rmtree(held[1], ignore_errors=True)
            notices = ([UNSANDBOXED_WARNING] if self._unsandboxed else []) + [
                f"**Graded run.** {n}" for n in self._findings.notices]
            if notices:
                nb.cells.insert(0, new_markdown_cell("\n\n".join(notices)))

    # ------------------------------------------------------------------ what the run starts from

    def _prepare_graded_run(self, nb: NotebookNode, resources) -> tuple | None:
        """Apply :mod:`autograder.provenance` and :mod:`autograder.heldout` to a submission.

        Returns ``(workdir, holding folder, held notebooks)`` to restore after the
        run, or ``None`` when this is not an nbgrader autograde run.
        """
        from autograder import heldout

        info = resources.get("nbgrader", {})
        workdir = resources.get("metadata", {}).get("path")
        self._withheld, self._graded_dir, self._budget, self._guard = [], "", None, None
        if not (workdir and info.get("student") and info.get("assignment")):
            return None
        layout = CourseLayout.from_config(self.config)
        source_dir = layout.source_dir(info["assignment"])
        release = layout.release_notebook(info["assignment"], info.get("notebook"))
        released = set()
        if release.is_file():
            import nbformat

            released = {c.source for c in nbformat.read(release, as_version=4).cells
                        if c.cell_type == "code"}
        self._budget = provenance.CellBudget(released, self.max_cell_kb, self.max_authored_kb)
        self._findings.trained_by = dict(self.trained_models.get(self._assignment, {}))
        self._guard = provenance.ModelGuard(Path(workdir), self._findings.trained_by, self._findings)
        holding = provenance.holding_folder()
        deleted, held = provenance.withhold_submission_files(Path(workdir), source_dir, holding)
        if deleted:
            names = ", ".join(deleted[:5]) + (f" and {len(deleted) - 5} more" if len(deleted) > 5 else "")
            self._findings.flags.append(f"files submitted beside the notebook: {names} (withheld "
                                        f"from the graded run)")
            self._findings.notices.append(
                f"The files you submitted beside the notebook ({names}) were not available to the "
                f"graded run: a model earns credit only when this notebook trains it here.")
        names = list(self.held_out_data.get(self._assignment, []))
        if names:
            self._withheld = heldout.withheld_paths(names)
            self._graded_dir = str(heldout.prepare_graded_data(names))
            titles = " and ".join(TITLES.get(n, n) for n in names)
            self._findings.notices.append(
                f"The grader holds the {titles} test set: in this run `x_test, y_test` were a "
                f"stand-in of training images, so accuracies the notebook printed on them are not "
                f"test accuracies; your model's test accuracy, in the verdict of its test cell, was "
                f"measured by the grader on the real test set.")
        return Path(workdir), holding, held

    def create_kernel_manager(self):
        """nbclient's kernel manager, told what to hide from this run's kernel."""
        km = super().create_kernel_manager()
        if hasattr(km, "withheld_paths"):
            km.withheld_paths = list(self._withheld)
            km.graded_data_dir = self._graded_dir
        return km

    def on_comm_open_jupyter_widget(self, msg):
        """Do not emulate ``ipywidgets.Output`` widgets: their outputs stay ordinary cell outputs.

        nbclient's emulation answers the kernel on the shell channel while it
        waits there for the cell's reply; under load a cell displaying an
        Output widget then sometimes never got its reply and sat until its time
        limit.  Grading needs no live widgets.
        """
        return

    def preprocess_cell(self, cell: NotebookNode, resources, index: int):
        """Run one cell, or mark it ``NotRun`` once the execution has stopped."""
        self._next_index = index
        if self._stopped is not None:
            self._mark_not_run(cell)
            return cell, resources
        if self.km is not None and not getattr(self.km, "sandboxed", True):
            self._unsandboxed = True
        where = describe_cell(cell, index)
        refused = (self._budget.refuse(cell.source, where) if self._budget is not None and
                   cell.get("cell_type") == "code" and not is_test_cell(cell) else None)
        if refused:
            self.log.warning("not running %s: %s", where, refused)
            sentence = refused[0].upper() + refused[1:] + "."
            cell.outputs = [_error(TOO_LARGE_ENAME, sentence)]
            cell.execution_count = None
            self._findings.flags.append(f"oversized cell: {refused}")
            self._findings.notices.append(sentence)
            return cell, resources
        gid = grade_id(cell)
        try:
            if self._guard is not None:
                self._guard.before(gid, where)
            cell, resources = super().preprocess_cell(cell, resources, index)
            if self._guard is not None:
                self._guard.after(gid)
            return cell, resources
        except _ExecutionStopped as stop:
            cell.setdefault("outputs", []).append(_error(TIMEOUT_ENAME, stop.evalue))
            self._stopped = (f"Not run: {describe_cell(cell, index)} ran past its time limit and "
                             f"the sandbox was stopped before this cell.")
        except CellTimeoutError as exc:  # nbclient's own (e.g. IOPub output never completed)
            self._stop_kernel()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "timeout"
            evalue = (f"{describe_cell(cell, index).capitalize()} timed out ({reason}): the sandbox "
                      f"was stopped; the remaining cells were not run.")
            self.log.error(evalue)
            cell.setdefault("outputs", []).append(_error(TIMEOUT_ENAME, evalue))
            self._stopped = (f"Not run: {describe_cell(cell, index)} timed out and the sandbox was "
                             f"stopped before this cell.")
        except DeadKernelError:
            reason = getattr(self.km, "stop_reason", None)
            if reason:
                evalue = (f"The sandbox was stopped while running {describe_cell(cell, index)}: "
                          f"{reason}; the remaining cells were not run.")
            else:
                evalue = (f"The kernel died while running {describe_cell(cell, index)}, e.g. after "
                          f"os._exit, a crash or going over the sandbox memory limit"
                          f"{self._memory_limit()}: the remaining cells were not run.")
            self._stop_kernel()
            self.log.error(evalue)
            cell.setdefault("outputs", []).append(_error(DIED_ENAME, evalue))
            self._stopped = (f"Not run: the kernel died while running {describe_cell(cell, index)}, "
                             f"before this cell.")
        cell.execution_count = None
        return cell, resources

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None):
        """Stop the sandbox at once instead of interrupting a cell that ran past its limit."""
        if cell is None:  # the start-up handshake: nbclient's usual handling
            return await super()._async_handle_timeout(timeout, cell)
        index = next((i for i, c in enumerate(self.nb.cells) if c is cell), None)
        where = describe_cell(cell, index) if index is not None else "a cell"
        _, what = self.cell_limit(cell)
        evalue = (f"{where[0].upper()}{where[1:]} was still running after {timeout} s, {what} "
                  f"(profile {self._profile}): the sandbox was stopped; the remaining cells were "
                  f"not run.")
        self.log.error(evalue)
        await self._async_stop_kernel()
        raise _ExecutionStopped(evalue)

    async def _async_stop_kernel(self) -> None:
        """Kill the kernel and tear its sandbox down (idempotent; never raises)."""
        if self.km is None:
            return
        try:
            await ensure_async(self.km.shutdown_kernel(now=True))
        except Exception as exc:  # noqa: BLE001 - a dead kernel may refuse; cleanup still runs
            self.log.warning("stopping the kernel: %s", exc)
            with contextlib.suppress(Exception):
                await ensure_async(self.km.cleanup_resources())

    _stop_kernel = run_sync(_async_stop_kernel)

    def _memory_limit(self) -> str:
        limit = getattr(self.km, "memory_limit_mib", 0) if getattr(self.km, "sandboxed", False) else 0
        return f" of {limit} MiB" if limit else ""

    def _mark_not_run(self, cell: NotebookNode) -> None:
        """Give a code cell the ``NotRun`` error output instead of executing it."""
        if cell.get("cell_type") != "code":
            return
        cell.outputs = [_error(NOT_RUN_ENAME, self._stopped or "Not run.")]
        cell.execution_count = None


def grading_profile() -> str:
    """The profile grading runs under, decided without importing a deep-learning framework.

    ``CNN_COURSE_PROFILE`` when set; otherwise ``"gpu"`` when an NVIDIA GPU is
    present (``/dev/nvidiactl``; bind it into the sandbox with
    ``c.Sandbox.device_paths``), else ``"cpu"``.
    """
    from course.env import get_profile

    return get_profile(gpu=os.path.exists("/dev/nvidiactl"))
