"""The visit form as data, and the one validator every path uses.

Shapes: a :class:`FormDefinition` is loaded from ``sync/forms/<version>.yaml``.
``validate(data, context)`` takes the JSON values of visit-form.md (as the API
receives them; the HTML form coerces its strings first with
``coerce_strings``) and returns a :class:`Validation`: the normalised values
(computed fields recomputed), the flags, and ``errors`` as
``{field_id: [Chinese message, ...]}``, exactly the shape of a push result.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from sync.expr import compile_expression, evaluate
from sync.idnumber import validate_id
from sync.normalize import normalize_group, normalize_name, normalize_phone, phone_error

FORMS_DIR = Path(__file__).parent / "forms"
CHINA = ZoneInfo("Asia/Shanghai")
DEFAULT_TEXT_MAX = 200
_NAME = re.compile(r"^[\u3400-\u9fffA-Za-z·]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PNG_PREFIX = "data:image/png;base64,"


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
        self.fields: list[Field] = [self._field(spec) for spec in raw["fields"]]
        self.by_id: dict[str, Field] = {f.id: f for f in self.fields}
        self.checks: list[dict[str, str]] = list(raw.get("checks", []))
        self.flags: list[dict[str, str]] = list(raw.get("flags", []))
        for expression in self._expressions():
            compile_expression(expression)

    @staticmethod
    def _field(spec: Mapping[str, Any]) -> Field:
        choices = tuple(
            Choice(str(c["code"]), c["label"], c.get("label_en", c["label"]), c.get("when"), c.get("reason"))
            for c in spec.get("choices", [])
        )
        return Field(
            id=spec["id"], section=spec["section"], label=spec["label"],
            label_en=spec.get("label_en", spec["label"]), type=spec["type"],
            required=spec.get("required", False), household=bool(spec.get("household", False)),
            choices=choices, spec=dict(spec),
        )

    def _expressions(self) -> list[str]:
        found: list[str] = []
        for f in self.fields:
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

        :param data: answers keyed by field id, JSON-typed as in visit-form.md
        :param context: campaign settings and today's date
        """
        context = context or FormContext()
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for key in data:
            if key not in self.by_id:
                errors.setdefault(str(key), []).append(self.messages["unknown_field"])
        for f in self.input_fields:
            raw = data.get(f.id)
            if _is_empty(raw):
                values[f.id] = None
                continue
            value, error = self._check_type(f, raw, context)
            values[f.id] = value
            if error:
                errors.setdefault(f.id, []).append(error)
        self._compute(values)
        settings = context.settings()
        for f in self.input_fields:
            if f.id in errors:
                continue
            error = self._check_relations(f, values, settings)
            if error:
                errors.setdefault(f.id, []).append(error)
        for check in self.checks:
            if check["field"] in errors:
                continue
            if evaluate(check["when"], values, settings) and not evaluate(check["require"], values, settings):
                errors.setdefault(check["field"], []).append(check["message"])
        flags = self.compute_flags(values, context)
        return Validation(values=values, errors=errors, flags=flags)

    def _compute(self, values: dict[str, Any]) -> None:
        for f in self.fields:
            if f.type == "computed":
                values[f.id] = evaluate(f.get("formula"), values)

    def compute_flags(self, values: Mapping[str, Any], context: FormContext) -> dict[str, bool]:
        scope = dict(values)
        flags: dict[str, bool] = {}
        for flag in self.flags:
            flags[flag["id"]] = bool(evaluate(flag["rule"], scope, context.settings()))
            scope[flag["id"]] = flags[flag["id"]]
        return flags

    def _check_relations(self, f: Field, values: dict[str, Any], settings: Mapping[str, Any]) -> str | None:
        value = values.get(f.id)
        spec = f.spec
        if value is None or value == []:
            required = f.required if isinstance(f.required, bool) else bool(evaluate(f.required, values, settings))
            if required:
                key = "required_choice" if f.type in {"choice", "multi", "yesno"} else "required"
                return self.message(key, f)
            return None
        empty_unless = spec.get("empty_unless")
        if empty_unless and not evaluate(empty_unless, values, settings):
            return self.message("empty", f)
        max_field = spec.get("max_field")
        if max_field and values.get(max_field) is not None and value > values[max_field]:
            return self.message("max_field", f, other=self.by_id[max_field].label)
        if f.type == "choice" or f.type == "multi":
            selected = value if isinstance(value, list) else [value]
            for code in selected:
                choice = f.choice_by_code[code]
                if choice.when and not evaluate(choice.when, values, settings):
                    return self.message("choice_not_allowed", f, value=choice.label, reason=choice.reason or "不可选")
        return None

    def _check_type(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        checker = getattr(self, f"_type_{f.type}")
        result: tuple[Any, str | None] = checker(f, raw, context)
        return result

    def _type_text(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, str):
            return None, self.message("required", f)
        text = raw.strip()
        if f.get("format") == "name":
            text = normalize_name(text)
            if not (2 <= len(text) <= 20 and _NAME.match(text)):
                return text, self.message("name", f)
        allowed_control = _CONTROL.search(text.replace("\n", "").replace("\t", "").replace("\r", ""))
        if allowed_control or (not f.get("multiline") and ("\n" in text or "\r" in text)):
            return text, f"{f.label}含有不可见的控制字符或换行"
        if len(text) > f.max_len:
            return text, self.message("max_len", f, max=f.max_len)
        if f.get("min_len") and len(text) < int(f.get("min_len")):
            return text, self.message("min_len", f, min=f.get("min_len"))
        return text, None

    def _type_id18(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, str):
            return None, f"{f.label}应为文本（18位），不能是数字"
        check = validate_id(raw, context.today_in_china())
        return check.value, check.error

    def _type_phone(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, str):
            return None, f"{f.label}应为文本"
        phone = normalize_phone(raw)
        return phone, phone_error(phone)

    def _type_group(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            return None, self.message("required", f)
        label = normalize_group(f"{raw}组" if isinstance(raw, int) else raw)
        if not label:
            return None, self.message("required", f)
        if len(label) > f.max_len or _CONTROL.search(label):
            return label, self.message("max_len", f, max=f.max_len)
        return label, None

    def _type_int(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or (
            isinstance(raw, float) and not raw.is_integer()
        ):
            return None, self.message("int", f)
        return self._range(f, int(raw))

    def _type_money(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw or raw in (
            float("inf"), float("-inf")
        ):
            return None, self.message("number", f)
        cents = raw * 100
        if abs(cents - round(cents)) > 1e-6:
            return None, self.message("number", f)
        value = int(raw) if float(raw).is_integer() else round(float(raw), 2)
        return self._range(f, value)

    def _range(self, f: Field, value: int | float) -> tuple[Any, str | None]:
        if f.get("min") is not None and value < f.get("min"):
            return value, self.message("min", f, min=f.get("min"))
        if f.get("max") is not None and value > f.get("max"):
            return value, self.message("max", f, max=f.get("max"))
        return value, None

    def _type_yesno(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, bool):
            return None, self.message("yesno", f)
        return raw, None

    def _type_choice(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, str) or raw not in {c.code for c in f.choices}:
            return None, self.message("choice", f)
        return raw, None

    def _type_multi(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        codes = {c.code for c in f.choices}
        if not isinstance(raw, list) or any(not isinstance(c, str) or c not in codes for c in raw):
            return None, self.message("choice", f)
        unique = list(dict.fromkeys(raw))
        if f.get("max_items") and len(unique) > int(f.get("max_items")):
            return unique, self.message("multi_max", f, max=f.get("max_items"))
        return unique, None

    def _type_date(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, str) or not _DATE.match(raw):
            return None, self.message("date", f)
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            return None, self.message("date", f)
        if f.get("not_future") and day > context.today_in_china() + dt.timedelta(days=1):
            return raw, self.message("date_future", f)
        if f.get("within_campaign") and context.start and context.end:
            tolerance = dt.timedelta(days=1)
            if not (context.start - tolerance <= day <= context.end + tolerance):
                return raw, self.message("date_campaign", f, start=context.start, end=context.end)
        return raw, None

    def _type_image(self, f: Field, raw: Any, context: FormContext) -> tuple[Any, str | None]:
        if not isinstance(raw, str) or not raw.startswith(_PNG_PREFIX):
            return None, self.message("image", f)
        try:
            payload = base64.b64decode(raw[len(_PNG_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            return None, self.message("image", f)
        if not payload.startswith(b"\x89PNG\r\n\x1a\n"):
            return None, self.message("image", f)
        max_kb = int(f.get("max_kb", 200))
        if len(payload) > max_kb * 1024:
            return None, self.message("image_size", f, max=max_kb)
        return raw, None

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
            else:
                data[f.id] = raw
        return data


def _parse_number(text: str) -> Any:
    text = text.strip().replace(",", "").replace("，", "")
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


@cache
def _choices_by_code(choices: tuple[Choice, ...]) -> dict[str, Choice]:
    return {c.code: c for c in choices}


@cache
def load_form(version: str = "2023.1") -> FormDefinition:
    """The form definition of ``version``; raises KeyError for a version we cannot read."""
    path = FORMS_DIR / f"{version}.yaml"
    if not re.fullmatch(r"[0-9A-Za-z.\-]+", version) or not path.exists():
        raise KeyError(version)
    with path.open(encoding="utf-8") as handle:
        return FormDefinition(yaml.safe_load(handle))


def available_versions() -> list[str]:
    return sorted(p.stem for p in FORMS_DIR.glob("*.yaml"))
