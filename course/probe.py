"""Hidden-test probes: record what student code returns, as plain JSON.

Hidden tests in the course notebooks never ``assert`` inside the student's
kernel, where student code could patch ``assert`` helpers, numpy or
``__eq__``.  Instead they *probe*: they call a student function on hidden
inputs and publish what came back as a JSON display output with the MIME
type :data:`PROBE_MIME`.  The grader (``autograder.scoring``) later reads
those records from the executed notebook and compares them, in its own
process, with the records produced by the instructor's solution.

Only JSON-native values survive: ``bool``, ``int``, ``float``, ``str``,
``None`` and (nested) lists and string-keyed dicts of them.  numpy scalars and arrays are converted
to Python numbers and lists; anything else (for instance an object whose
``__eq__`` always returns ``True``) is recorded as *unserializable* and can
never match a reference value.

Students may import this module; it contains no solutions and no reference
values.
"""

from __future__ import annotations

import math
import numbers
import traceback
from collections.abc import Callable, Iterable
from typing import Any

PROBE_MIME = "application/vnd.cnn-course.probe+json"
"""MIME type of a probe record in a notebook cell's outputs."""

_MAX_ITEMS = 100_000


class Unserializable(TypeError):
    """Raised when a returned value has no faithful JSON representation."""


def to_json(value: Any, _budget: list[int] | None = None) -> Any:
    """Convert ``value`` to JSON-native data, refusing anything else.

    Exact types are checked (``type(x) is int``), so subclasses with
    overridden comparison or conversion methods are rejected rather than
    trusted.  numpy scalars and arrays are accepted through their
    ``tolist()``/``item()`` conversions, whose results are checked again.
    """
    if _budget is None:
        _budget = [_MAX_ITEMS]
    _budget[0] -= 1
    if _budget[0] < 0:
        raise Unserializable("value too large to record")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            return {"__float__": repr(value)}
        return value
    if kind in (list, tuple):
        return [to_json(v, _budget) for v in value]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise Unserializable("dict keys must be plain strings")
        return {k: to_json(v, _budget) for k, v in value.items()}
    module = getattr(kind, "__module__", "")
    if module == "numpy" and hasattr(value, "tolist"):
        # numpy scalar or ndarray: convert, then re-check the result.
        if getattr(value, "dtype", None) is not None and value.dtype.kind not in "biuf":
            raise Unserializable(f"numpy dtype {value.dtype} is not numeric")
        return to_json(value.tolist(), _budget)
    if isinstance(value, numbers.Number):
        raise Unserializable(f"{kind.__name__} is not a plain int or float")
    raise Unserializable(f"values of type {kind.__name__} cannot be graded")


def _describe_error(exc: BaseException) -> dict:
    """A short JSON description of an exception raised by student code."""
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (line {last[0].lineno})" if last else ""
    return {"type": type(exc).__name__, "message": str(exc)[:500] + where}


def run_case(func: Callable, args: Any) -> dict:
    """Call ``func`` on one case and return its record (output or error)."""
    if isinstance(args, dict):
        call = lambda: func(**args)
    elif isinstance(args, (list, tuple)):
        call = lambda: func(*args)
    else:
        call = lambda: func(args)
    record: dict[str, Any] = {"input": to_json(args)}
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - student code may raise anything
        record["error"] = _describe_error(exc)
        return record
    try:
        record["output"] = to_json(result)
    except Unserializable as exc:
        record["error"] = {"type": "Unserializable", "message": str(exc)}
    return record


def probe(name: str, func: Callable, cases: Iterable, *, rtol: float = 0.0,
          atol: float = 0.0) -> None:
    """Call ``func`` on every case and publish the records.

    ``cases`` is an iterable of argument tuples (``func(*case)``), dicts
    (``func(**case)``) or single arguments.  ``rtol``/``atol`` document how
    the reference run wants floats compared; the grader only ever uses the
    tolerances recorded by the *reference* run, never the student's.
    Returns nothing, so that a hidden-test cell ending with a probe shows no
    ``execute_result`` (which nbgrader would read as partial credit).
    """
    if not callable(func):
        records = [{"input": None, "error": {"type": "NotCallable",
                                            "message": f"{name} is not a function"}}]
    else:
        records = [run_case(func, case) for case in cases]
    payload = {"name": name, "rtol": rtol, "atol": atol, "records": records}
    _publish(payload)


def probe_value(name: str, value: Any, *, rtol: float = 0.0, atol: float = 0.0) -> None:
    """Publish a single value (for answer cells such as ``total_params``)."""
    probe(name, lambda: value, [()], rtol=rtol, atol=atol)


def _publish(payload: dict) -> None:
    """Emit ``payload`` as a display output of the running cell."""
    from IPython.display import display

    failures = sum("error" in r for r in payload["records"])
    summary = (f"probe {payload['name']}: {len(payload['records'])} hidden case(s) recorded"
               + (f", {failures} raised an error" if failures else ""))
    display({PROBE_MIME: payload, "text/plain": summary}, raw=True)


def probe_model(name: str, path: str, task: str) -> None:
    """Announce that the model saved at ``path`` is to be graded on ``task``.

    The grader evaluates the file itself, in a sandbox, on test data the
    student cannot change (see ``autograder.models``); the path and task it
    uses are those of the *reference* run, so changing them here gains nothing.
    """
    import os

    payload = {"name": name, "kind": "model", "path": path, "task": task,
               "records": [{"input": path, "output": os.path.isfile(path)}]}
    _publish(payload)
