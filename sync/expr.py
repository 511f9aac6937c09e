"""The small expression language of the form definition.

Expressions are a subset of Python syntax, so they are parsed with :mod:`ast`
and checked against a whitelist; the checked tree is then translated into one
Python function (the expression text itself is never ``eval``-ed). The
phone evaluates the same strings with ``static/js/expr.js``; both follow
these rules so that they agree on every input:

- a field id reads the answer (``None`` when absent); ``$name`` reads a
  campaign setting (e.g. ``$monitoring_line``); ``true``/``false``/``null``;
- ``None`` counts as 0 in ``+ - * /``; division by 0 gives ``None``;
- ``<``, ``<=``, ``>``, ``>=`` with a ``None`` side are false;
- ``round(x)`` rounds half up to an integer, ``round2(x)`` to cents, both
  ``None`` for ``None``; ``len(x)`` is 0 for ``None``; ``sum(a, b, ...)``;
  ``contains(list, code)``;
- over a repeat (a list of records, e.g. ``members``): ``count(rs)``,
  ``count(rs, cond)``, ``any(rs, cond)``, ``all(rs, cond)`` and
  ``sum(rs, expr)``; ``cond``/``expr`` are evaluated for each record, whose
  keys are read before the form's (``null`` is no record); ``sum(a, b)`` with a
  first argument that is not a list is the sum of two numbers;
- ``id_birth(id)`` (``'YYYY-MM-DD'`` from an 18-character ID number),
  ``id_sex(id)`` (``'男'``/``'女'``), ``age(birth, on)`` (whole years), each
  ``None`` when it cannot be read.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

_SETTING = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}


class ExpressionError(ValueError):
    """An expression in a form definition is not in the language."""


def _num(value: Any) -> float:
    kind = type(value)
    if kind is int or kind is float:  # the common case first: one type test, not four
        return float(value)
    if value is None or value is False:
        return 0.0
    if value is True:
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


def _records(repeat: Any) -> list[Mapping[str, Any]]:
    """The records of a repeat answer (``None`` is none); anything else is an error."""
    if repeat is None:
        return []
    if type(repeat) is not list:
        raise ExpressionError(f"not a repeat: {repeat!r}")
    for record in repeat:
        if type(record) is not dict and not isinstance(record, Mapping):
            raise ExpressionError(f"not a repeat: {repeat!r}")
    return repeat


ItemRule = Callable[[Mapping[str, Any]], Any]
"""The rule of ``count any all sum`` over a repeat: a function of one record (see
:meth:`_Emitter._over_records`)."""
# The record a two-argument ``sum`` gives its second argument when the first is no list:
# no keys, so every name is read from the form's values.
_NO_RECORD: Mapping[str, Any] = MappingProxyType({})


class RecordScope(Mapping[str, Any]):
    """The values a check of a record's field reads: the record's keys first, then
    the form's (``{**data, **record}`` without copying either; expressions only call
    ``get``, which is the fast path). A rule over the records of a repeat reads them
    in the same order without one (see :meth:`_Emitter._over_records`)."""

    __slots__ = ("outer", "record")

    def __init__(self, record: Mapping[str, Any], outer: Any) -> None:
        self.record = record
        self.outer = outer

    def get(self, key: str, default: Any = None) -> Any:
        record = self.record
        if key in record:
            return record[key]
        return self.outer.get(key, default)

    def __getitem__(self, key: str) -> Any:
        if key in self.record:
            return self.record[key]
        return self.outer[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.record
        yield from (key for key in self.outer if key not in self.record)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _count(repeat: Any, rule: ItemRule | None) -> int:
    records = _records(repeat)
    if rule is None:
        return len(records)
    return sum(1 for r in records if rule(r))


def _any(repeat: Any, rule: ItemRule) -> bool:
    return any(bool(rule(r)) for r in _records(repeat))


def _all(repeat: Any, rule: ItemRule) -> bool:
    return all(bool(rule(r)) for r in _records(repeat))


def _sum_two(first: Any, second: ItemRule) -> float:
    """``sum(a, b)``: over the records of ``a`` when it is a list, else ``a + b``."""
    if isinstance(first, list):
        return sum(_num(second(r)) for r in _records(first))
    return _num(first) + _num(second(_NO_RECORD))


_ID_BIRTH = re.compile(r"[0-9]{6}([0-9]{4})([0-9]{2})([0-9]{2})[0-9]{3}[0-9X]")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(year: int, month: int, day: int) -> bool:
    if not (1 <= year and 1 <= month <= 12 and day >= 1):
        return False
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return day <= 29
    return day <= _MONTH_DAYS[month - 1]


def id_birth(value: Any) -> str | None:
    """The birth date written in an 18-character ID number, or ``None``."""
    match = _ID_BIRTH.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return None
    year, month, day = match.groups()
    return f"{year}-{month}-{day}" if _valid_date(int(year), int(month), int(day)) else None


def id_sex(value: Any) -> str | None:
    """男 for an odd sequence digit (the 17th character), 女 for an even one."""
    if not isinstance(value, str) or not _ID_BIRTH.fullmatch(value):
        return None
    return "男" if int(value[16]) % 2 else "女"


@lru_cache(maxsize=1024)
def _iso_date(text: str) -> tuple[int, int, int] | None:
    """A valid ``'YYYY-MM-DD'`` as numbers (the day of a visit is read once, not for
    each member), else ``None``."""
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    return (year, month, day) if _valid_date(year, month, day) else None


def age(birth: Any, on: Any) -> int | None:
    """Whole years from ``birth`` to ``on`` (both ``'YYYY-MM-DD'``), or ``None``."""
    if type(birth) is not str or type(on) is not str:
        return None
    first, second = _iso_date(birth), _iso_date(on)
    if first is None or second is None:
        return None
    return second[0] - first[0] - (1 if second[1:] < first[1:] else 0)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "round": lambda x: round_half_up(x, 0),
    "round2": lambda x: round_half_up(x, 2),
    "len": _len,
    "contains": _contains,
    "sum": _sum,
    "id_birth": id_birth,
    "id_sex": id_sex,
    "age": age,
}
# Functions over a repeat: their second argument is evaluated per record.
REPEAT_FUNCTIONS: dict[str, Callable[..., Any]] = {"count": _count, "any": _any, "all": _all}
_ARITY = {"round": (1, 1), "round2": (1, 1), "len": (1, 1), "contains": (2, 2), "id_birth": (1, 1),
          "id_sex": (1, 1), "age": (2, 2), "count": (1, 2), "any": (2, 2), "all": (2, 2)}


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
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and (node.func.id in FUNCTIONS or node.func.id in REPEAT_FUNCTIONS)):
                raise ExpressionError(f"unknown function in {source!r}")
            low, high = _ARITY.get(node.func.id, (0, 10**6))
            if not low <= len(node.args) <= high:
                raise ExpressionError(f"{node.func.id}() takes {low}–{high} arguments in {source!r}")
    return tree


def names_in(source: str) -> set[str]:
    """Field ids an expression reads (for the phone's dependency tracking)."""
    tree = compile_expression(source)
    return {
        n.id for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id not in _CONSTANTS and n.id not in FUNCTIONS
        and n.id not in REPEAT_FUNCTIONS and not n.id.startswith("__setting_")
    }


Evaluator = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]


def evaluate(source: str, data: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``source`` over the answers ``data`` and campaign ``settings``."""
    return compiled(source)(data, settings or {})


@lru_cache(maxsize=512)
def compiled(source: str) -> Evaluator:
    """``source`` turned once into one Python function.

    Validation runs every expression of the form for every pushed record, so
    the whitelisted AST is translated to Python source (see :class:`_Emitter`)
    and compiled: one call per expression instead of a call per node. The
    source is generated from the checked AST, never copied from the text.
    """
    emitter = _Emitter()
    function = emitter.evaluator(emitter.emit(compile_expression(source).body), f"<expression {source!r}>")
    function.__doc__ = source
    return function


def _lt(left: Any, right: Any) -> bool:
    return left is not None and right is not None and _num(left) < _num(right)


def _le(left: Any, right: Any) -> bool:
    return left is not None and right is not None and _num(left) <= _num(right)


def _gt(left: Any, right: Any) -> bool:
    return left is not None and right is not None and _num(left) > _num(right)


def _ge(left: Any, right: Any) -> bool:
    return left is not None and right is not None and _num(left) >= _num(right)


def _divide(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


_NUMBERS = frozenset({int, float})

# What generated code may refer to besides the answers, the settings and the
# objects of its own expression (constants, functions).
_RUNTIME: dict[str, Any] = {
    "bool": bool, "float": float, "type": type, "_NUMBERS": _NUMBERS, "_num": _num,
    "_divide": _divide, "_lt": _lt, "_le": _le, "_gt": _gt, "_ge": _ge,
}
_ORDERING = {ast.Lt: "_lt", ast.LtE: "_le", ast.Gt: "_gt", ast.GtE: "_ge"}
_SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITHMETIC = {ast.Add: ("+", 1), ast.Sub: ("-", 1), ast.Mult: ("*", 2)}  # symbol, precedence


class _Emitter:
    """Python source for one checked expression AST, with the same semantics
    as the language (``None`` as 0, false comparisons with ``None``, left to
    right evaluation, short-circuits). Anything that is not a plain literal
    (functions, unusual constants) is referred to by a generated name bound
    in :attr:`objects`."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}
        self._temporaries = 0
        self._records: list[str] = []  # the records of the rules being emitted, innermost last

    def emit(self, node: ast.AST) -> str:
        """Python code for ``node``, safe to embed anywhere (parenthesised if compound)."""
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.BoolOp):
            joiner = " and " if isinstance(node.op, ast.And) else " or "
            return "(" + joiner.join(self._boolean(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Div):
                return f"_divide({self._number(node.left)}, {self._number(node.right)})"
            return f"({self._arithmetic(node)})"
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            name = node.func.id
            if name in REPEAT_FUNCTIONS or name == "sum" and len(node.args) == 2:
                return self._over_records(name, node.args)
            function = self._object(FUNCTIONS[name])
            return f"{function}({', '.join(self.emit(a) for a in node.args)})"
        raise ExpressionError(f"cannot evaluate {type(node).__name__}")

    def _over_records(self, name: str, args: list[ast.expr]) -> str:
        """``count any all`` and two-argument ``sum``: the rule (second argument)
        becomes a function of one record, ``lambda _record1: ...``, whose names read
        the record's keys first, then (inside a rule over another repeat) the outer
        record's, then the form's: what a scope of the record over the form's values
        gives, without building one per record."""
        function = self._object(_sum_two if name == "sum" else REPEAT_FUNCTIONS[name])
        repeat = self.emit(args[0])
        if len(args) == 1:
            return f"{function}({repeat}, None)"
        record = f"_record{len(self._records) + 1}"
        self._records.append(record)
        try:
            rule = f"(lambda {record}: {self.emit(args[1])})"
        finally:
            self._records.pop()
        return f"{function}({repeat}, {rule})"

    def evaluator(self, code: str, filename: str) -> Evaluator:
        """``def expression(data, settings): return <code>``, compiled in a
        namespace of only the runtime helpers and the objects emitted for it."""
        namespace: dict[str, Any] = {"__builtins__": {}, **_RUNTIME, **self.objects}
        exec(compile(f"def expression(data, settings):\n    return {code}\n", filename, "exec"), namespace)
        function: Evaluator = namespace["expression"]
        return function

    def _boolean(self, node: ast.AST) -> str:
        """``bool(node)``; comparisons, ``not``, ``and`` and ``or`` are bools already."""
        code = self.emit(node)
        if isinstance(node, ast.Compare | ast.BoolOp) or isinstance(node, ast.UnaryOp) and isinstance(
            node.op, ast.Not
        ):
            return code
        return f"bool({code})"

    def _number(self, node: ast.AST) -> str:
        """``_num(node)``, without the call where it is not needed: ``+ - *``
        and negation give floats already (``/`` may give None), a numeric
        literal is converted here, and an int or a float needs only ``float``."""
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Div) or isinstance(
            node, ast.UnaryOp
        ) and isinstance(node.op, ast.USub):
            return self.emit(node)
        literal = _float_literal(node)
        if literal is not None:
            return literal
        value = self._temporary()
        return f"(float({value}) if type({value} := {self.emit(node)}) in _NUMBERS else _num({value}))"

    def _arithmetic(self, node: ast.BinOp) -> str:
        """``+ - *`` with only the parentheses Python needs, so that a long sum
        such as ``a + b + ... + z`` does not nest them (the parser takes 200
        levels)."""
        symbol, precedence = _ARITHMETIC[type(node.op)]
        left = self._term(node.left, precedence, right=False)
        right = self._term(node.right, precedence, right=True)
        return f"{left} {symbol} {right}"

    def _term(self, node: ast.expr, precedence: int, *, right: bool) -> str:
        """An operand of ``+ - *``: bare if it is ``+ - *`` binding tighter (or
        as tight, on the left: Python groups from the left), else a number."""
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            inner = _ARITHMETIC[type(node.op)][1]
            if inner > precedence or inner == precedence and not right:
                return self._arithmetic(node)
        return self._number(node)

    def _unary(self, node: ast.UnaryOp) -> str:
        """``not`` and ``-``; a run of the same operator is folded (``not not x``
        is ``bool(x)``, ``- - x`` is the number ``x``), as deep runs would nest
        parentheses."""
        odd, operand = True, node.operand
        while isinstance(operand, ast.UnaryOp) and type(operand.op) is type(node.op):
            odd, operand = not odd, operand.operand
        if isinstance(node.op, ast.Not):
            return f"(not {self.emit(operand)})" if odd else self._boolean(operand)
        return f"(-{self._number(operand)})" if odd else self._number(operand)

    def _ordering(self, op: ast.cmpop, left: ast.AST, right: ast.AST) -> str:
        """``left < right`` (or ``<= > >=``): both sides evaluated, false if
        either is ``None``, else compared as numbers. ``&`` rather than
        ``and`` between the ``None`` tests, so that the right side is
        evaluated even when the left is ``None``."""
        tests: list[str] = []
        sides: list[str] = []
        for node in (left, right):
            literal = _float_literal(node)
            if literal is not None:
                sides.append(literal)
                continue
            value = self._temporary()
            tests.append(f"(({value} := {self.emit(node)}) is not None)")
            sides.append(f"(float({value}) if type({value}) in _NUMBERS else _num({value}))")
        comparison = f"{sides[0]} {_SYMBOLS[type(op)]} {sides[1]}"
        return f"({' & '.join(tests)} and {comparison})" if tests else f"({comparison})"

    def _constant(self, value: Any) -> str:
        if value is None or isinstance(value, bool | str):
            return repr(value)
        if type(value) is int and abs(value) < 2**63 or type(value) is float and math.isfinite(value):
            return repr(value)
        return self._object(value)

    def _name(self, name: str) -> str:
        if name in _CONSTANTS:
            return repr(_CONSTANTS[name])
        if name.startswith("__setting_"):
            return f"settings.get({name[len('__setting_'):]!r})"
        key = repr(name)
        read = f"data.get({key})"
        for record in self._records:  # outermost first: the innermost record is tested first
            read = f"{record}[{key}] if {key} in {record} else {read}"
        return f"({read})" if self._records else read

    def _compare(self, node: ast.Compare) -> str:
        """``a < b < c`` compares pairwise, stops at the first false pair and
        evaluates each operand once; operands shared by two pairs are kept in
        temporaries."""
        if len(node.ops) == 1 and type(node.ops[0]) in _SYMBOLS:
            return self._ordering(node.ops[0], node.left, node.comparators[0])
        steps: list[str] = []
        left = self.emit(node.left)
        last = len(node.ops) - 1
        for index, (op, comparator) in enumerate(zip(node.ops, node.comparators, strict=True)):
            right = self.emit(comparator)
            following = right
            if index < last:
                following = self._temporary()
                right = f"({following} := {right})"
            steps.append(self._pair(op, left, right))
            left = following
        return steps[0] if len(steps) == 1 else "(" + " and ".join(steps) + ")"

    @staticmethod
    def _pair(op: ast.cmpop, left: str, right: str) -> str:
        if isinstance(op, ast.Eq):
            return f"bool({left} == {right})"
        if isinstance(op, ast.NotEq):
            return f"bool({left} != {right})"
        return f"{_ORDERING[type(op)]}({left}, {right})"

    def _object(self, value: Any) -> str:
        name = f"_object{len(self.objects)}"
        self.objects[name] = value
        return name

    def _temporary(self) -> str:
        self._temporaries += 1
        return f"_value{self._temporaries}"


def _float_literal(node: ast.AST) -> str | None:
    """``_num`` of a finite int or float literal, as a float literal."""
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool) or not isinstance(
        node.value, int | float
    ):
        return None
    try:
        number = float(node.value)
    except OverflowError:
        return None
    return repr(number) if math.isfinite(number) else None
