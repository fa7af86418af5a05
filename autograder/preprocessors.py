"""nbgrader preprocessors of the trusted grading pipeline.

:class:`ScoreProbes` goes into ``Autograde.autograde_preprocessors`` right
after ``Execute``: for every autograder-test cell that has reference probe
records, it replaces the cell's outputs with a verdict computed in the
grader's process (see :mod:`autograder.scoring`), so that nbgrader's own
``SaveAutoGrades``, formgrader, feedback and export see the trusted score.

Two kinds of test cells get an error output (so 0 points) without scoring:
cells that ``RobustExecute`` did not let finish (``CellTimeoutError``,
``KernelDied``, ``NotRun``: their message is kept as it is), and cells the
student deleted, which nbgrader restored from its gradebook
(``OverwriteCells.add_missing_cells``) with a comment line first.
"""

from __future__ import annotations

from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode, from_dict
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Integer, Unicode

from autograder.cells import grade_id, is_test_cell, nbgrader_meta
from autograder.execute import STOPPED_ENAMES
from autograder.layout import CourseLayout
from autograder.references import load_reference
from autograder.scoring import score_cell, verdict_outputs

RESTORED_ENAME = "DeletedTestCell"
"""``ename`` of the error output of a test cell restored by nbgrader (``add_missing_cells``)."""


class ScoreProbes(NbGraderPreprocessor):
    """Score autograder-test cells from their probe records, not their asserts."""

    build_missing = Bool(
        True, help="Build (or rebuild) a missing or stale reference from source/."
    ).tag(config=True)
    reference_timeout = Integer(
        1800, help="Seconds allowed per cell while building a reference."
    ).tag(config=True)
    profile = Unicode(
        "", help="Threshold profile for model grading (cpu/gpu); empty: detect like the notebooks."
    ).tag(config=True)
    sandbox_models = Bool(
        True, help="Evaluate saved models in the bubblewrap sandbox (turn off only where "
                   "bubblewrap cannot run; the evaluation then runs as a plain subprocess).",
    ).tag(config=True)
    strict = Bool(
        False,
        help="Score 0 any autograder-test cell that has no reference probes "
             "(otherwise nbgrader's usual output-based rule applies).",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        """Load the reference of this notebook, then score cell by cell."""
        info = resources["nbgrader"]
        layout = CourseLayout.from_config(self.config)
        source = layout.source_notebook(info["assignment"], info["notebook"])
        ref_file = layout.reference(info["assignment"], info["notebook"])
        self._workdir = Path(resources.get("metadata", {}).get("path") or ".")
        self._findings = resources.get("cnn_course", {}).get("findings")
        self._missing_note = OverwriteCells(config=self.config).missing_cell_notification
        self._reference = load_reference(source, ref_file, build_missing=self.build_missing,
                                         timeout=self.reference_timeout)["cells"]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int):
        """Replace one test cell's outputs by the trusted verdict."""
        meta = nbgrader_meta(cell)
        if not is_test_cell(cell):
            return cell, resources
        if self._restored(cell):
            self.log.info("%s: restored by nbgrader after deletion -> 0", meta.get("grade_id"))
            message = ("this test cell was deleted from your submission; it was restored for "
                       "feedback and counts 0")
            cell.outputs = [from_dict({"output_type": "error", "ename": RESTORED_ENAME,
                                       "evalue": message,
                                       "traceback": [f"{RESTORED_ENAME}: {message}"]})]
            return cell, resources
        if any(o.get("output_type") == "error" and o.get("ename") in STOPPED_ENAMES
               for o in cell.outputs):
            self.log.info("%s: not run to the end -> 0", meta.get("grade_id"))
            return cell, resources
        reference = self._reference.get(meta.get("grade_id"))
        if reference is None:
            if self.strict:
                cell.outputs = [from_dict({
                    "output_type": "error", "ename": "NoTrustedCheck",
                    "evalue": "this test cell has no hidden probes", "traceback": []})]
            return cell, resources
        score = score_cell(cell.outputs, reference, float(meta.get("points", 0)),
                           model_scorer=self._score_model)
        self.log.info("%s: %s/%s hidden cases -> %s/%s", meta.get("grade_id"), score.passed,
                      score.total, score.points, score.max_points)
        cell.outputs = [from_dict(o) for o in verdict_outputs(score, cell.outputs)]
        resources.setdefault("cnn_course", {}).setdefault("cases", {})[meta.get("grade_id")] = score.cases
        return cell, resources

    def _restored(self, cell: NotebookNode) -> bool:
        """Whether nbgrader put this cell back because the submission lacked it."""
        note = self._missing_note.format(cell_id=grade_id(cell) or "").strip().splitlines()
        return bool(note) and cell.source.startswith("# " + note[0])

    def _score_model(self, want: dict) -> tuple[float, str]:
        """Grade the model file named by the trusted reference payload ``want``."""
        from autograder.models import model_credit
        from autograder.provenance import model_problem

        trained_by = getattr(self._findings, "trained_by", {}).get(want["path"])
        problem = model_problem(self._findings, self._workdir, want["path"], trained_by)
        if problem:
            self.log.info("model %s: %s", want["path"], problem)
            return 0.0, problem
        profile = self.profile or _detect_profile()
        # The evaluation sandbox has the kernel's settings (c.Sandbox.*: limits, uid, devices).
        verdict = model_credit(want["path"], want["task"], profile, self._workdir,
                               sandbox=self.sandbox_models, config=self.config)
        self.log.info("model %s: %s", want["path"], verdict.message)
        return verdict.share, verdict.message


def _detect_profile() -> str:
    """The profile the grader runs under (see :func:`autograder.execute.grading_profile`)."""
    from autograder.execute import grading_profile

    return grading_profile()
