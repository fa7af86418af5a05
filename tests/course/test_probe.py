"""course.probe: only faithful JSON leaves the kernel."""

from __future__ import annotations

import numpy as np
import pytest

from course.probe import Unserializable, run_case, to_json


class AlwaysEqual:
    def __eq__(self, other):
        return True


class SureInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize("value, expected", [
    (3, 3), (2.5, 2.5), (True, True), ("same", "same"), (None, None),
    ((1, (2, 3)), [1, [2, 3]]), ({"a": [1, 2]}, {"a": [1, 2]}),
    (np.int64(7), 7), (np.float32(0.5), 0.5), (np.arange(3), [0, 1, 2]),
    (float("nan"), {"__float__": "nan"}),
])
def test_json_native_values_are_recorded(value, expected):
    assert to_json(value) == expected


@pytest.mark.parametrize("value", [AlwaysEqual(), SureInt(5), [1, AlwaysEqual()], {1: 2},
                                   np.array(["a"]), object(), type("L", (list,), {})([1])])
def test_everything_else_is_refused(value):
    with pytest.raises(Unserializable):
        to_json(value)


def test_run_case_records_output_error_and_unserializable():
    assert run_case(lambda a, b: a + b, (2, 3)) == {"input": [2, 3], "output": 5}
    assert run_case(lambda **k: k["x"], {"x": 1}) == {"input": {"x": 1}, "output": 1}
    rec = run_case(lambda: 1 / 0, ())
    assert rec["error"]["type"] == "ZeroDivisionError"
    rec = run_case(lambda: AlwaysEqual(), ())
    assert rec["error"]["type"] == "Unserializable" and "output" not in rec


def test_huge_values_are_refused():
    with pytest.raises(Unserializable):
        to_json(list(range(200_000)))
