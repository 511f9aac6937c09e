"""Chinese resident ID numbers (GB 11643-1999).

An ID is 6 digits of region, 8 of birth date (YYYYMMDD), 3 of sequence (odd
for men) and one check character computed by MOD 11-2 over the first 17.
Old 15-digit IDs (region, YYMMDD, sequence) predate the check character.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from operator import mul

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_ZERO_WEIGHTS = ord("0") * sum(WEIGHTS)
_ID15 = re.compile(r"^\d{15}$")
_SEPARATORS = re.compile(r"[\s\-]")
_EXCEL_EXPONENT = re.compile(r"\d(\.\d+)?E\+?\d+")
_EXCEL_ZEROS = re.compile(r"\d{15,18}\.0+")


def normalize_id(raw: object) -> str:
    """Full-width to half-width, spaces removed, x to X.

    :param raw: what was typed or read from a file
    :returns: the cleaned string (possibly still invalid)
    """
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    if not text.isalnum():  # no letter or digit is a space or a dash (checked over all of Unicode)
        text = _SEPARATORS.sub("", text)
    return text.upper()


def check_char(first17: str) -> str:
    """The GB 11643 MOD 11-2 check character for 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def _check_char17(digits: str) -> str:
    """``check_char`` of 17 characters that ``\\d`` matched, faster: ASCII digits
    (all of them, after NFKC, in practice) are summed as bytes in C, less 48
    (``"0"``) times each weight; other Unicode digits go through ``int``."""
    if digits.isascii():
        return CHECK_CHARS[(sum(map(mul, digits.encode(), WEIGHTS)) - _ZERO_WEIGHTS) % 11]
    return CHECK_CHARS[sum(map(mul, map(int, digits), WEIGHTS)) % 11]


def birth_date(id_number: str) -> dt.date | None:
    """The birth date encoded in a normalised 18- or 15-digit ID, or None."""
    try:
        if len(id_number) == 18:
            return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        if len(id_number) == 15:
            return dt.date(1900 + int(id_number[6:8]), int(id_number[8:10]), int(id_number[10:12]))
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class IdCheck:
    value: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def looks_excel_mangled(raw: object) -> bool:
    """True for what Excel makes of an 18-digit number: 4.20281E+17 or trailing zeros."""
    if isinstance(raw, float):
        return True
    if isinstance(raw, int) and len(str(raw)) >= 15:
        return True
    return _excel_text(normalize_id(raw))


def _excel_text(text: str) -> bool:
    """A normalised ID that Excel wrote as a number; both shapes need an E or a dot."""
    return ("E" in text or "." in text) and bool(
        _EXCEL_EXPONENT.fullmatch(text) or _EXCEL_ZEROS.fullmatch(text)
    )


def validate_id(raw: object, today: dt.date | None = None) -> IdCheck:
    """Validate an 18-character ID number; messages in Chinese, as the form shows them.

    :param raw: the typed value
    :param today: the reference date for "birth date in the future"
    """
    return IdCheck(*check_id(raw, today))


def check_id(raw: object, today: dt.date | None = None) -> tuple[str, str | None]:
    """:func:`validate_id` as a plain pair, for the form validator, which
    checks one per pushed record.

    :param raw: the typed value
    :param today: the reference date for "birth date in the future"
    :returns: the normalised value and the Chinese error, or ``None``
    """
    value = normalize_id(raw)
    if not value:
        return value, "请填写身份证号"
    # looks_excel_mangled(raw), without normalising raw a second time
    if isinstance(raw, float) or isinstance(raw, int) and len(str(raw)) >= 15 or _excel_text(value):
        return value, "身份证号被 Excel 转成了数字（科学计数法或末位变 0），请把该列设为文本后重新填写"
    if len(value) != 18:
        return value, f"身份证号应为18位，现为{len(value)}位"
    # ^\d{17}[\dX]$ on 18 characters, without the regex engine (\d is str.isdecimal)
    if not (value[:17].isdecimal() and (value[17] == "X" or value[17].isdecimal())):
        return value, "身份证号格式错误：前17位应为数字，最后一位为数字或X"
    born = birth_date(value)
    today = today or dt.date.today()
    if born is None or born.year < 1900 or born > today:
        return value, "身份证号中的出生日期无效"
    if _check_char17(value[:17]) != value[17]:
        return value, "身份证号校验位错误"
    return value, None


def is_valid_id(raw: object) -> bool:
    return validate_id(raw).ok


def upgrade_15_to_18(id15: str) -> str | None:
    """Turn an old 15-digit ID into its 18-digit form (century 19 inserted)."""
    if not _ID15.match(id15):
        return None
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_char(first17)


def make_id(region: str, born: dt.date, sequence: int) -> str:
    """Build a valid 18-digit ID (for demo and test data only)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def mask_id(value: str | None) -> str:
    """420281********1234: first 6 and last 4 kept."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(0, len(value) - 2)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678 for mobiles; landlines keep area code and last 2."""
    if not value:
        return ""
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[-4:]
    return value[:4] + "*" * max(0, len(value) - 6) + value[-2:]
