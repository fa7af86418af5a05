"""The benchmarks measure what the notebooks do, and the GPU check works end to end (on CPU here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.ch08_time_to_miou import chapter_code
from bench.ch09_time_to_accuracy import ROOT, solution_cells, training_code


def test_ch09_bench_runs_the_notebooks_own_training_cell():
    code = training_code(7, None)
    original = solution_cells()["ex3_train"]
    assert "keras.utils.set_random_seed(7)" in code and "set_random_seed(42)" in original
    assert code.replace("set_random_seed(7)", "set_random_seed(42)") == original.split(
        'model.save("mnist_model.keras")')[0]
    assert "\nEPOCHS = 3\n" in "\n" + training_code(7, 3)


def test_ch08_bench_runs_the_notebooks_recipe_and_solution_cells():
    code = chapter_code()
    for name in ("def conv_bn_relu(", "def encoder(", "def train(", "def build_noskip(",
                 "def build_segmenter(", "callbacks=list(callbacks)"):
        assert name in code, name


@pytest.mark.slow
def test_gpu_check_script_runs_on_the_torch_backend(tmp_path):
    """bench/gpu_check.sh in a seconds-long configuration: trains, saves, grades the model."""
    env = dict(os.environ, OUT=str(tmp_path), PYTHON=sys.executable, KERAS_BACKEND="torch",
               GPU_CHECK_ARGS="--profile smoke --seeds 1 --limit 2000", CH08_PROFILE="smoke", CH08_SEEDS="1")
    proc = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(Path(tmp_path, "ch09_time_to_accuracy_gpu.json").read_text())
    assert result["backend"] == "torch" and result["seeds"] == [1] and result["limit"] == 2000
    assert set(result["reached"]) == {"99.0%", "99.3%", "99.5%", "99.6%", "99.7%"}
    graded = json.loads(Path(tmp_path, "ch09_gpu_graded.json").read_text())
    assert graded["ok"] and graded["n"] == 10_000 and graded["conv_layers"] >= 1
    assert "final test accuracy: median" in proc.stdout and "graded by autograder.evaluate_model" in proc.stdout
    seg = json.loads(Path(tmp_path, "ch08_gpu_graded.json").read_text())
    assert seg["ok"] and seg["metric"] == "mean IoU" and seg["n"] == 2_000, seg
    assert "ch08 with skips: final test mean IoU" in proc.stdout
