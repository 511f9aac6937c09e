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
    # over a repeat: the rule reads each record's keys first, then the form's
    ("count(ms)", {"ms": [{"w": "a"}, {"w": "b"}]}, 2),
    ("count(ms, w == 'a')", {"ms": [{"w": "a"}, {"w": "b"}, {"w": "a"}]}, 2),
    ("count(ms)", {}, 0),
    ("any(ms, w == x)", {"ms": [{"w": "a"}, {"w": "b"}], "x": "b"}, True),
    ("all(ms, n > 0)", {"ms": [{"n": 1}, {"n": None}]}, False),
    ("all(ms, n > 0)", {"ms": []}, True),
    ("sum(ms, n)", {"ms": [{"n": 1}, {"n": None}, {"n": 2.5}]}, 3.5),
    ("sum(a, b)", {"a": 1, "b": 2}, 3),  # two numbers, as before
    # a rule inside a rule reads its record, then the outer one's, then the form's
    ("count(ms, any(ts, t == w))", {"ms": [{"w": "a", "ts": [{"t": "a"}]}, {"w": "b", "ts": [{"t": "a"}]}],
                                    "w": "b"}, 1),
    ("count(ms, any(ts, t == v))", {"ms": [{"ts": [{"t": "a"}]}], "v": "a"}, 1),
    ("count(ms, w == null)", {"ms": [{"w": None}, {}], "w": "a"}, 1),  # a key held as null hides the form's
    ("count(ms, sum(n, 1) > 1)", {"ms": [{"n": 1}, {"n": 0}], "n": 5}, 1),  # two numbers, the record's n
    ("id_birth(x)", {"x": "420281197005010021"}, "1970-05-01"),
    ("id_birth(x)", {"x": "420281197002300021"}, None),
    ("id_sex(x)", {"x": "420281201409010132"}, "男"),
    ("age(b, on)", {"b": "2014-09-01", "on": "2024-08-31"}, 9),
    ("age(b, on)", {"b": "2014-09-01", "on": "2024-09-01"}, 10),
    ("age(b, on)", {"b": None, "on": "2024-09-01"}, None),
]


@pytest.mark.parametrize(("source", "data", "expected"), CASES)
def test_evaluation(source: str, data: dict, expected: object) -> None:
    assert evaluate(source, data, {"line": 7600}) == expected


@pytest.mark.parametrize("source", ["__import__('os')", "a.b", "[1, 2]", "lambda: 1", "open('x')", "a[0]"])
def test_anything_outside_the_language_is_refused(source: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(source, {})


@pytest.mark.parametrize("source", ["count()", "any(ms)", "all(ms, a, b)", "age(x)", "round(x, 2)"])
def test_wrong_numbers_of_arguments_are_refused_at_load(source: str) -> None:
    from sync.expr import compile_expression
    with pytest.raises(ExpressionError):
        compile_expression(source)


@pytest.mark.parametrize("data", [{"ms": 5}, {"ms": [1, 2]}, {"ms": "ab"}])
def test_a_repeat_function_over_something_else_is_an_error(data: dict) -> None:
    with pytest.raises(ExpressionError):
        evaluate("count(ms, x)", data)


def test_names_in() -> None:
    assert names_in("round2((net_income + insurance_payout) / size) < $monitoring_line") == {
        "net_income", "insurance_payout", "size"}
