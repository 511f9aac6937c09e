"""The form expression language (the phone's static/js/expr.js must agree)."""

from __future__ import annotations

import pytest

from sync.expr import ExpressionError, evaluate, names_in

CASES = [
    ("1 + 2 * 3", {}, 7),
    ("a + b", {"a": 1}, 1),  # null counts as 0
    ("a / b", {"a": 1, "b": 0}, None),  # division by zero
    ("round(a / 3)", {"a": 10}, 3),
    ("round(2.5)", {}, 3),  # half up, not banker's rounding
    ("round2(a)", {"a": 1.005}, 1.0),  # IEEE: 1.005 is 1.00499..., same in JS
    ("a < 5", {}, False),  # comparisons with null are false
    ("a == null", {}, True),
    ("len(xs) > 0 and contains(xs, 'housing')", {"xs": ["housing"]}, True),
    ("not flag or x == 'none'", {"flag": True, "x": "none"}, True),
    ("m < $line", {"m": 7599.99}, True),
    ("sum(a, b, c) <= n", {"a": 1, "b": 2, "n": 3}, True),
]


@pytest.mark.parametrize(("source", "data", "expected"), CASES)
def test_evaluation(source: str, data: dict, expected: object) -> None:
    assert evaluate(source, data, {"line": 7600}) == expected


@pytest.mark.parametrize("source", ["__import__('os')", "a.b", "[1, 2]", "lambda: 1", "open('x')", "a[0]"])
def test_anything_outside_the_language_is_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(source, {})


def test_names_in() -> None:
    assert names_in("round2((net_income + insurance_payout) / size) < $monitoring_line") == {
        "net_income", "insurance_payout", "size"}
