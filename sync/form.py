"""The visit form as data, and the one validator every path uses.

Shapes: a :class:`FormDefinition` is loaded from ``sync/forms/<version>.yaml``.
``validate(data, context)`` takes the JSON values of docs/visit-form.md (as the API
receives them; the HTML form coerces its strings first with
``coerce_strings``) and returns a :class:`Validation`: the normalised values
(computed fields recomputed), the flags, and ``errors`` as
``{field_id: [Chinese message, ...]}``, exactly the shape of a push result.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import yaml

from sync.expr import Evaluator, RecordScope, compile_expression, compiled, evaluate, names_in
from sync.form_types import TYPE_CHECKS, UNANSWERED, Rejected, TypeCheck

FORMS_DIR = Path(__file__).parent / "forms"
CHINA = ZoneInfo("Asia/Shanghai")
DEFAULT_TEXT_MAX = 200
_NO_SETTINGS: Mapping[str, Any] = MappingProxyType({})

RelationCheck = Callable[[Any, Mapping[str, Any], Mapping[str, Any]], str | None]
"""A field's error given its value, all values (computed ones included) and
the campaign settings."""


class _FieldPlan(NamedTuple):
    """What validate does for one input field: its type check, then the
    relation check that applies when it is empty or when it is answered."""

    id: str
    check: TypeCheck
    when_empty: RelationCheck | None
    when_given: RelationCheck | None
    own: bool = False
    """A repeat's field whose relation check reads only its own record's fields: it
    is run on the record itself, which holds every one of them, rather than on the
    record over the form's values (the same answers, read faster)."""


class _FieldPlans(NamedTuple):
    """The plans of a list of input fields, and their ids (to read the answers in one go)."""

    ids: tuple[str, ...]
    plans: tuple[_FieldPlan, ...]


_Pending = tuple[str, RelationCheck, Any, Mapping[str, Any]]
"""A relation check waiting for the computed fields: the error key, the check, the
field's value, and what its expressions read (the form's values, or a record over them)."""

_UNKNOWN: Any = object()


def _check_answers(fields: _FieldPlans, given: Mapping[str, Any], into: dict[str, Any],
                   errors: dict[str, list[str]], prefix: str, context: FormContext,
                   pending: list[_Pending], scope: Mapping[str, Any]) -> None:
    """Type-check each answer of ``given`` into ``into`` (the form's values, or a record),
    errors keyed ``prefix + field id``; queue each relation check that applies, to
    be run on ``scope`` once the computed fields are known. The one loop over a
    list of fields, for the form's and for each record of a repeat."""
    for (field_id, check, when_empty, when_given, own), raw in zip(fields.plans, map(given.get, fields.ids),
                                                                    strict=True):
        if raw is not None:
            try:
                value = check(raw, context)
            except Rejected as rejected:
                into[field_id] = rejected.value
                errors.setdefault(prefix + field_id, []).append(rejected.message)
                continue
            if value is not UNANSWERED:
                into[field_id] = value
                if when_given is not None:
                    pending.append((prefix + field_id, when_given, value, into if own else scope))
                continue
        if when_empty is not None:
            pending.append((prefix + field_id, when_empty, None, into if own else scope))


@dataclass(frozen=True)
class FormContext:
    """What validation needs beyond the answers: the campaign's settings and today."""

    monitoring_line: float = 7600.0
    start: dt.date | None = None
    end: dt.date | None = None
    today: dt.date | None = None

    def settings(self) -> dict[str, Any]:
        return {"monitoring_line": self.monitoring_line}

    def today_in_china(self) -> dt.date:
        return self.today or dt.datetime.now(CHINA).date()


@dataclass
class Validation:
    values: dict[str, Any]
    errors: dict[str, list[str]]
    flags: dict[str, bool]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Choice:
    code: str
    label: str
    label_en: str
    when: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Field:
    id: str
    section: str
    label: str
    label_en: str
    type: str
    required: bool | str = False
    household: bool = False
    choices: tuple[Choice, ...] = ()
    spec: Mapping[str, Any] = field(default_factory=dict)
    fields: tuple[Field, ...] = ()
    """A repeat's fields (one record per member); empty for any other type."""

    def get(self, key: str, default: Any = None) -> Any:
        return self.spec.get(key, default)

    @property
    def choice_by_code(self) -> dict[str, Choice]:
        return _choices_by_code(self.choices)

    @property
    def max_len(self) -> int:
        return int(self.spec.get("max_len", DEFAULT_TEXT_MAX))

    def choice_label(self, code: Any) -> str:
        for choice in self.choices:
            if choice.code == code:
                return choice.label
        return "" if code is None else str(code)


class FormDefinition:
    """One version of the form; immutable after loading."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.version: str = str(raw["version"])
        self.title: str = raw["title"]
        self.messages: dict[str, str] = dict(raw["messages"])
        self.sections: list[dict[str, str]] = list(raw["sections"])
        self.money_max: int | float | None = raw.get("money_max")
        self.fields: list[Field] = [self._field(_money_bounds(spec, self.money_max)) for spec in raw["fields"]]
        self.by_id: dict[str, Field] = {f.id: f for f in self.fields}
        self.checks: list[dict[str, str]] = list(raw.get("checks", []))
        self.flags: list[dict[str, str]] = list(raw.get("flags", []))
        for expression in self._expressions():
            compile_expression(expression)
        self._plan()

    @classmethod
    def _field(cls, spec: Mapping[str, Any], section: str | None = None) -> Field:
        choices = tuple(
            Choice(str(c["code"]), c["label"], c.get("label_en", c["label"]), c.get("when"), c.get("reason"))
            for c in spec.get("choices", [])
        )
        sub = tuple(cls._field(item, spec["id"]) for item in spec.get("fields", ())) if spec["type"] == "repeat" else ()
        if spec["type"] == "repeat" and (not sub or any(s.type == "repeat" for s in sub)):
            raise ValueError(f"repeat {spec['id']!r} needs fields, and no repeat inside")
        return Field(
            id=spec["id"], section=section or spec["section"], label=spec["label"],
            label_en=spec.get("label_en", spec["label"]), type=spec["type"],
            required=spec.get("required", False), household=bool(spec.get("household", False)),
            choices=choices, spec=dict(spec), fields=sub,
        )

    @property
    def repeats(self) -> list[Field]:
        return [f for f in self.fields if f.type == "repeat"]

    def _expressions(self) -> list[str]:
        found: list[str] = []
        for f in [*self.fields, *(s for r in self.repeats for s in r.fields)]:
            if f.get("active"):
                found.append(f.get("active"))
            for key in ("visible", "empty_unless", "formula"):
                if f.get(key):
                    found.append(f.get(key))
            if isinstance(f.required, str):
                found.append(f.required)
            found.extend(c.when for c in f.choices if c.when)
        for check in self.checks:
            found += [check["when"], check["require"]]
        found += [flag["rule"] for flag in self.flags]
        return found

    @property
    def household_fields(self) -> list[Field]:
        return [f for f in self.fields if f.household]

    @property
    def input_fields(self) -> list[Field]:
        return [f for f in self.fields if f.type != "computed"]

    def message(self, key: str, f: Field, **kwargs: Any) -> str:
        return self.messages[key].format(label=f.label, **kwargs)

    def to_json(self) -> dict[str, Any]:
        """The definition as served at ``/api/v1/form`` (the phone evaluates it as is)."""
        fields = []
        for f in self.fields:
            item = {k: v for k, v in f.spec.items() if k != "choices"}
            item.setdefault("required", False)
            item["household"] = f.household
            if f.choices:
                item["choices"] = [
                    {k: v for k, v in (("code", c.code), ("label", c.label), ("label_en", c.label_en),
                                       ("when", c.when), ("reason", c.reason)) if v is not None}
                    for c in f.choices
                ]
            fields.append(item)
        return {
            "version": self.version, "title": self.title, "title_en": self.raw.get("title_en"),
            "sections": self.sections, "fields": fields, "checks": self.checks,
            "flags": self.flags, "messages": self.messages,
        }

    # -- validation ---------------------------------------------------------

    def validate(self, data: Mapping[str, Any], context: FormContext | None = None) -> Validation:
        """Normalise and check ``data``; compute the computed fields and flags.

        Runs once per pushed record, so what depends only on the definition
        (the checker of each type, the limits, compiled expressions) is worked
        out once in :meth:`_plan`, and messages are formatted only for errors.
        The order is that of docs/visit-form.md: unknown fields, each field's type,
        computed fields, each field against the others (only for fields
        without an error so far), the cross-field checks, the flags.

        :param data: answers keyed by field id, JSON-typed as in docs/visit-form.md
        :param context: campaign settings and today's date
        """
        context = context or FormContext()
        errors: dict[str, list[str]] = {}
        values = self._no_values.copy()  # every key, in order, so no insertion below grows it
        if not self._ids.issuperset(data):
            for key in data:
                if key not in self.by_id:
                    errors.setdefault(str(key), []).append(self.messages["unknown_field"])
        # What the expressions read: the values, and with a repeat only its records that
        # count; filled once the records are checked (the checks queued meanwhile hold it).
        scope: dict[str, Any] = {} if self._repeats else values
        # Relation checks need the computed fields, so they wait, each with what it reads.
        pending: list[_Pending] = []
        _check_answers(self._fields, data, values, errors, "", context, pending, scope)
        settings = context.settings()
        if self._repeats:
            # Records first (their types and computed fields); the form's expressions
            # then see only the records that count (``active``).
            active = [(repeat.id, repeat.check_records(values, errors, context, pending, scope))
                      for repeat in self._repeats]
            scope.update(values)
            scope.update(active)
        self._compute(values, scope)
        for key, relation, value, where in pending:
            error = relation(value, where, settings)
            if error:
                errors.setdefault(key, []).append(error)
        for repeat in self._repeats:
            repeat.check_unique(values, errors)
        # Checks often share their condition (``count(members) > 0``): each distinct
        # one is evaluated once, when a check first needs it (expressions have no side effects).
        conditions: list[Any] = [_UNKNOWN] * len(self._conditions)
        for field_id, condition, require, message in self._cross_checks:
            if field_id in errors:
                continue
            applies = conditions[condition]
            if applies is _UNKNOWN:
                applies = conditions[condition] = self._conditions[condition](scope, settings)
            if applies and not require(scope, settings):
                errors.setdefault(field_id, []).append(message)
        return Validation(values=values, errors=errors, flags=self._flag_values(scope, settings))

    def _compute(self, values: dict[str, Any], scope: dict[str, Any]) -> None:
        for field_id, formula in self._formulas:
            values[field_id] = scope[field_id] = formula(scope, _NO_SETTINGS)  # formulas read no campaign setting

    def active_records(self, repeat_id: str, records: Any) -> Any:
        """The records of a repeat that count (its ``active`` rule: members not 迁出 or 死亡)."""
        plan = next((r for r in self._repeats if r.id == repeat_id), None)
        return plan.active_records(records) if plan is not None else records

    def complete_records(self, repeat_id: str, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``records`` of a repeat with the fields it computes worked out where a record
        lacks them (a roster's members sheet gives only the answers), as validate works
        them out; a record that has them is returned as it is."""
        plan = next(r for r in self._repeats if r.id == repeat_id)
        return [plan.complete(record) for record in records]

    def scope(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` as the form's expressions see them: a repeat holds only its
        records that count (those whose ``active`` rule holds)."""
        scope = dict(values)
        for repeat in self._repeats:
            scope[repeat.id] = repeat.active_records(values.get(repeat.id))
        return scope

    def compute_flags(self, values: Mapping[str, Any], context: FormContext) -> dict[str, bool]:
        return self._flag_values(self.scope(values) if self._repeats else values, context.settings())

    def _flag_values(self, values: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, bool]:
        scope = dict(values)  # later rules read earlier flags; the values must not gain them
        flags: dict[str, bool] = {}
        for flag_id, rule in self._flag_rules:
            flags[flag_id] = scope[flag_id] = bool(rule(scope, settings))
        return flags

    # -- the plan: what validate does per field, worked out once -------------

    def _plan(self) -> None:
        """Work out once what validate does per record: checkers with their
        limits read, expressions compiled, fields with nothing to check
        against the others left without a relation check."""
        if len(self.by_id) != len(self.fields):
            raise ValueError(f"form {self.version}: field ids must be unique")
        self._ids = frozenset(self.by_id)
        self._input_ids = tuple(f.id for f in self.input_fields)
        # validate's values: the answers in field order, then the computed fields
        self._no_values: dict[str, Any] = dict.fromkeys(
            [*self._input_ids, *(f.id for f in self.fields if f.type == "computed")]
        )
        self._fields = self._field_plans(self.input_fields)
        self._formulas: list[tuple[str, Evaluator]] = [
            (f.id, _rule(f.get("formula"))) for f in self.fields if f.type == "computed"
        ]
        conditions = list(dict.fromkeys(check["when"] for check in self.checks))  # distinct, in order
        self._conditions: list[Evaluator] = [compiled(when) for when in conditions]
        self._cross_checks: list[tuple[str, int, Evaluator, str]] = [
            (check["field"], conditions.index(check["when"]), compiled(check["require"]), check["message"])
            for check in self.checks
        ]
        self._flag_rules: list[tuple[str, Evaluator]] = [
            (flag["id"], compiled(flag["rule"])) for flag in self.flags
        ]
        self._repeats = [_RepeatPlan(self, f) for f in self.repeats]

    def _field_plans(self, fields: list[Field], record: frozenset[str] = frozenset()) -> _FieldPlans:
        """What validate does for each of ``fields``: the form's inputs, or those of a
        repeat's records (``record``: the ids of every field of such a record)."""
        plans = tuple(_FieldPlan(f.id, self._type_check(f), self._when_empty(f), self._when_given(f),
                                 bool(record) and _reads(f) <= record) for f in fields)
        return _FieldPlans(tuple(f.id for f in fields), plans)

    def _type_check(self, f: Field) -> TypeCheck:
        """The checker of ``f``'s type, with the field's limits already read."""
        if f.type not in TYPE_CHECKS:
            raise ValueError(f"field {f.id!r} has an unknown type {f.type!r}")
        return TYPE_CHECKS[f.type](self, f)

    def _when_empty(self, f: Field) -> RelationCheck | None:
        """The error for an unanswered field: required, or required by an expression."""
        if isinstance(f.required, bool) and not f.required:
            return None
        key = "required_choice" if f.type in {"choice", "multi", "yesno"} else "required"
        if isinstance(f.required, bool):
            return lambda value, values, settings: self.message(key, f)
        required = _rule(f.required)

        def check(value: Any, values: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
            return self.message(key, f) if required(values, settings) else None

        return check

    def _when_given(self, f: Field) -> RelationCheck | None:
        """The checks of an answered field against the others, in their order:
        ``empty_unless``, ``max_field``, then the ``when`` of each chosen code."""
        steps: list[RelationCheck] = []
        empty_unless = f.get("empty_unless")
        if empty_unless:
            allowed = compiled(empty_unless)
            steps.append(lambda value, values, settings: (
                None if allowed(values, settings) else self.message("empty", f)))
        max_field = f.get("max_field")
        if max_field:
            steps.append(self._at_most_other(f, max_field))
        if (f.type == "choice" or f.type == "multi") and any(c.when for c in f.choices):
            steps.append(self._choices_allowed(f))
        if len(steps) <= 1:
            return steps[0] if steps else None

        def check(value: Any, values: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
            for step in steps:
                error = step(value, values, settings)
                if error:
                    return error
            return None

        return check

    def _at_most_other(self, f: Field, other: str) -> RelationCheck:
        def check(value: Any, values: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
            limit = values.get(other)
            if limit is not None and value > limit:
                return self.message("max_field", f, other=self.by_id[other].label)
            return None

        return check

    def _choices_allowed(self, f: Field) -> RelationCheck:
        """Codes whose choice has a ``when`` must have it true (the answer has
        passed its type check, so each code is in the table)."""
        table = {code: (choice, compiled(choice.when) if choice.when else None)
                 for code, choice in f.choice_by_code.items()}

        def check(value: Any, values: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
            for code in value if isinstance(value, list) else [value]:
                choice, allowed = table[code]
                if allowed is not None and not allowed(values, settings):
                    return self.message("choice_not_allowed", f, value=choice.label,
                                        reason=choice.reason or "不可选")
            return None

        return check

    def item_key(self, repeat: str, index: int, field_id: str) -> str:
        """The error key of a record's field: ``members.0.id_number`` (index from 0)."""
        return f"{repeat}.{index}.{field_id}"

    # -- the HTML form's strings --------------------------------------------

    def coerce_strings(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """Turn an HTML form's strings into JSON values; unparseable input stays a
        string so that ``validate`` reports it with the usual message."""
        data: dict[str, Any] = {}
        for f in self.input_fields:
            if f.type == "multi":
                getter = getattr(form, "getlist", None)
                items = getter(f.id) if getter else form.get(f.id)
                data[f.id] = [i for i in (items or []) if i] or None
                continue
            raw = form.get(f.id)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                data[f.id] = None
            elif f.type == "yesno":
                data[f.id] = {"true": True, "1": True, "yes": True, "是": True,
                              "false": False, "0": False, "no": False, "否": False}.get(str(raw).strip(), raw)
            elif f.type in {"int", "money"}:
                data[f.id] = _parse_number(str(raw))
            elif f.type == "repeat" and isinstance(raw, str):
                data[f.id] = _parse_json(raw)
            else:
                data[f.id] = raw
        return data


def _money_bounds(spec: Mapping[str, Any], limit: int | float | None) -> Mapping[str, Any]:
    """A money field's spec with the form's ``money_max`` as its bounds where it
    names none (``-money_max`` below); a bound beyond ``money_max`` is an error
    in the definition. Every money answer is then checked against finite bounds
    before any arithmetic on it."""
    if spec.get("type") != "money" or limit is None:
        return spec
    bounded = {"min": -limit, "max": limit, **spec}
    for key in ("min", "max"):
        bound = bounded[key]
        if not isinstance(bound, int | float) or isinstance(bound, bool) or abs(bound) > limit:
            raise ValueError(f"field {spec['id']!r}: {key} must be a number within money_max ({limit:g})")
    return bounded


def _parse_number(text: str) -> Any:
    text = text.strip().replace(",", "").replace("，", "")
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _parse_json(text: str) -> Any:
    """A repeat written as JSON text (the web form's field); unparseable text stays text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _reads(f: Field) -> set[str]:
    """The field ids that ``f``'s relation checks read (see ``_when_empty`` and ``_when_given``)."""
    expressions = [f.required] if isinstance(f.required, str) else []
    expressions += [f.get("empty_unless")] + [c.when for c in f.choices]
    names = {name for source in expressions if source for name in names_in(source)}
    return names | {f.get("max_field")} - {None}


def _rule(source: Any) -> Evaluator:
    """A compiled expression; a value that is not an expression fails when
    used, as it always did (only expression strings are checked at load)."""
    if isinstance(source, str):
        return compiled(source)
    return lambda data, settings: evaluate(source, data, settings)


class _RepeatPlan:
    """What validate does for a repeat's records: each record's fields are
    checked as the form's are (type, computed, then relations against the
    record's and the form's values), errors keyed ``members.<i>.<field>``."""

    def __init__(self, form: FormDefinition, f: Field) -> None:
        self.form = form
        self.id = f.id
        self.field = f
        self.ids = frozenset(s.id for s in f.fields)
        inputs = [s for s in f.fields if s.type != "computed"]
        self.fields = form._field_plans(inputs, self.ids)
        self.formulas = [(s.id, _rule(s.get("formula"))) for s in f.fields if s.type == "computed"]
        self.empty: dict[str, Any] = dict.fromkeys([*(s.id for s in inputs), *(fid for fid, _ in self.formulas)])
        self.active = compiled(f.get("active")) if f.get("active") else None
        self.unique: str | None = f.get("unique")

    def complete(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        missing = [(field_id, formula) for field_id, formula in self.formulas if field_id not in record]
        if not missing:
            return record
        completed = dict(record)
        for field_id, formula in missing:
            completed[field_id] = formula(completed, _NO_SETTINGS)
        return completed

    def active_records(self, records: Any) -> Any:
        if not isinstance(records, list) or self.active is None:
            return records
        return [r for r in records if isinstance(r, Mapping) and self.active(r, _NO_SETTINGS)]

    def check_records(self, values: dict[str, Any], errors: dict[str, list[str]], context: FormContext,
                      pending: list[_Pending], scope: Mapping[str, Any]) -> Any:
        """Normalise each record of ``values[self.id]`` in place; queue their relation
        checks (each on the record over ``scope``, the form's values once complete);
        return the records that count (``None`` if none given)."""
        raw = values.get(self.id)
        if not isinstance(raw, list):
            return raw
        records: list[dict[str, Any]] = []
        ids = self.ids
        for index, given in enumerate(raw):
            record = self.empty.copy()
            prefix = self.form.item_key(self.id, index, "")
            if not ids.issuperset(given):
                for key in given:
                    if key not in ids:
                        errors.setdefault(prefix + str(key), []).append(self.form.messages["unknown_field"])
            _check_answers(self.fields, given, record, errors, prefix, context, pending, RecordScope(record, scope))
            for field_id, formula in self.formulas:
                record[field_id] = formula(record, _NO_SETTINGS)
            records.append(record)
        values[self.id] = records
        return self.active_records(records)

    def check_unique(self, values: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
        """The ``unique`` field's answers differ between records (a later one names the first)."""
        records = values.get(self.id)
        if not self.unique or not isinstance(records, list):
            return
        first: dict[Any, int] = {}
        sub = next(s for s in self.field.fields if s.id == self.unique)
        for index, record in enumerate(records):
            value = record.get(self.unique)
            key = self.form.item_key(self.id, index, self.unique)
            if value is None or key in errors:
                continue
            if value in first:
                errors[key] = [self.form.message("duplicate", sub, other=first[value] + 1)]
            else:
                first[value] = index


@cache
def _choices_by_code(choices: tuple[Choice, ...]) -> dict[str, Choice]:
    return {c.code: c for c in choices}


DEFAULT_VERSION = "2023.1"


@cache
def load_form(version: str = DEFAULT_VERSION) -> FormDefinition:
    """The form definition of ``version``; raises KeyError for a version we cannot read."""
    path = FORMS_DIR / f"{version}.yaml"
    if not re.fullmatch(r"[0-9A-Za-z.\-]+", version) or not path.exists():
        raise KeyError(version)
    with path.open(encoding="utf-8") as handle:
        return FormDefinition(yaml.safe_load(handle))


def available_versions() -> list[str]:
    return sorted(p.stem for p in FORMS_DIR.glob("*.yaml"))
