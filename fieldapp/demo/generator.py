"""The seeded generator of the demo town's roster.

Every figure of ``places`` is reproduced exactly whatever the seed: the
household counts per village are fixed, the numbers of 脱贫户 and of each
monitored kind are drawn without replacement, and household sizes are drawn
per group of households and then nudged one person at a time until they add
up to the group's fixed total. The seed decides who is where, their names,
IDs, phones and sizes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldapp.demo import names
from fieldapp.demo.places import (
    GENERAL_NOT_MONITORED,
    HARDSHIP_LIFTED,
    LIFTED_HOUSEHOLDS,
    LIFTED_PEOPLE,
    MONITORED_BUCKETS,
    PLACES,
    REGION,
    TOTAL_HOUSEHOLDS,
    TOTAL_PEOPLE,
    TOWN_NAME,
    Place,
)
from fieldapp.roster.writer import write_roster
from sync.idnumber import make_id

CATEGORY_LABELS = {"general": "一般农户", "lifted": "脱贫户"}
MONITOR_LABELS = {"none": "", "unstable": "脱贫不稳定户", "marginal": "边缘易致贫户", "hardship": "突发严重困难户"}
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "153", "155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182",
                   "183", "185", "186", "187", "188", "189", "191", "199")
# Size distributions (people per household → weight).
GENERAL_SIZES = {1: 6, 2: 17, 3: 22, 4: 27, 5: 17, 6: 8, 7: 2.5, 8: 0.5}
LIFTED_SIZES = {1: 38, 2: 36, 3: 14, 4: 8, 5: 4}
MONITORED_SIZES = {1: 8, 2: 22, 3: 30, 4: 24, 5: 11, 6: 5}


@dataclass
class DemoHousehold:
    code: str
    village: str
    group: int
    hamlet: str | None
    head_name: str
    head_id: str
    male: bool
    born: dt.date
    phone: str | None
    size: int
    labor_count: int
    category: str
    monitor_type: str
    risk_eliminated: bool | None

    def roster_row(self) -> dict[str, object]:
        """The row as a roster file carries it (labels, not codes)."""
        eliminated = "" if self.risk_eliminated is None else ("是" if self.risk_eliminated else "否")
        return {"code": self.code, "town": TOWN_NAME, "village": self.village, "group": f"{self.group}组",
                "hamlet": self.hamlet or "", "head_name": self.head_name, "head_id": self.head_id,
                "phone": self.phone or "", "size": self.size, "labor_count": self.labor_count,
                "category": CATEGORY_LABELS[self.category], "monitor_type": MONITOR_LABELS[self.monitor_type],
                "risk_eliminated": eliminated}


@dataclass
class _Slot:
    place: Place
    group: int
    hamlet: str | None
    hamlet_clan: str | None
    category: str = "general"
    monitor_type: str = "none"
    eliminated: bool | None = None
    size: int = 0


def sizes_with_total(rng: random.Random, count: int, total: int, weights: Mapping[int, float],
                     low: int = 1, high: int = 10) -> list[int]:
    """``count`` household sizes drawn from ``weights`` and nudged to sum to exactly ``total``."""
    if not count * low <= total <= count * high:
        raise ValueError(f"cannot make {count} households of {total} people")
    options = sorted(weights)
    sizes = rng.choices(options, [weights[o] for o in options], k=count)
    diff = total - sum(sizes)
    while diff:
        i = rng.randrange(count)
        if diff > 0 and sizes[i] < high:
            sizes[i] += 1
            diff -= 1
        elif diff < 0 and sizes[i] > low:
            sizes[i] -= 1
            diff += 1
    return sizes


def _weighted_sample(rng: random.Random, items: Sequence[int], weights: Sequence[float], k: int) -> list[int]:
    """``k`` distinct items, each drawn with probability proportional to its weight (Efraimidis–Spirakis)."""
    keyed = sorted(items, key=lambda i: -(rng.random() ** (1.0 / weights[i])))
    return keyed[:k]


def _slots(rng: random.Random) -> list[_Slot]:
    slots: list[_Slot] = []
    for place in PLACES:
        surnames = names.surname_weights(place.clans)
        group_count = max(5, round(place.households / 40))
        shares = [rng.uniform(0.6, 1.4) for _ in range(group_count)]
        counts = [max(8, int(place.households * s / sum(shares))) for s in shares]
        while sum(counts) != place.households:
            i = rng.randrange(group_count)
            counts[i] += 1 if sum(counts) < place.households else (-1 if counts[i] > 8 else 0)
        fixed = list(place.hamlets)
        for number, count in enumerate(counts, start=1):
            hamlets: list[tuple[str | None, str | None]] = [(None, None)]
            if place.kind == "village":
                hamlets = []
                for _ in range(rng.choice((1, 1, 2, 2, 3))):
                    clan = rng.choices(surnames[0], surnames[1])[0]
                    if fixed:
                        name = fixed.pop(0)
                        clan = next((ch for ch in name if ch in names.SURNAMES), clan)
                    else:
                        name = names.hamlet_name(rng, clan)
                    hamlets.append((name, clan))
            for _ in range(count):
                hamlet, hamlet_clan = rng.choice(hamlets)
                slots.append(_Slot(place, number, hamlet, hamlet_clan))
    if len(slots) != TOTAL_HOUSEHOLDS:
        raise AssertionError(f"village table adds up to {len(slots)} households, not {TOTAL_HOUSEHOLDS}")
    return slots


def _assign_categories(rng: random.Random, slots: list[_Slot]) -> None:
    everyone = list(range(len(slots)))
    lifted = _weighted_sample(rng, everyone, [s.place.lifted_weight for s in slots], LIFTED_HOUSEHOLDS)
    lifted_set = set(lifted)
    general = [i for i in everyone if i not in lifted_set]
    for i in lifted:
        slots[i].category = "lifted"
    # The monitored kinds, each with its exact people total, then spread over households.
    lifted_kinds: list[tuple[str, bool, int]] = []
    general_kinds: list[tuple[str, bool, int]] = []
    hardship: list[tuple[str, bool, int]] = []
    for bucket in MONITORED_BUCKETS:
        sizes = sizes_with_total(rng, bucket.households, bucket.people, MONITORED_SIZES, 1, 8)
        kinds = [(bucket.monitor_type, bucket.eliminated, size) for size in sizes]
        {"unstable": lifted_kinds, "marginal": general_kinds, "hardship": hardship}[bucket.monitor_type].extend(kinds)
    rng.shuffle(hardship)
    lifted_kinds += hardship[:HARDSHIP_LIFTED]
    general_kinds += hardship[HARDSHIP_LIFTED:]
    for pool, kinds in ((lifted, lifted_kinds), (general, general_kinds)):
        for i, (kind, eliminated, size) in zip(rng.sample(pool, len(kinds)), kinds, strict=True):
            slots[i].monitor_type, slots[i].eliminated, slots[i].size = kind, eliminated, size
    rest_lifted = [i for i in lifted if slots[i].monitor_type == "none"]
    rest_general = [i for i in general if slots[i].monitor_type == "none"]
    assert len(rest_general) == GENERAL_NOT_MONITORED  # noqa: S101 - follows from the constants
    lifted_people = LIFTED_PEOPLE - sum(slots[i].size for i in lifted if slots[i].size)
    for i, size in zip(rest_lifted, sizes_with_total(rng, len(rest_lifted), lifted_people, LIFTED_SIZES, 1, 6),
                       strict=True):
        slots[i].size = size
    general_people = TOTAL_PEOPLE - sum(s.size for s in slots)
    for i, size in zip(rest_general, sizes_with_total(rng, len(rest_general), general_people, GENERAL_SIZES),
                       strict=True):
        slots[i].size = size


def _phone(rng: random.Random, elderly: bool) -> str | None:
    roll = rng.random()
    empty, landline = (0.30, 0.45) if elderly else (0.06, 0.12)
    if roll < empty:
        return None
    if roll < landline:
        return f"0714-8{rng.randrange(10**6):06d}"
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def _labor(rng: random.Random, size: int, age: int, category: str) -> int:
    if age >= 70:
        # The old couple rarely works; children living with them usually do.
        younger = max(0, size - 2)
        return min(size, rng.choice((0, 0, 0, 1)) + round(younger * rng.uniform(0.4, 0.8)))
    share = rng.uniform(0.25, 0.6) if category == "lifted" else rng.uniform(0.45, 0.75)
    labor = round(size * share)
    if age < 60 and size >= 1 and labor == 0 and rng.random() < 0.8:
        labor = 1
    return max(0, min(size, labor))


def generate_town(seed: int = 2023) -> list[DemoHousehold]:
    """The 13,740 households of the demo town, in village and group order."""
    rng = random.Random(seed)
    slots = _slots(rng)
    _assign_categories(rng, slots)
    surname_tables = {p.name: names.surname_weights(p.clans) for p in PLACES}
    used_ids: set[str] = set()
    numbers: Counter[str] = Counter()
    households: list[DemoHousehold] = []
    for slot in slots:
        if slot.category == "lifted":
            year = int(rng.triangular(1932, 1978, 1950))
        elif slot.monitor_type != "none":
            year = int(rng.triangular(1940, 1988, 1962))
        else:
            year = int(rng.triangular(1942, 1993, 1966))
        born = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        male = rng.random() < (0.55 if slot.size == 1 else 0.9)
        if slot.hamlet_clan and rng.random() < 0.5:
            head_name = slot.hamlet_clan + names.given_name(rng, male)
        else:
            head_name = names.person_name(rng, surname_tables[slot.place.name], male)
        while True:
            sequence = rng.randrange(1, 999)
            if sequence % 2 != int(male):
                sequence += 1 if sequence < 998 else -1
            head_id = make_id(REGION, born, sequence)
            if head_id not in used_ids:
                used_ids.add(head_id)
                break
        numbers[slot.place.name] += 1
        age = 2023 - year
        households.append(DemoHousehold(
            code=f"{slot.place.full_code}{numbers[slot.place.name]:04d}", village=slot.place.name,
            group=slot.group, hamlet=slot.hamlet, head_name=head_name, head_id=head_id, male=male, born=born,
            phone=_phone(rng, age >= 73 or (slot.category == "lifted" and slot.size == 1)),
            size=slot.size, labor_count=_labor(rng, slot.size, age, slot.category),
            category=slot.category, monitor_type=slot.monitor_type, risk_eliminated=slot.eliminated,
        ))
    return households


def expected_counts(households: Iterable[DemoHousehold]) -> dict[tuple[str, str, str, bool | None], list[int]]:
    """(village, 户类型, 监测对象类别, 风险已消除) → [户, 人]: what the database must hold."""
    table: dict[tuple[str, str, str, bool | None], list[int]] = {}
    for h in households:
        cell = table.setdefault((h.village, h.category, h.monitor_type, h.risk_eliminated), [0, 0])
        cell[0] += 1
        cell[1] += h.size
    return table


def write_town_roster(path: str | Path, seed: int = 2023, *, encoding: str = "utf-8-sig",
                      households: list[DemoHousehold] | None = None) -> Path:
    """Write the demo town's roster (CSV or XLSX by suffix)."""
    rows = households if households is not None else generate_town(seed)
    return write_roster(path, (h.roster_row() for h in rows), encoding=encoding)
