#!/usr/bin/env bash
# Chapters 9 and 8 on a GPU: train the gpu-profile references with Keras on PyTorch (or JAX),
# report time to 99.5 / 99.6 / 99.7 % and the final test accuracy per seed (ch09), the final
# test mean IoU with and without skip connections per seed (ch08), and grade the saved models
# through autograder.evaluate_model (what the grader runs).  For a GPU machine with no
# TensorFlow and no internet: make the wheels here first (bench/gpu_wheels.sh), then there
#     bash bench/gpu_check.sh            # with .whl carried; results in $OUT (or bench/results)
# Environment: KERAS_BACKEND (torch), GPU_CHECK_ARGS (extra arguments of the benchmark, e.g.
# "--seeds 42" or, for a CPU-only check of this script, "--profile smoke --seeds 1 --limit 2000").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-bench/results}
mkdir -p "$OUT"
if ! "$PY" -c "import keras" 2>/dev/null; then
  [ -d .whl ] || { echo "gpu_check: Keras is not installed and .whl/ is missing (run bench/gpu_wheels.sh here)" >&2; exit 2; }
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" KERAS_BACKEND=${KERAS_BACKEND:-torch} PYTHONUNBUFFERED=1
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# shellcheck disable=SC2086
"$PY" -m bench.ch09_time_to_accuracy --profile gpu --seeds 42 43 44 --save "$OUT/ch09_gpu_model.keras" \
  --out "$OUT/ch09_time_to_accuracy_gpu.json" ${GPU_CHECK_ARGS:-} > "$OUT/ch09_gpu_check.log"
# shellcheck disable=SC2086
"$PY" -m bench.ch08_time_to_miou --profile "${CH08_PROFILE:-gpu}" --seeds ${CH08_SEEDS:-0 1 2} \
  --save "$OUT/ch08_gpu_model.keras" --out "$OUT/ch08_time_to_miou_gpu.json" >> "$OUT/ch09_gpu_check.log"
"$PY" - "$OUT" <<'PYEOF'
import json, subprocess, sys
from pathlib import Path
out = Path(sys.argv[1])


def grade(chapter, task):
    """What the grader's evaluation prints for OUT/CHAPTER_gpu_model.keras, also saved as JSON."""
    proc = subprocess.run([sys.executable, "-m", "autograder.evaluate_model",
                           str(out / f"{chapter}_gpu_model.keras"), task],
                          capture_output=True, text=True, check=False)
    line = next((l for l in reversed(proc.stdout.splitlines()) if l.startswith("{")), "{}")
    verdict = json.loads(line)
    (out / f"{chapter}_gpu_graded.json").write_text(json.dumps(verdict) + "\n")
    return verdict


result = json.loads((out / "ch09_time_to_accuracy_gpu.json").read_text())
print(f"device {result['device']}, backend {result['backend']}, keras {result['keras']}, "
      f"profile {result['profile']}, seeds {result['seeds']}")
for run in result["runs"]:
    times = ", ".join(f"{k} at {v['train_s']} s" if v else f"{k} not reached"
                      for k, v in run["reached"].items() if k in ("99.5%", "99.6%", "99.7%"))
    print(f"seed {run['seed']}: final {run['final_test_accuracy']:.2%} after {run['epochs']} epochs "
          f"({run['train_s_total']} s); {times}")
acc = result["final_test_accuracy"]
print(f"final test accuracy: median {acc['median']:.2%} (min {acc['min']:.2%}, max {acc['max']:.2%})")
graded = grade("ch09", "ch09_mnist")
print(f"graded by autograder.evaluate_model: {graded}")
seg = json.loads((out / "ch08_time_to_miou_gpu.json").read_text())
for name, figures in seg["models"].items():
    f = figures["final_test_miou"]
    print(f"ch08 {name}: final test mean IoU median {f['median']:.3f} (min {f['min']:.3f}, max {f['max']:.3f}), "
          f"training {figures['train_s']['median']:.0f} s median, profile {seg['profile']}")
seg_graded = grade("ch08", "ch08_segmentation")
print(f"ch08 graded by autograder.evaluate_model: {seg_graded}")
sys.exit(0 if graded.get("ok") and seg_graded.get("ok") else 1)
PYEOF
