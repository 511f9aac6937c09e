"""Seeded synthetic rosters with duplicates, hard negatives and the ground truth.

Data shape: :func:`generate` returns :class:`SynthData`: the records (a
shuffled list of :class:`~sync.dedup.HouseholdRecord`, fake IDs with valid
checksums), ``truth`` (index pairs ``a < b`` that are one household, with the
error kinds of the copy) and ``hard_negatives`` (index pairs that look alike
but are two households, with their kind).

Geography follows the reference town (domain.md §7): counties of twenty
towns, towns of thirty villages of about 450 households, clan surnames per
village, hamlets named after them (王祖湾), groups 1组…12组, heads born
1935–1998, most registered in the county's region code.

Duplicate copies carry one to three error kinds (:data:`ERROR_KINDS`); the
spouse-as-householder kind cannot be found by rule (two different valid
numbers are never proposed) and is kept to show that cost honestly.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from sync.dedup import HouseholdRecord
from sync.idnumber import make_id

REGIONS = ("420281", "420222", "420202", "420204", "420205", "420203", "420582", "421125")
SURNAMES = (
    "李张王刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "柯单解查仇")
CLAN_SURNAMES = "尹刘陈邓陶柯石黄吴李张王"
GIVEN = (
    "伟明华英兰军国芳红平刚强丽杰建林海秀桂友春文金生志凤德福荣贵富永长清玉云珍"
    "新光宝兴安祥成小中大东水山发天正家庆桃梅菊花娥翠香")
HOMOPHONES = [
    "伟炜玮为威维", "明鸣铭", "华桦骅", "英瑛莺", "兰岚澜", "军君均钧", "国帼", "芳方",
    "红宏鸿洪", "平萍苹坪", "刚钢纲", "强蔷", "丽莉俐利", "杰洁捷婕", "建健剑键", "林琳霖淋",
    "秀绣", "桂贵", "友有佑", "春椿", "文雯纹", "金今津", "生升声", "志智治至", "凤峰锋丰",
    "德得", "福富甫", "荣容蓉", "永勇涌", "长常昌", "清青卿", "玉育钰", "云芸耘", "珍贞祯",
    "新欣鑫", "光广", "宝保", "兴星", "安庵", "祥翔", "成城诚", "中忠钟", "东冬", "水税",
    "山珊杉", "发法", "天田添", "正政", "家佳嘉", "庆青", "桃陶", "梅玫", "菊桔", "花华",
    "娥鹅", "翠萃", "香湘", "祖组", "湾弯",
]
SURNAME_HOMOPHONES = ["刘柳", "张章", "王汪", "李黎理", "吴武伍", "徐许", "杨阳", "程成", "陶桃"]
HAMLET_MIDDLE = "家祖庄塘山垅咀畈"
CN_NUMBERS = "零一二三四五六七八九十"
_SIMP_TO_TRAD = {"刘": "劉", "陈": "陳", "张": "張", "黄": "黃", "吴": "吳", "赵": "趙", "邓": "鄧",
                 "华": "華", "国": "國", "军": "軍", "东": "東", "伟": "偉", "红": "紅", "兰": "蘭",
                 "凤": "鳳", "云": "雲", "万": "萬", "兴": "興", "荣": "榮", "龙": "龍", "飞": "飛",
                 "强": "強", "丽": "麗", "湾": "灣", "贵": "貴", "宝": "寶", "杨": "楊", "许": "許",
                 "郑": "鄭", "谢": "謝", "韩": "韓", "冯": "馮", "蒋": "蔣", "孙": "孫", "罗": "羅"}

ERROR_KINDS = (
    "plain", "homophone_name", "homophone_surname", "id_substitution", "id_swap", "group_format",
    "group_dui", "full_width", "spaces", "lower_x", "traditional", "phone_missing", "old_15",
    "hamlet_wan", "hamlet_homophone", "size_changed", "id_missing", "spouse_head",
)
_KIND_WEIGHTS = {
    "plain": 10, "homophone_name": 12, "homophone_surname": 3, "id_substitution": 10,
    "id_swap": 8, "group_format": 8, "group_dui": 4, "full_width": 5, "spaces": 5, "lower_x": 2,
    "traditional": 4, "phone_missing": 8, "old_15": 3, "hamlet_wan": 4, "hamlet_homophone": 4,
    "size_changed": 5, "id_missing": 2, "spouse_head": 1,
}
HARD_NEGATIVE_KINDS = ("family", "twins", "father_son", "relative_id")


@dataclass
class SynthData:
    records: list[HouseholdRecord]
    truth: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=dict)
    hard_negatives: dict[tuple[int, int], str] = field(default_factory=dict)
    seed: int = 0

    def kind_counts(self) -> Counter[str]:
        return Counter(kind for kinds in self.truth.values() for kind in kinds)


@dataclass
class _Person:
    name: str
    id_number: str
    born: dt.date


@dataclass
class _Household:
    head: _Person
    town: int
    village: int
    group: int
    hamlet: str
    phone: str
    size: int
    spouse: _Person | None = None


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used: set[str] = set()
        self.homophone = {c: group for group in HOMOPHONES for c in group}
        self.surname_homophone = {c: group for group in SURNAME_HOMOPHONES for c in group}
        self.phones = 0

    def person_id(self, region: str, born: dt.date, male: bool) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            value = make_id(region, born, seq)
            if value not in self.used:
                self.used.add(value)
                return value

    def birth(self, first_year: int, last_year: int) -> dt.date:
        start = dt.date(first_year, 1, 1).toordinal()
        return dt.date.fromordinal(self.rng.randrange(start, dt.date(last_year, 12, 31).toordinal()))

    def given(self, avoid: str = "") -> str:
        pool = [c for c in GIVEN if c not in avoid]
        return "".join(self.rng.choice(pool) for _ in range(1 if self.rng.random() < 0.3 else 2))

    def phone(self) -> str:
        self.phones += 1
        return f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"


def generate(n_records: int, seed: int, dup_rate: float = 0.08,
             hard_negative_rate: float = 0.05) -> SynthData:
    """A shuffled synthetic roster of about ``n_records`` records.

    :param n_records: records wanted (households plus duplicate copies)
    :param seed: the random seed; the same seed gives the same data
    :param dup_rate: duplicate copies per household
    :param hard_negative_rate: look-alike distinct households per household
    """
    b = _Builder(seed)
    rng = b.rng
    base_count = max(10, round(n_records / (1 + dup_rate)))
    households: list[_Household] = []
    hard: list[tuple[int, int, str]] = []
    village_id = 0
    town_id = 0
    while len(households) < base_count:
        town_id += 1
        county = (town_id - 1) // 20
        region = REGIONS[county % len(REGIONS)]
        for _ in range(30):
            village_id += 1
            clans = rng.sample(CLAN_SURNAMES, 3)
            groups = rng.randrange(6, 13)
            hamlets = {g: [f"{rng.choice(clans)}{rng.choice(HAMLET_MIDDLE)}湾"
                           for _ in range(rng.randrange(1, 4))] for g in range(1, groups + 1)}
            for _ in range(rng.randrange(380, 520)):
                if len(households) >= base_count:
                    break
                surname = rng.choice(clans) if rng.random() < 0.6 else rng.choice(SURNAMES)
                male = rng.random() < 0.85
                born = b.birth(1935, 1998)
                own_region = region if rng.random() < 0.9 else rng.choice(REGIONS)
                head = _Person(surname + b.given(), b.person_id(own_region, born, male), born)
                spouse_born = b.birth(born.year - 3, min(born.year + 3, 2000))
                spouse = _Person(rng.choice(SURNAMES) + b.given(),
                                 b.person_id(rng.choice(REGIONS), spouse_born, not male), spouse_born)
                group = rng.randrange(1, groups + 1)
                h = _Household(head, town_id, village_id, group, rng.choice(hamlets[group]),
                               b.phone() if rng.random() < 0.8 else "", rng.randrange(1, 7), spouse)
                households.append(h)
                if rng.random() < hard_negative_rate and len(households) < base_count:
                    kind = rng.choices(HARD_NEGATIVE_KINDS, weights=(60, 12, 16, 12))[0]
                    households.append(_hard_negative(b, h, kind, own_region))
                    hard.append((len(households) - 2, len(households) - 1, kind))

    raw: list[tuple[int, _Household, tuple[str, ...]]] = [(i, h, ()) for i, h in enumerate(households)]
    copies = round(len(households) * dup_rate)
    for i in rng.sample(range(len(households)), copies):
        kinds = _pick_kinds(rng)
        raw.append((i, households[i], kinds))

    order = list(range(len(raw)))
    rng.shuffle(order)
    records: list[HouseholdRecord] = [None] * len(raw)  # type: ignore[list-item]
    position = {}
    for new_index, old_index in enumerate(order):
        household_index, h, kinds = raw[old_index]
        records[new_index] = _record(b, f"H{new_index:07d}", h, kinds)
        position[old_index] = new_index
    data = SynthData(records, seed=seed)
    for old_index in range(len(households), len(raw)):
        original = position[raw[old_index][0]]
        copy = position[old_index]
        data.truth[(min(original, copy), max(original, copy))] = raw[old_index][2]
    for x, y, kind in hard:
        px, py = position[x], position[y]
        data.hard_negatives[(min(px, py), max(px, py))] = kind
    return data


def _hard_negative(b: _Builder, h: _Household, kind: str, region: str) -> _Household:
    """A different household that looks like ``h`` (same hamlet, group, often phone)."""
    rng = b.rng
    surname = h.head.name[0]
    given = h.head.name[1:]
    male = True
    phone = h.phone if rng.random() < 0.6 else b.phone()
    if kind == "twins":
        born = h.head.born
        name = surname + (given[0] + rng.choice(GIVEN) if len(given) == 2 else b.given(given))
        person = _Person(name, b.person_id(h.head.id_number[:6], born, male), born)
    elif kind == "father_son":
        older = rng.random() < 0.5
        years = rng.randrange(22, 36) * (-1 if older else 1)
        year = min(2000, max(1925, h.head.born.year + years))
        born = b.birth(year, year)
        person = _Person(h.head.name, b.person_id(region, born, male), born)
    elif kind == "relative_id":
        # A son's own household, recorded with his father's ID number by mistake.
        born = b.birth(min(h.head.born.year + 20, 2000), min(h.head.born.year + 35, 2000))
        name = surname + b.given(avoid=given + "".join(b.homophone.get(c, c) for c in given))
        person = _Person(name, h.head.id_number, born)
    else:  # family: a brother or cousin heading his own household
        year = min(2000, max(1930, h.head.born.year + rng.randrange(-12, 13)))
        born = b.birth(year, year)
        name = surname + b.given()
        if name == h.head.name:
            name = surname + b.given(avoid=given)
        person = _Person(name, b.person_id(region, born, male), born)
    return _Household(person, h.town, h.village, h.group, h.hamlet, phone, rng.randrange(1, 7))


def _pick_kinds(rng: random.Random) -> tuple[str, ...]:
    kinds = list(_KIND_WEIGHTS)
    weights = list(_KIND_WEIGHTS.values())
    count = rng.choices((1, 2, 3), weights=(50, 35, 15))[0]
    chosen: list[str] = []
    while len(chosen) < count:
        kind = rng.choices(kinds, weights=weights)[0]
        if kind not in chosen:
            chosen.append(kind)
    if "spouse_head" in chosen:
        return ("spouse_head",)
    if "id_missing" in chosen:
        chosen = [k for k in chosen if k not in ("id_substitution", "id_swap", "old_15", "lower_x",
                                                  "full_width")]
    id_kinds = [k for k in chosen if k in ("id_substitution", "id_swap", "old_15")]
    for extra in id_kinds[1:]:
        chosen.remove(extra)
    return tuple(chosen)


def _record(b: _Builder, key: str, h: _Household, kinds: tuple[str, ...]) -> HouseholdRecord:
    rng = b.rng
    name, id_number = h.head.name, h.head.id_number
    group = f"{h.group}组"
    hamlet, phone, size = h.hamlet, h.phone, h.size
    if "spouse_head" in kinds and h.spouse is not None:
        name, id_number = h.spouse.name, h.spouse.id_number
    for kind in kinds:
        if kind == "homophone_name":
            positions = [i for i in range(1, len(name)) if name[i] in b.homophone]
            if positions:
                i = rng.choice(positions)
                name = name[:i] + rng.choice(b.homophone[name[i]].replace(name[i], "")) + name[i + 1:]
        elif kind == "homophone_surname" and name[0] in b.surname_homophone:
            name = rng.choice(b.surname_homophone[name[0]].replace(name[0], "")) + name[1:]
        elif kind == "id_substitution":
            i = rng.randrange(18)
            options = "0123456789X" if i == 17 else "0123456789"
            id_number = id_number[:i] + rng.choice(options.replace(id_number[i], "")) + id_number[i + 1:]
        elif kind == "id_swap":
            positions = [i for i in range(16) if id_number[i] != id_number[i + 1]]
            i = rng.choice(positions)
            id_number = id_number[:i] + id_number[i + 1] + id_number[i] + id_number[i + 2:]
        elif kind == "old_15" and id_number[6:8] == "19":
            id_number = id_number[:6] + id_number[8:17]
        elif kind == "group_format":
            group = rng.choice((f"{_cn(h.group)}组", f"第{_cn(h.group)}村民小组", f"第{h.group}组",
                                f"{h.group:02d}组"))
        elif kind == "group_dui":
            group = rng.choice((f"{_cn(h.group)}队", f"{h.group}队"))
        elif kind == "full_width":
            id_number = full_width(id_number)
            phone = full_width(phone)
        elif kind == "spaces":
            name = " ".join(name) if rng.random() < 0.5 else name[0] + " " + name[1:]
            id_number = f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}"
        elif kind == "lower_x":
            id_number = id_number.lower() if id_number.endswith("X") else " " + id_number + " "
        elif kind == "traditional":
            name = "".join(_SIMP_TO_TRAD.get(c, c) for c in name)
            hamlet = "".join(_SIMP_TO_TRAD.get(c, c) for c in hamlet)
        elif kind == "phone_missing":
            phone = ""
        elif kind == "hamlet_wan":
            hamlet = hamlet.replace("湾", "塆")
        elif kind == "hamlet_homophone":
            positions = [i for i in range(len(hamlet) - 1) if hamlet[i] in b.homophone]
            if positions:
                i = rng.choice(positions)
                hamlet = hamlet[:i] + rng.choice(b.homophone[hamlet[i]].replace(hamlet[i], "")) + hamlet[i + 1:]
        elif kind == "size_changed":
            size = max(1, size + rng.choice((-1, 1)))
        elif kind == "id_missing":
            id_number = ""
    return HouseholdRecord(id=key, village_id=h.village, head_name=name, head_id=id_number,
                           phone=phone or None, group=group, hamlet=hamlet, size=size, town_id=h.town)


def _cn(number: int) -> str:
    if number <= 10:
        return CN_NUMBERS[number]
    return "十" + CN_NUMBERS[number - 10]


def full_width(text: str) -> str:
    """The full-width form of ASCII letters and digits."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
