"""Normalisation of the labels people type differently: groups, phones, names.

Group labels: "3组", "三组", "第三村民小组", "3队", "三队", "第3组", "03组"
all normalise to the canonical "3组". Names: spaces and full-width forms
removed, common traditional characters mapped to simplified.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}

# A short table of the traditional forms that show up in rural rosters.
_TRAD_TO_SIMP = str.maketrans({
    "劉": "刘", "陳": "陈", "張": "张", "王": "王", "黃": "黄", "吳": "吴", "趙": "赵",
    "鄧": "邓", "陶": "陶", "華": "华", "國": "国", "軍": "军", "東": "东", "偉": "伟",
    "紅": "红", "蘭": "兰", "鳳": "凤", "雲": "云", "萬": "万", "興": "兴", "榮": "荣",
    "龍": "龙", "飛": "飞", "強": "强", "麗": "丽", "買": "买", "賣": "卖", "開": "开",
    "門": "门", "鄉": "乡", "灣": "湾", "塆": "湾", "組": "组", "隊": "队", "學": "学",
    "貴": "贵", "寶": "宝", "鐵": "铁", "銀": "银", "錢": "钱", "馬": "马", "葉": "叶",
    "楊": "杨", "許": "许", "鄭": "郑", "謝": "谢", "韓": "韩", "馮": "冯", "蔣": "蒋",
    "歐": "欧", "陽": "阳", "孫": "孙", "羅": "罗", "嚴": "严", "顧": "顾", "蕭": "萧",
    "鍾": "钟", "尹": "尹", "柯": "柯", "塘": "塘",
})


def chinese_number(text: str) -> int | None:
    """Parse 1..99 written as 三, 十二, 二十, 二十三 or as digits."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        tens_value = _CN_DIGITS[tens] if tens else 1
        ones_value = _CN_DIGITS[ones] if ones else 0
        return tens_value * 10 + ones_value
    if len(text) == 1:
        return _CN_DIGITS[text]
    return None


_SPACES = re.compile(r"\s+")
_PHONE_NOISE = re.compile(r"[\s()（）]")
_GROUP = re.compile(r"^第?(?P<n>[0-9一二三四五六七八九十两零〇]+)(?:村民小组|村民组|小组|组|队|生产队)$")


def normalize_text(value: object) -> str:
    """NFKC (full-width to half-width), no inner spaces, traditional to simplified."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    if " " in text or not text.isprintable():  # any other space is unprintable
        text = _SPACES.sub("", text)
    return text.translate(_TRAD_TO_SIMP)


def normalize_group(value: object) -> str:
    """Canonical group label: "3组" for every spelling of group three, a bare 3 included.

    A label that is not a numbered group (e.g. "新村组") is returned cleaned.
    """
    text = normalize_text(value)
    if text.isdecimal():  # a bare number is the group's (a spreadsheet cell of 3, "03")
        return f"{int(text)}组" if int(text) > 0 else text
    match = _GROUP.match(text)
    if match:
        number = chinese_number(match.group("n"))
        if number is not None and number > 0:
            return f"{number}组"
    return text


def group_number(label: str) -> int | None:
    match = re.fullmatch(r"(\d+)组", label)
    return int(match.group(1)) if match else None


def normalize_name(value: object) -> str:
    """Names: cleaned text; the middle dot of minority names kept as ·."""
    text = normalize_text(value)
    return text.replace("•", "·").replace("‧", "·").replace("・", "·")


def normalize_hamlet(value: object) -> str:
    return normalize_text(value)


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalize_phone(value: object) -> str:
    """Digits only for mobiles (+86 dropped); landlines keep one dash after the area code."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    if not text.isdigit():  # digits alone have no space or bracket to drop
        text = _PHONE_NOISE.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if text.startswith("0") and "-" not in text and _LANDLINE.match(text):
        area = 4 if text[:4] in {"0714"} or len(text) == 12 else 3
        text = f"{text[:area]}-{text[area:]}"
    return text


def phone_error(value: str) -> str | None:
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return None
    return "联系电话应为11位手机号（1开头）或带区号的固定电话（如 0714-1234567）"


# Readings pypinyin gets wrong in names: surnames read differently from the
# common word (曾 zeng, 单 shan, 解 xie ...) and given-name characters whose
# default reading is the rarer one in names (长 chang, not zhang).
_COMPOUND_SURNAMES = {"尉迟": ("yu", "chi"), "万俟": ("mo", "qi"), "单于": ("chan", "yu")}
_SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "朴": "piao", "仇": "qiu", "区": "ou", "查": "zha",
    "盖": "ge", "尉": "wei", "覃": "qin", "翟": "zhai", "缪": "miao", "乐": "yue", "召": "shao",
    "种": "chong", "秘": "bi", "繁": "po", "员": "yun", "柏": "bai", "折": "she", "长": "chang",
}
_GIVEN_READINGS = {"长": "chang"}


# pypinyin is imported on first use, here and in sync/dedup/prepare.py: loading its
# dictionaries takes half a second, which every process start (each ``fieldapp``
# command, each server worker) paid whether or not it read a name.
def _char_pinyin(char: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(char, errors="default")[0].lower()  # a character pinyin lacks stays itself


@lru_cache(maxsize=200_000)
def name_pinyin(name: str) -> tuple[str, str]:
    """("wang jian guo", "wjg") for 王建国; surnames and given names read as names are
    (曾 zeng, 张长忠 zhang chang zhong); letters of non-Chinese names kept lower-case."""
    chars = [c for c in name if c.strip() and c != "·"]
    syllables: list[str] = []
    text = "".join(chars)
    if text[:2] in _COMPOUND_SURNAMES:
        syllables += _COMPOUND_SURNAMES[text[:2]]
        rest = chars[2:]
    elif chars:
        syllables.append(_SURNAME_READINGS.get(chars[0]) or _char_pinyin(chars[0]))
        rest = chars[1:]
    else:
        rest = []
    syllables += [_GIVEN_READINGS.get(c) or _char_pinyin(c) for c in rest]
    full = " ".join(syllables)
    initials = "".join(s[0] for s in syllables if s and s[0].isalpha())
    return full, initials


def _gb2312_characters() -> list[str]:
    """The 6,763 characters of GB 2312 (levels 1 and 2): nearly every character of a name."""
    found = []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.append(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return found


@lru_cache(maxsize=1)
def name_pinyin_table() -> dict[str, object]:
    """What a phone needs to compute :func:`name_pinyin` offline, as JSON.

    ``readings`` maps each reading to the characters of GB 2312 whose reading in a
    name (:func:`_char_pinyin`) it is; ``surnames``, ``given`` and ``compound``
    are the name readings above. A character outside GB 2312 is read as itself
    on the phone (pypinyin may know it here): a rare mismatch, only in search.
    """
    readings: dict[str, list[str]] = {}
    for char in _gb2312_characters():
        readings.setdefault(_char_pinyin(char), []).append(char)
    return {
        "readings": {reading: "".join(chars) for reading, chars in sorted(readings.items())},
        "surnames": dict(sorted(_SURNAME_READINGS.items())),
        "given": dict(sorted(_GIVEN_READINGS.items())),
        "compound": {name: list(syllables) for name, syllables in sorted(_COMPOUND_SURNAMES.items())},
    }


def name_pinyin_style_initials(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
