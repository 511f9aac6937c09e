"""static/js/expr.js gives the same results as sync/expr.py, expression by expression.

One table (hand-written edge cases, plus every expression of the form
definition over a few hundred generated answer sets) is evaluated in
Chromium and in Python; results must be equal (booleans as booleans,
numbers by value, errors as errors). Only the comparison needs the browser
(marked ``e2e``); the check of the table itself runs in the fast tier.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from sync.expr import evaluate
from sync.form import load_form

HAND_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("1 + 2 * 3", {}, {}),
    ("(1 + 2) * 3", {}, {}),
    ("-2 * 3", {}, {}),
    ("- -2", {}, {}),
    ("10 / 4", {}, {}),
    ("10 / 0", {}, {}),
    ("10 / x", {"x": None}, {}),
    ("x + 1", {}, {}),
    ("x + y", {"x": None, "y": 2.5}, {}),
    ("x * 2", {"x": True}, {}),
    ("x - 1", {"x": False}, {}),
    ("x + 1", {"x": "a"}, {}),
    ("x < 1", {"x": None}, {}),
    ("x >= 0", {"x": 0}, {}),
    ("1 < 2 < 3", {}, {}),
    ("1 < 3 < 2", {}, {}),
    ("x == null", {}, {}),
    ("x == null", {"x": 0}, {}),
    ("x == 0", {"x": False}, {}),
    ("x == 1", {"x": True}, {}),
    ("x == 1.0", {"x": 1}, {}),
    ("x != 'a'", {"x": "a"}, {}),
    ("x == true", {"x": 1}, {}),
    ("x == ['a', 'b']", {"x": ["a", "b"]}, {}),
    ("x == y", {"x": ["a", "b"], "y": ["a", "b"]}, {}),
    ("x == y", {"x": [1], "y": [True]}, {}),
    ("x and y", {"x": 1, "y": "s"}, {}),
    ("x and y", {"x": [], "y": 1}, {}),
    ("x or y", {"x": "", "y": 0}, {}),
    ("x or y", {"x": None, "y": [0]}, {}),
    ("not x", {"x": []}, {}),
    ("not x", {"x": "0"}, {}),
    ("not x == 1", {"x": 1}, {}),
    ("x > 1 and y", {"x": None, "y": 1}, {}),
    ("false and len(5)", {}, {}),
    ("true or len(5)", {}, {}),
    ("len(x)", {}, {}),
    ("len(x)", {"x": ["a", "b", "c"]}, {}),
    ("len(x)", {"x": "王建国𠀀"}, {}),
    ("len(x)", {"x": 5}, {}),
    ("contains(x, 'a')", {"x": ["b", "a"]}, {}),
    ("contains(x, 'a')", {}, {}),
    ("contains(x, 1)", {"x": [True]}, {}),
    ("contains(x, 'an')", {"x": "banana"}, {}),
    ("contains(x, 1)", {"x": "banana"}, {}),
    ("contains(x, 1)", {"x": 5}, {}),
    ("sum(a, b, c)", {"a": 1, "b": None, "c": 2.5}, {}),
    ("sum()", {}, {}),
    ("sum(a)", {"a": "x"}, {}),
    ("round(x)", {"x": 2.5}, {}),
    ("round(x)", {"x": -2.5}, {}),
    ("round(x)", {"x": 1234.4999}, {}),
    ("round(x)", {}, {}),
    ("round2(x)", {"x": 1.005}, {}),
    ("round2(x)", {"x": 2.675}, {}),
    ("round2(x / 3)", {"x": 10}, {}),
    ("round(1e308 * 10)", {}, {}),
    ("round(x, 2)", {"x": 1}, {}),
    ("$monitoring_line", {}, {"monitoring_line": 7600}),
    ("$missing", {}, {}),
    ("x < $line", {"x": 7599.99}, {"line": 7600}),
    ("'a' < 'b'", {}, {}),
    ("'it''s'", {}, {}),
    ("\"q\" == 'q'", {}, {}),
    ("'\\u738b' == '王'", {}, {}),
    ("0x10 + 0o10 + 0b10", {}, {}),
    ("1_000 + .5 + 1e3 + 2.", {}, {}),
    ("True and not None", {}, {}),
    ("x in y", {"x": 1, "y": [1]}, {}),
    ("x not in y", {"x": 1, "y": [1]}, {}),
    ("x is None", {}, {}),
    ("x ** 2", {"x": 2}, {}),
    ("x // 2", {"x": 5}, {}),
    ("x % 2", {"x": 5}, {}),
    ("+x", {"x": 5}, {}),
    ("x.y", {"x": 5}, {}),
    ("x[0]", {"x": [5]}, {}),
    ("foo(1)", {}, {}),
    ("(1, 2)", {}, {}),
    ("1 if x else 2", {}, {}),
    ("lambda: 1", {}, {}),
    ("x =", {}, {}),
    ("(1 + 2", {}, {}),
    ("", {}, {}),
    ("constructor", {}, {}),
    ("toString == null", {}, {}),
    ("round(x) == 3", {"x": 2.5}, {}),
    ("-x", {"x": None}, {}),
    ("x - y - z", {"x": 10, "y": 3, "z": 2}, {}),
    ("x / y / z", {"x": 12, "y": 3, "z": 2}, {}),
    ("0.1 + 0.2 == 0.3", {}, {}),
    # functions over a repeat, and the ID functions
    ("count(ms)", {"ms": [{"w": "a"}, {"w": "b"}]}, {}),
    ("count(ms, w == 'a')", {"ms": [{"w": "a"}, {"w": "b"}, {"w": "a"}]}, {}),
    ("count(ms, w)", {"ms": [{"w": ""}, {"w": []}, {"w": "0"}, {"w": 0}]}, {}),
    ("count(ms)", {}, {}),
    ("count(ms)", {"ms": 5}, {}),
    ("count(ms)", {"ms": [1]}, {}),
    ("count(ms)", {"ms": [[]]}, {}),
    ("count()", {}, {}),
    ("count(ms, a, b)", {"ms": []}, {}),
    ("any(ms, w == x)", {"ms": [{"w": "a"}, {"w": "b"}], "x": "b"}, {}),
    ("any(ms, w == x)", {"ms": [{"w": "a", "x": "a"}], "x": "b"}, {}),
    ("any(ms)", {"ms": []}, {}),
    ("all(ms, n > 0)", {"ms": [{"n": 1}, {"n": None}]}, {}),
    ("all(ms, n > 0)", {"ms": []}, {}),
    ("all(ms, n > $line)", {"ms": [{"n": 8000}]}, {"line": 7600}),
    ("sum(ms, n)", {"ms": [{"n": 1}, {"n": None}, {"n": 2.5}]}, {}),
    ("sum(ms, n * 2)", {"ms": [{"n": True}]}, {}),
    ("sum(ms, n)", {"ms": [{"n": "a"}]}, {}),
    ("sum(a, b)", {"a": 1, "b": 2}, {}),
    ("sum(a, b)", {"a": None, "b": 2}, {}),
    ("sum(a, b)", {"a": [], "b": 2}, {}),
    ("count(ms, count(ms) > 1)", {"ms": [{"n": 1}, {"n": 2}]}, {}),
    ("count(ms, any(ts, t == w))", {"ms": [{"w": "a", "ts": [{"t": "a"}]}, {"w": "b", "ts": [{"t": "a"}]}],
                                    "w": "b"}, {}),
    ("count(ms, any(ts, t == v))", {"ms": [{"ts": [{"t": "a"}]}], "v": "a"}, {}),
    ("count(ms, w == null)", {"ms": [{"w": None}, {}], "w": "a"}, {}),
    ("count(ms, sum(n, 1) > 1)", {"ms": [{"n": 1}, {"n": 0}], "n": 5}, {}),
    ("sum(ms, sum(ts, n))", {"ms": [{"ts": [{"n": 1}, {}]}, {"n": 2, "ts": [{}]}], "n": 7}, {}),
    ("id_birth(x)", {"x": "420281197005010021"}, {}),
    ("id_birth(x)", {"x": "420281197002300021"}, {}),
    ("id_birth(x)", {"x": "42028120000229002X"}, {}),
    ("id_birth(x)", {"x": "42028119000229002X"}, {}),
    ("id_birth(x)", {"x": "42028119700501002x"}, {}),
    ("id_birth(x)", {"x": "420281197005010021\n"}, {}),
    ("id_birth(x)", {"x": 5}, {}),
    ("id_birth(x)", {}, {}),
    ("id_sex(x)", {"x": "420281201409010132"}, {}),
    ("id_sex(x)", {"x": "420281201409010122"}, {}),
    ("id_sex(x)", {"x": "4202812014090101"}, {}),
    ("age(b, on)", {"b": "2014-09-01", "on": "2024-08-31"}, {}),
    ("age(b, on)", {"b": "2014-09-01", "on": "2024-09-01"}, {}),
    ("age(b, on)", {"b": "2014-02-29", "on": "2024-09-01"}, {}),
    ("age(b, on)", {"b": "2012-02-29", "on": "2024-02-28"}, {}),
    ("age(b, on)", {"b": None, "on": "2024-09-01"}, {}),
    ("age(b, on)", {"b": "2014-09-01", "on": "2024/09/01"}, {}),
    ("age(b)", {}, {}),
]


def _form_expressions(version: str = "2023.1") -> list[str]:
    form = load_form(version)
    return sorted(set(form._expressions()))


def _random_members(rng: random.Random, version: str) -> list[dict[str, Any]]:
    """Records for the repeat of ``version`` (the member fields drawn like the form's)."""
    repeat = load_form(version).by_id["members"]
    records = []
    for _ in range(rng.randint(0, 4)):
        record = _random_answers(rng, version, repeat.fields)
        record["birth_date"] = rng.choice([None, "2014-09-01", "2019-01-31", "1970-05-01"])
        record["id_number"] = rng.choice([None, "420281197005010021", "x"])
        records.append(record)
    return records


def _random_answers(rng: random.Random, version: str = "2023.1", fields: Any = None) -> dict[str, Any]:
    form = load_form(version)
    data: dict[str, Any] = {}
    for f in fields if fields is not None else form.fields:
        if f.type == "repeat":
            data[f.id] = _random_members(rng, version)
            continue
        roll = rng.random()
        if roll < 0.15:
            continue
        if roll < 0.25:
            data[f.id] = None
            continue
        if f.type in {"int"}:
            data[f.id] = rng.choice([0, 1, 2, 3, 4, 7, 20, -1])
        elif f.type in {"money", "computed"}:
            data[f.id] = rng.choice([0, 0.5, 1.005, 2.675, 7599.99, 7600, 9999.5, 10000, 36000, 123456.78])
        elif f.type == "yesno":
            data[f.id] = rng.choice([True, False])
        elif f.type == "choice":
            data[f.id] = rng.choice([c.code for c in f.choices])
        elif f.type == "multi":
            data[f.id] = rng.sample([c.code for c in f.choices], rng.randint(0, 3))
        else:
            data[f.id] = rng.choice(["", "王建国", "x"])
    for flag in ("below_monitoring_line", "guarantee_gap"):
        if rng.random() < 0.5:
            data[flag] = rng.choice([True, False, None])
    return data


def _table() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    rng = random.Random(20231012)
    cases = list(HAND_CASES)
    expressions = _form_expressions()
    for _ in range(120):
        answers = _random_answers(rng)
        settings = {"monitoring_line": rng.choice([7600, 7600.5, 0])}
        cases += [(e, answers, settings) for e in expressions]
    members = _form_expressions("2024.1")
    for _ in range(60):
        answers = _random_answers(rng, "2024.1")
        answers["visited_on"] = rng.choice(["2024-10-12", None, "2020-01-01"])
        answers["head_id"] = rng.choice(["420281197005010021", None])
        cases += [(e, answers, {"monitoring_line": 7600}) for e in members]
    return cases


def _python(source: str, data: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"ok": evaluate(source, data, settings)}
    except Exception as exc:  # every error kind counts as "error" on both sides
        return {"error": type(exc).__name__}


def _same(py: dict[str, Any], js: dict[str, Any]) -> bool:
    if "error" in py or "error" in js:
        return "error" in py and "error" in js
    a, b = py["ok"], js.get("ok")
    return _same_value(a, b)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    return a == b


JS_EVALUATE = """async (cases) => {
  const m = await import('/static/js/expr.js');
  return cases.map(([source, data, settings]) => {
    try { const v = m.evaluate(source, data, settings); return {ok: v === undefined ? '<undefined>' : v}; }
    catch (e) { return {error: e.constructor.name}; }
  });
}"""


@pytest.mark.e2e
def test_expression_table_gives_the_same_results_in_chromium_and_python(module_page: Any) -> None:
    cases = _table()
    assert len(cases) > 3000
    js_results = module_page.evaluate(JS_EVALUATE, [list(c) for c in cases])
    mismatches = []
    for (source, data, settings), js in zip(cases, js_results, strict=True):
        py = _python(source, data, settings)
        if not _same(py, js):
            mismatches.append((source, data, settings, py, js))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_the_table_exercises_errors_booleans_and_numbers() -> None:
    """Guard against a table that would pass trivially."""
    results = [_python(*c) for c in HAND_CASES]
    assert sum("error" in r for r in results) >= 15
    assert sum(isinstance(r.get("ok"), bool) for r in results) >= 25
    assert sum(isinstance(r.get("ok"), float) for r in results) >= 10
