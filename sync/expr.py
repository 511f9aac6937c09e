"""The small expression language of the form definition.

Expressions are a subset of Python syntax, so they are parsed with :mod:`ast`
and walked by a whitelisting evaluator (nothing is ever ``eval``-ed). The
phone evaluates the same strings with ``static/js/expr.js``; both follow
these rules so that they agree on every input:

- a field id reads the answer (``None`` when absent); ``$name`` reads a
  campaign setting (e.g. ``$monitoring_line``); ``true``/``false``/``null``;
- ``None`` counts as 0 in ``+ - * /``; division by 0 gives ``None``;
- ``<``, ``<=``, ``>``, ``>=`` with a ``None`` side are false;
- ``round(x)`` rounds half up to an integer, ``round2(x)`` to cents, both
  ``None`` for ``None``; ``len(x)`` is 0 for ``None``; ``sum(a, b, ...)``;
  ``contains(list, code)``.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

_SETTING = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


class ExpressionError(ValueError):
    """An expression in a form definition is not in the language."""


def _num(value: Any) -> float:
    if value is None or isinstance(value, bool) and not value:
        return 0.0
    if isinstance(value, bool):
        return 1.0
    if isinstance(value, int | float):
        return float(value)
    raise ExpressionError(f"not a number: {value!r}")


def round_half_up(value: Any, digits: int = 0) -> float | int | None:
    if value is None:
        return None
    factor = 10**digits
    result = math.floor(_num(value) * factor + 0.5) / factor
    return int(result) if digits == 0 else result


def _len(value: Any) -> int:
    return 0 if value is None else len(value)


def _contains(container: Any, item: Any) -> bool:
    return container is not None and item in container


def _sum(*values: Any) -> float:
    return sum(_num(v) for v in values)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "round": lambda x: round_half_up(x, 0),
    "round2": lambda x: round_half_up(x, 2),
    "len": _len,
    "contains": _contains,
    "sum": _sum,
}


@lru_cache(maxsize=512)
def compile_expression(source: str) -> ast.Expression:
    """Parse once; raise :class:`ExpressionError` for anything outside the language."""
    text = _SETTING.sub(r"__setting_\1", source)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"bad expression {source!r}: {exc}") from exc
    allowed = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call,
               ast.Name, ast.Constant, ast.Load, ast.And, ast.Or, ast.Not, ast.USub,
               ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Eq, ast.NotEq, ast.Lt, ast.LtE,
               ast.Gt, ast.GtE)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ExpressionError(f"{type(node).__name__} not allowed in {source!r}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
        ):
            raise ExpressionError(f"unknown function in {source!r}")
    return tree


def names_in(source: str) -> set[str]:
    """Field ids an expression reads (for the phone's dependency tracking)."""
    tree = compile_expression(source)
    return {
        n.id for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id not in _CONSTANTS and n.id not in FUNCTIONS
        and not n.id.startswith("__setting_")
    }


Evaluator = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]


def evaluate(source: str, data: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``source`` over the answers ``data`` and campaign ``settings``."""
    return compiled(source)(data, settings or {})


@lru_cache(maxsize=512)
def compiled(source: str) -> Evaluator:
    """``source`` turned once into nested closures (validation runs every
    expression of the form for every pushed record, so walking the AST each
    time was most of the cost of a push)."""
    return _compile(compile_expression(source).body)


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, ast.Eq):
        return bool(left == right)
    if isinstance(op, ast.NotEq):
        return bool(left != right)
    if left is None or right is None:
        return False
    a, b = _num(left), _num(right)
    if isinstance(op, ast.Lt):
        return a < b
    if isinstance(op, ast.LtE):
        return a <= b
    if isinstance(op, ast.Gt):
        return a > b
    return a >= b


def _compile(node: ast.AST) -> Evaluator:
    if isinstance(node, ast.Constant):
        constant = node.value
        return lambda data, settings: constant
    if isinstance(node, ast.Name):
        name = node.id
        if name in _CONSTANTS:
            value = _CONSTANTS[name]
            return lambda data, settings: value
        if name.startswith("__setting_"):
            key = name[len("__setting_"):]
            return lambda data, settings: settings.get(key)
        return lambda data, settings: data.get(name)
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda data, settings: all(bool(p(data, settings)) for p in parts)
        return lambda data, settings: any(bool(p(data, settings)) for p in parts)
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda data, settings: not operand(data, settings)
        return lambda data, settings: -_num(operand(data, settings))
    if isinstance(node, ast.BinOp):
        return _compile_binop(node)
    if isinstance(node, ast.Compare):
        first = _compile(node.left)
        steps = [(op, _compile(c)) for op, c in zip(node.ops, node.comparators, strict=True)]

        def compare(data: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
            left = first(data, settings)
            for op, comparator in steps:
                right = comparator(data, settings)
                if not _compare(op, left, right):
                    return False
                left = right
            return True

        return compare
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        function = FUNCTIONS[node.func.id]
        args = [_compile(a) for a in node.args]
        return lambda data, settings: function(*(a(data, settings) for a in args))
    raise ExpressionError(f"cannot evaluate {type(node).__name__}")


def _compile_binop(node: ast.BinOp) -> Evaluator:
    left, right = _compile(node.left), _compile(node.right)
    if isinstance(node.op, ast.Add):
        return lambda data, settings: _num(left(data, settings)) + _num(right(data, settings))
    if isinstance(node.op, ast.Sub):
        return lambda data, settings: _num(left(data, settings)) - _num(right(data, settings))
    if isinstance(node.op, ast.Mult):
        return lambda data, settings: _num(left(data, settings)) * _num(right(data, settings))

    def divide(data: Mapping[str, Any], settings: Mapping[str, Any]) -> float | None:
        numerator, denominator = _num(left(data, settings)), _num(right(data, settings))
        return None if denominator == 0 else numerator / denominator

    return divide
