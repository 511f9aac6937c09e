"""The checkers of the form's field types (text, id18, phone, group, int, money, yesno,
choice, multi, date, image, repeat): each factory reads a field's limits once, when the
form is loaded, and returns the check :class:`sync.form.FormDefinition` runs on every
answer. Kept apart from the definition and its validation order (``sync/form.py``)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from sync.idnumber import check_id
from sync.normalize import normalize_group, normalize_name, normalize_phone, phone_error

if TYPE_CHECKING:
    from sync.form import Field, FormContext


class FormMessages(Protocol):
    """What a checker needs of its form: the message of a failed check."""

    def message(self, key: str, f: Field, **kwargs: Any) -> str: ...


_NAME = re.compile(r"^[\u3400-\u9fffA-Za-z·]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Bidi controls (U+202E shows "abc" as "cba") and zero-width characters: a review page
# would show misleading text, and two equal-looking answers would differ. The joiners
# (ZWNJ, ZWJ) build emoji such as 👨‍👩‍👧 in free text; in a one-line answer they are refused too.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069]")
_JOINERS = re.compile("[\u200c\u200d]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PNG_PREFIX = "data:image/png;base64,"
_ONE_DAY = dt.timedelta(days=1)
_EXACT_FLOAT_INT = 2**53
_INFINITIES = (math.inf, -math.inf)

TypeCheck = Callable[[Any, "FormContext"], Any]
"""A field type's check of an answer other than ``None``: the normalised value
(never ``None`` or ``[]``), ``UNANSWERED`` for an empty answer (``""``,
blanks, ``[]``: see :func:`is_empty`), or :class:`Rejected`. Each checker
tests emptiness itself, after the cheap test for the type it expects."""

class Rejected(Exception):
    """An answer that failed its type check: the value kept for it, and the message.

    An exception rather than a returned pair, since most answers are valid:
    the usual path then builds and unpacks nothing."""

    def __init__(self, value: Any, message: str) -> None:
        super().__init__(message)
        self.value = value
        self.message = message


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


UNANSWERED: Any = object()


def _empty_or_not_text(raw: Any, message: Callable[[], str]) -> bool:
    """For an answer to a text-typed field: false for text to check as usual
    (a non-blank ``str`` at once, or a ``str`` subclass), true if it is empty,
    :class:`Rejected` with ``message()`` if it is not text at all."""
    if type(raw) is str and raw.strip():
        return False
    if is_empty(raw):
        return True
    if not isinstance(raw, str):
        raise Rejected(None, message())
    return False


def _has_control(text: str, multiline: bool) -> bool:
    """Control characters, or line breaks in a one-line field (callers skip
    printable text, which has neither)."""
    return bool(_CONTROL.search(text)) or (not multiline and ("\n" in text or "\r" in text))


# Checkers by field type: each factory reads the field's limits once, at load.
# A checker first tests for the type it expects, then for an empty answer.

def _text(form: FormMessages, f: Field) -> TypeCheck:
    is_name = f.get("format") == "name"
    multiline = bool(f.get("multiline"))
    max_len = f.max_len
    min_len = f.get("min_len")
    shortest = int(min_len) if min_len else 0

    def check(raw: Any, context: FormContext) -> Any:
        if type(raw) is str:
            text = raw.strip()
            if not text:
                return UNANSWERED
        elif _empty_or_not_text(raw, lambda: form.message("required", f)):
            return UNANSWERED
        else:
            text = raw.strip()
        if is_name:
            text = normalize_name(text)
            if not (2 <= len(text) <= 20 and _NAME.match(text)):
                raise Rejected(text, form.message("name", f))
        if not text.isprintable():
            if _INVISIBLE.search(text) or (not multiline and _JOINERS.search(text)):
                raise Rejected(text, form.message("invisible", f))
            if _has_control(text, multiline):
                raise Rejected(text, f"{f.label}含有不可见的控制字符或换行")
        if len(text) > max_len:
            raise Rejected(text, form.message("max_len", f, max=max_len))
        if len(text) < shortest:
            raise Rejected(text, form.message("min_len", f, min=min_len))
        return text

    return check


def _id18(form: FormMessages, f: Field) -> TypeCheck:
    def check(raw: Any, context: FormContext) -> Any:
        if _empty_or_not_text(raw, lambda: f"{f.label}应为文本（18位），不能是数字"):
            return UNANSWERED
        value, error = check_id(raw, context.today_in_china())
        if error:
            raise Rejected(value, error)
        return value

    return check


def _phone(form: FormMessages, f: Field) -> TypeCheck:
    def check(raw: Any, context: FormContext) -> Any:
        if _empty_or_not_text(raw, lambda: f"{f.label}应为文本"):
            return UNANSWERED
        phone = normalize_phone(raw)
        error = phone_error(phone)
        if error:
            raise Rejected(phone, error)
        return phone

    return check


# A village has a dozen group labels, written a few ways: normalising each
# spelling once saves most of the cost of a group answer (as roster import does).
_group_label = lru_cache(maxsize=4096)(normalize_group)


def _group(form: FormMessages, f: Field) -> TypeCheck:
    max_len = f.max_len

    def check(raw: Any, context: FormContext) -> Any:
        if type(raw) is str:
            if not raw.strip():
                return UNANSWERED
            label = _group_label(raw)
        elif is_empty(raw):
            return UNANSWERED
        elif not isinstance(raw, str | int) or isinstance(raw, bool):
            raise Rejected(None, form.message("required", f))
        else:
            label = normalize_group(f"{raw}组" if isinstance(raw, int) else raw)
        if not label:
            raise Rejected(None, form.message("required", f))
        if not label.isprintable() and (_INVISIBLE.search(label) or _JOINERS.search(label)):
            raise Rejected(label, form.message("invisible", f))
        if len(label) > max_len or _CONTROL.search(label):
            raise Rejected(label, form.message("max_len", f, max=max_len))
        return label

    return check


def _check_range(form: FormMessages, f: Field) -> tuple[Callable[[int | float], None], float, float]:
    """The ``min``/``max`` check of a number, and bounds for a quick
    ``low <= value <= high`` that passes only numbers the check accepts (so
    the check runs only when it fails): a missing bound is infinite, and a
    bound that is not a number makes the quick test fail always."""
    low, high = f.get("min"), f.get("max")

    def check(value: int | float) -> None:
        if low is not None and value < low:
            raise Rejected(value, form.message("min", f, min=low))
        if high is not None and value > high:
            raise Rejected(value, form.message("max", f, max=high))

    if not all(bound is None or isinstance(bound, int | float) for bound in (low, high)):
        return check, math.inf, -math.inf
    return check, -math.inf if low is None else low, math.inf if high is None else high


def _int(form: FormMessages, f: Field) -> TypeCheck:
    check_range, low, high = _check_range(form, f)

    def check(raw: Any, context: FormContext) -> Any:
        if type(raw) is int and low <= raw <= high:
            return raw
        if is_empty(raw):
            return UNANSWERED
        if isinstance(raw, bool) or not isinstance(raw, int | float) or (
            isinstance(raw, float) and not raw.is_integer()
        ):
            raise Rejected(None, form.message("int", f))
        check_range(int(raw))
        return int(raw)

    return check


def _money(form: FormMessages, f: Field) -> TypeCheck:
    check_range, low, high = _check_range(form, f)
    # whole yuan that a float holds exactly have nothing to round
    low_yuan, high_yuan = max(low, -_EXACT_FLOAT_INT), min(high, _EXACT_FLOAT_INT)

    def check(raw: Any, context: FormContext) -> Any:
        if type(raw) is int and low_yuan <= raw <= high_yuan:
            return raw
        if type(raw) is not float or not math.isfinite(raw):  # the general test, for anything else
            if is_empty(raw):
                return UNANSWERED
            if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != raw or (
                raw in _INFINITIES
            ):
                raise Rejected(None, form.message("number", f))
        if not -_EXACT_FLOAT_INT <= raw <= _EXACT_FLOAT_INT:
            # Bounds first: past 2**53 no float has cents, and past ~1.8e306
            # ``raw * 100`` is infinite (whose ``round`` raises). The value is
            # not kept, so that no computed field adds such numbers up either.
            try:
                check_range(raw)
            except Rejected as beyond:
                raise Rejected(None, beyond.message) from None
            raise Rejected(None, form.message("number", f))
        cents = raw * 100
        if abs(cents - round(cents)) > 1e-6:
            raise Rejected(None, form.message("number", f))
        value = int(raw) if float(raw).is_integer() else round(float(raw), 2)
        if not low <= value <= high:
            check_range(value)
        return value

    return check


def _yesno(form: FormMessages, f: Field) -> TypeCheck:
    def check(raw: Any, context: FormContext) -> Any:
        if raw is True or raw is False:
            return raw
        if is_empty(raw):
            return UNANSWERED
        raise Rejected(None, form.message("yesno", f))

    return check


def _choice(form: FormMessages, f: Field) -> TypeCheck:
    codes = frozenset(c.code for c in f.choices)
    answerable = frozenset(code for code in codes if code.strip())  # a blank answer is empty

    def check(raw: Any, context: FormContext) -> Any:
        if type(raw) is str and raw in answerable:
            return raw
        if is_empty(raw):
            return UNANSWERED
        if not isinstance(raw, str) or raw not in codes:
            raise Rejected(None, form.message("choice", f))
        return raw

    return check


def _multi(form: FormMessages, f: Field) -> TypeCheck:
    codes = frozenset(c.code for c in f.choices)
    max_items = f.get("max_items")
    most = int(max_items) if max_items else 0

    def check(raw: Any, context: FormContext) -> Any:
        if is_empty(raw):
            return UNANSWERED
        if not isinstance(raw, list):
            raise Rejected(None, form.message("choice", f))
        for code in raw:
            if not isinstance(code, str) or code not in codes:
                raise Rejected(None, form.message("choice", f))
        unique = list(dict.fromkeys(raw))
        if most and len(unique) > most:
            raise Rejected(unique, form.message("multi_max", f, max=max_items))
        return unique

    return check


def _date(form: FormMessages, f: Field) -> TypeCheck:
    not_future = bool(f.get("not_future"))
    within_campaign = bool(f.get("within_campaign"))

    def check(raw: Any, context: FormContext) -> Any:
        if _empty_or_not_text(raw, lambda: form.message("date", f)):
            return UNANSWERED
        if not _DATE.match(raw):
            raise Rejected(None, form.message("date", f))
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise Rejected(None, form.message("date", f)) from None
        if not_future and day > context.today_in_china() + _ONE_DAY:
            raise Rejected(raw, form.message("date_future", f))
        if within_campaign and context.start and context.end:
            if not (context.start - _ONE_DAY <= day <= context.end + _ONE_DAY):
                raise Rejected(raw, form.message("date_campaign", f, start=context.start, end=context.end))
        return raw

    return check


def _decode_base64(text: str) -> bytes:
    """``base64.b64decode(text, validate=True)``, faster for valid data: what
    strict mode decodes, that decodes identically (tested exhaustively up to
    8 characters); anything strict mode refuses takes the original path,
    which decides."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return base64.b64decode(text, validate=True)


def png_payload(raw: Any) -> bytes | None:
    """The PNG file inside an ``image`` answer (``data:image/png;base64,…``).

    :param raw: the answer as stored
    :returns: the file's bytes, or None when ``raw`` is not a base64 PNG data URL
    """
    if not isinstance(raw, str) or not raw.startswith(_PNG_PREFIX):
        return None
    try:
        payload = _decode_base64(raw[len(_PNG_PREFIX):])
    except (binascii.Error, ValueError):
        return None
    return payload if payload.startswith(b"\x89PNG\r\n\x1a\n") else None


def _image(form: FormMessages, f: Field) -> TypeCheck:
    max_kb = int(f.get("max_kb", 200))

    def check(raw: Any, context: FormContext) -> Any:
        if _empty_or_not_text(raw, lambda: form.message("image", f)):
            return UNANSWERED
        payload = png_payload(raw)
        if payload is None:
            raise Rejected(None, form.message("image", f))
        if len(payload) > max_kb * 1024:
            raise Rejected(None, form.message("image_size", f, max=max_kb))
        return raw

    return check


def _repeat(form: FormMessages, f: Field) -> TypeCheck:
    """The shape of a repeat answer: a list of at most ``max_items`` objects
    (each record is checked field by field afterwards, by :class:`_RepeatPlan`)."""
    most = int(f.get("max_items", 20))

    def check(raw: Any, context: FormContext) -> Any:
        if is_empty(raw):
            return UNANSWERED
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            raise Rejected(None, form.message("repeat", f))
        if len(raw) > most:
            raise Rejected(None, form.message("repeat_max", f, max=most))
        return raw

    return check


TYPE_CHECKS: dict[str, Callable[[FormMessages, Field], TypeCheck]] = {
    "text": _text, "id18": _id18, "phone": _phone, "group": _group, "int": _int, "money": _money,
    "yesno": _yesno, "choice": _choice, "multi": _multi, "date": _date, "image": _image,
    "repeat": _repeat,
}
