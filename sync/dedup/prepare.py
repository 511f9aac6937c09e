"""Normalised matching features of one household record.

Data shape: :class:`Prepared` is what the scorer compares, computed once per
record (the bulk run prepares a million of them, so every step here has a
fast path for the common case and caches by distinct value: names, groups,
hamlets and birth dates repeat a lot, ID numbers and phones do not).

ID numbers end in one of five states: ``VALID`` (18 characters, real birth
date, correct MOD 11-2 check character), ``UPGRADED`` (an old 15-digit number,
turned into its 18-digit form), ``INVALID18`` (18 characters of the right
shape whose check character or birth date is wrong: typically a typo),
``OTHER`` (anything else that was typed, including what Excel makes of a
long number: 4.20281E+17, or 18 digits ending in 000 with a wrong check) and
``MISSING``.

Names are compared by the pinyin of each character separately (a name is
not a phrase, and pypinyin's phrase dictionary reads 曾伟 as "ceng wei"), with
every reading of the surname kept so that heteronyms such as 曾 (zeng/ceng),
单 (shan/dan) or 解 (xie/jie) are compared on every reading.

Hamlets are compared with and without their ending (王祖湾, 王祖塆, 王祖,
王祖村 are one hamlet) and by the pinyin of what is left (王组湾).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from sync.dedup.record import RecordLike
from sync.idnumber import CHECK_CHARS, normalize_id
from sync.normalize import normalize_group, normalize_hamlet, normalize_name, normalize_phone

VALID, UPGRADED, INVALID18, OTHER, MISSING = 0, 1, 2, 3, 4
STATE_NAMES = {VALID: "valid", UPGRADED: "upgraded", INVALID18: "invalid18", OTHER: "other",
               MISSING: "missing"}
_DIGITS = frozenset("0123456789")


@dataclass(slots=True)
class Prepared:
    key: str
    id_value: str          # normalised; 15-digit numbers upgraded to 18
    id_typed: str          # normalised as typed (before the upgrade)
    id_state: int
    name: str
    py: tuple[str, ...]    # default reading per character
    readings: tuple[frozenset[str], ...]
    sounds: tuple[str, ...]  # every way the whole name can be read (see name_features)
    village: int | None
    town: int | None
    group: str
    hamlet: str
    hamlet_base: str       # without its 湾/村 ending
    hamlet_py: str         # pinyin of hamlet_base
    phone: str
    size: int | None

    @property
    def id_ok(self) -> bool:
        """A checksum-valid number (18 digits, or a 15-digit one upgraded)."""
        return self.id_state <= UPGRADED

    @property
    def birth_year(self) -> int | None:
        """The birth year an 18-character number carries (trusted only when valid)."""
        year = self.id_value[6:10]
        return int(year) if self.id_state <= INVALID18 and year.isdigit() else None

    @property
    def pinyin_text(self) -> str:
        return " ".join(self.py)


def check_char_of(first17: str) -> str:
    """The MOD 11-2 check character of 17 ASCII digits.

    The weights are 2^(18-i) mod 11 and 13 = 2 (mod 11), so the weighted sum
    is 2 * int(first17, 13) modulo 11: one C-level conversion instead of a
    Python loop over 17 digits (the bulk run does this a million times).
    """
    return CHECK_CHARS[(2 * int(first17, 13)) % 11]


@lru_cache(maxsize=65_536)
def _date_ok(yyyymmdd: str) -> bool:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1900 <= born.year and born <= dt.date.today()


def classify_id(raw: object) -> tuple[str, str, int]:
    """(value, typed, state) of a raw ID number: see the module note for states.

    :param raw: what was typed or read from a file (str, int from a spreadsheet, None)
    """
    if raw is None:
        return "", "", MISSING
    text = raw if isinstance(raw, str) else str(raw)
    if not (text.isascii() and text.isalnum()):
        text = normalize_id(text)
    elif "x" in text:
        text = text.upper()
    if not text:
        return "", "", MISSING
    length = len(text)
    if length == 18:
        head = text[:17]
        if text.isascii() and head.isdigit() and (text[17] in _DIGITS or text[17] == "X"):
            if _date_ok(text[6:14]) and check_char_of(head) == text[17]:
                return text, text, VALID
            if text.endswith("000"):
                return text, text, OTHER  # Excel kept 15 digits and zeroed the rest
            return text, text, INVALID18
        return text, text, OTHER
    if length == 15 and text.isdigit() and _date_ok("19" + text[6:12]):
        first17 = text[:6] + "19" + text[6:]
        upgraded = first17 + check_char_of(first17)
        return upgraded, text, UPGRADED
    return text, text, OTHER


@lru_cache(maxsize=16_384)
def char_readings(char: str) -> tuple[str, frozenset[str]]:
    """Default reading and every reading of one character (itself if not Chinese)."""
    from pypinyin import Style, pinyin  # on first use (sync/normalize.py says why)

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="default")
    options = [r.lower() for r in (found[0] if found else []) if r]
    if not options:
        return char.lower(), frozenset({char.lower()})
    return options[0], frozenset(options)


@lru_cache(maxsize=16_384)
def _name_char(char: str, first: bool) -> tuple[str, frozenset[str]]:
    """(default reading, readings compared) of a character at the start or inside a name."""
    default, every = char_readings(char)
    if first or char in NAME_HETERONYMS or len(every) == 1:
        return default, every
    return default, frozenset((default,))


# Given-name characters whose second reading is common in names (长 chang/zhang,
# 乐 le/yue, 重 zhong/chong ...); other characters keep their default reading.
NAME_HETERONYMS = frozenset("长乐重朝行和少传调曾单解查盛朴区仇覃尉种秘缪翟召藏都还率省宿柏蕃")
MAX_SOUNDS = 16


@lru_cache(maxsize=262_144)
def name_features(raw: str) -> tuple[str, tuple[str, ...], tuple[frozenset[str], ...], tuple[str, ...]]:
    """Normalised name, default pinyin per character, readings per character, sounds.

    Every reading is kept for the surname (曾 zeng/ceng, 单 shan/dan, 解 xie/jie:
    the default reading of a surname is often the wrong one) and for the
    given-name characters of :data:`NAME_HETERONYMS`; other characters keep
    their default reading only, since pypinyin lists rare literary readings
    for many common characters (石 dan, 明 ming/meng) that would make
    unrelated given names "sound alike". The sounds are every way the
    whole name can be read (at most ``MAX_SOUNDS``): two names read alike
    exactly when their sounds share one, which lets the bulk run join on
    sounds instead of comparing names pair by pair.
    """
    name = normalize_name(raw)
    pairs = [_name_char(c, i == 0) for i, c in enumerate(name.replace("·", ""))]
    default = tuple(p[0] for p in pairs)
    readings = tuple(p[1] for p in pairs)
    combos = 1
    for options in readings:
        combos *= len(options)
    if combos == 1 or combos > MAX_SOUNDS:
        sounds: tuple[str, ...] = (" ".join(default),)
    else:
        sounds = tuple(" ".join(c) for c in product(*(sorted(r) for r in readings)))
    return name, default, readings, sounds


def surname_readings(raw: str) -> frozenset[str]:
    """Every reading of the surname's first character (the blocking key)."""
    readings = name_features(raw or "")[2]
    return readings[0] if readings else frozenset()


@lru_cache(maxsize=262_144)
def name_keys(raw: str) -> tuple[str, ...]:
    """The keys under which a name meets the names it may have been typed as.

    Every sound of the name; for names of three or more characters also each
    sound with the given name's characters swapped (贺善银 / 贺银善) and each
    sound with one given-name character left out, which is what a one-character
    typo (孟金晨 / 孟全晨) or a dropped character (周孝华 / 周华) shares with the
    right name. The surname is never left out: it is what the name is filed under.
    """
    name, default, readings, sounds = name_features(raw)
    keys = dict.fromkeys(sounds)
    if len(readings) >= 3:
        for sound in sounds:
            syllables = sound.split(" ")
            keys[" ".join((syllables[0], *reversed(syllables[1:])))] = None
            for i in range(1, len(syllables)):
                keys[" ".join(syllables[:i] + syllables[i + 1:])] = None
    return tuple(keys)


@lru_cache(maxsize=65_536)
def group_label(raw: str) -> str:
    return normalize_group(raw)


_HAMLET_ENDINGS = ("湾", "村")


@lru_cache(maxsize=65_536)
def hamlet_features(raw: str) -> tuple[str, str, str]:
    """Normalised hamlet (塆 → 湾, full-width, spaces), the same without its
    湾/村 ending, and the pinyin of that (for homophones)."""
    hamlet = normalize_hamlet(raw)
    base = hamlet[:-1] if len(hamlet) > 1 and hamlet.endswith(_HAMLET_ENDINGS) else hamlet
    return hamlet, base, " ".join(char_readings(c)[0] for c in base)


def phone_value(raw: object) -> str:
    if raw is None or raw == "":
        return ""
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) == 11 and text.isascii() and text.isdigit():
        return text
    return normalize_phone(text)


def prepare(record: RecordLike, classified: tuple[str, str, int] | None = None) -> Prepared:
    """The matching features of one record.

    :param record: a household as the roster or a visit gives it
    :param classified: ``classify_id(record.head_id)`` when the caller has it already
    """
    id_value, id_typed, state = classified or classify_id(record.head_id)
    name, py, readings, sounds = name_features(record.head_name or "")
    hamlet, hamlet_base, hamlet_py = hamlet_features(record.hamlet or "")
    # Positional: this runs a million times in a bulk run.
    return Prepared(record.id, id_value, id_typed, state, name, py, readings, sounds,
                    record.village_id, record.town_id, group_label(record.group or ""), hamlet,
                    hamlet_base, hamlet_py, phone_value(record.phone), record.size)
