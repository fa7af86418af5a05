"""Trusted grading of saved models: file checks, sandboxed evaluation, credit.

A chapter that trains a model grades the *file* the notebook saved, never
numbers the student printed.  :func:`check_model_file` refuses missing files,
symlinks, files outside the submission, oversized files and non-``.keras``
archives; :func:`evaluate_model_file` evaluates the file in a separate process
(:mod:`autograder.evaluate_model`) inside a bubblewrap sandbox,
and :func:`model_credit` turns the result into a share of the points through
the threshold table :mod:`course.thresholds`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.evaluate_model import TASKS, grader_seed
from course.graded_data import TITLES
from course.thresholds import credit, tiers

MAX_MODEL_BYTES = 200 * 1024 * 1024
MAX_PARAMS = 5_000_000
"""Largest model accepted as built from scratch (pretrained backbones are far larger)."""

SIZE_RULES = {
    # task: (largest number of parameters, what the exercise asks for)
    "ch10_transfer": (10_000_000, "a fine-tuned pretrained backbone with its new head"),
}
"""Per-task size limits; a task not listed gets :data:`MAX_PARAMS` for "a CNN built from scratch"."""


@dataclass
class ModelVerdict:
    """Share of the points (0..1) earned by a model, and why."""

    share: float
    message: str
    score: float | None = None
    """The graded figure (test accuracy, or mean IoU for segmentation), when measured."""


def check_model_file(path: Path, root: Path, max_bytes: int = MAX_MODEL_BYTES) -> str | None:
    """Why ``path`` (relative to the submission ``root``) cannot be graded, or None."""
    root = Path(root).resolve()
    path = Path(root, path)
    if path.is_symlink():
        return f"{path.name} is a symbolic link; save the model itself with model.save()"
    if not path.exists():
        return f"no model file named {path.name} was saved in the assignment folder"
    if root not in path.resolve().parents:
        return f"{path.name} lies outside the submission folder"
    if not path.is_file():
        return f"{path.name} is not a regular file"
    size = path.stat().st_size
    if size > max_bytes:
        return f"{path.name} is {size / 1e6:.0f} MB, above the {max_bytes / 1e6:.0f} MB limit"
    if not zipfile.is_zipfile(path):
        return f"{path.name} is not a Keras .keras archive (save with model.save('{path.name}'))"
    return None


def evaluate_model_file(path: Path, task: str, sandbox: bool = True, timeout: int = 900,
                        config=None) -> dict:
    """Run :mod:`autograder.evaluate_model` on ``path`` in a separate, sandboxed process.

    The file is first copied into a private folder that is bound read-only
    into a bubblewrap sandbox (no network, unprivileged, private ``/tmp``),
    so the evaluation never sees the submission folder, the course or the
    network.  The sandbox is built from the ``c.Sandbox.*`` settings of the
    traitlets ``config`` (limits, uid, devices), like the grading kernels;
    ``timeout`` seconds bound its wall-clock and CPU time.  ``sandbox=False``
    runs the evaluation as a plain subprocess (for machines without
    bubblewrap; the caller must warn).
    """
    import shutil
    import tempfile

    from autograder.sandbox import sandbox_command

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES=os.environ.get(
        "CUDA_VISIBLE_DEVICES", ""))
    with tempfile.TemporaryDirectory(prefix="cnn-course-model-") as private:
        os.chmod(private, 0o755)
        inside = Path(private, "model.keras")
        shutil.copyfile(path, inside)
        os.chmod(inside, 0o444)
        cmd = [sys.executable, "-m", "autograder.evaluate_model"]
        # The canvas seed travels as an argument: the sandbox's environment is an allow-list.
        seed = [str(grader_seed())] if TASKS[task][1] == "segmentation" else []
        if sandbox:
            try:
                cmd = sandbox_command([*cmd, "/input/model.keras", task, *seed],
                                      readonly={private: "/input"}, config=config, env=env,
                                      cpu_time_s=timeout)
            except RuntimeError as exc:
                return {"ok": False, "error": f"the model could not be evaluated safely: {exc}"}
        else:
            cmd = [*cmd, str(inside), task, *seed]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                                  check=False)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"evaluating the model took longer than {timeout} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    return {"ok": False, "error": f"the model evaluation crashed (exit {proc.returncode}): "
                                  f"{proc.stderr.strip().splitlines()[-1:] or ''}"}


def model_credit(path: str, task: str, profile: str, root: Path, sandbox: bool = True,
                 min_conv_layers: int = 1, max_params: int | None = None,
                 config=None) -> ModelVerdict:
    """Check, evaluate and grade the model file ``path`` of one submission.

    ``max_params``: the largest model accepted (default: the task's
    :data:`SIZE_RULES` entry, else :data:`MAX_PARAMS`).  ``config``: the grader's
    traitlets configuration (its ``c.Sandbox.*`` settings build the evaluation sandbox).
    """
    limit, what = SIZE_RULES.get(task, (MAX_PARAMS, "a CNN built from scratch"))
    max_params = limit if max_params is None else max_params
    problem = check_model_file(Path(path), root)
    if problem:
        return ModelVerdict(0.0, problem)
    result = evaluate_model_file(Path(root, path), task, sandbox=sandbox, config=config)
    if not result.get("ok"):
        return ModelVerdict(0.0, result.get("error", "the model could not be evaluated"))
    if result["conv_layers"] < min_conv_layers:
        return ModelVerdict(0.0, "the model has no convolutional layer; this exercise asks for a CNN",
                            result["score"])
    if result["params"] > max_params:
        return ModelVerdict(0.0, f"the model has {result['params']:,} parameters, more than the "
                                 f"{max_params:,} allowed for {what} in this exercise",
                            result["score"])
    share = credit(task, profile, result["score"])
    return ModelVerdict(share, verdict_message(task, profile, result), result["score"])


def verdict_message(task: str, profile: str, result: dict) -> str:
    """What the student reads about a measured model: the figure, on what, and the thresholds."""
    table = tiers(task, profile)
    title = TITLES[TASKS[task][0]]
    if result["metric"] == "mean IoU":
        return (f"mean IoU {result['score']:.3f} (pixel accuracy {result['accuracy']:.2%}) on "
                f"{result['n']:,} canvases of official {title} test digits, built and measured by "
                f"the grader ({profile} profile: {table['zero']:.2f} earns 0, {table['full']:.2f} "
                f"earns full points)")
    return (f"test accuracy {result['score']:.2%} on {result['n']:,} images, measured by the grader "
            f"on the official {title} test set ({profile} profile: {table['zero']:.1%} earns 0, "
            f"{table['full']:.1%} earns full points)")
