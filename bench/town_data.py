"""A synthetic town for the benchmarks: its roster (30 villages, names, GB 11643 ID numbers,
phones, categories), one realistic visit per household under form 2023.1 or 2024.1 (with
the household's members), and the rows that set the town up in a database.

Used by ``bench/sync_push.py`` (the push), ``bench/dedup_members.py`` (members in dedup)
and ``bench/form_validate.py`` (validation); ``bench/replicate.py`` replicates the town
that ``sync_push.build`` makes.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import struct
import zlib
from typing import Any

VILLAGES = 30
SURNAMES = "王刘陈张李杨黄赵吴周徐孙胡朱高林何郭马罗柯尹曹石"
GIVEN = "建国伟秀英明华红军平志强桂兰友德福春梅金玉海云芳"
# The roster's household columns, as a roster import writes them.
ROSTER_FIELDS = ("head_name", "head_id", "phone", "group", "hamlet", "size", "labor_count", "category",
                 "monitor_type", "risk_eliminated")


# -- roster and visits (form 2023.1) ------------------------------------------------


def signature_png(rng: random.Random, width: int = 240, height: int = 80) -> str:
    """A scribble drawn as a 1-bit PNG, the size a phone's signature pad produces."""
    rows = [bytearray(width // 8) for _ in range(height)]
    x, y = 10, height // 2
    for _ in range(900):
        x = min(width - 1, max(0, x + rng.choice((-1, 0, 1, 1, 2))))
        y = min(height - 1, max(0, y + rng.choice((-2, -1, 0, 1, 2))))
        for dy in (0, 1):
            row = rows[min(height - 1, y + dy)]
            row[x // 8] |= 0x80 >> (x % 8)
        if x >= width - 2:
            x = 10
    raw = b"".join(b"\x00" + bytes(255 - b for b in row) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def roster(households: int, rng: random.Random) -> list[dict[str, Any]]:
    from sync.idnumber import make_id

    rows = []
    weights = [rng.uniform(0.6, 1.4) for _ in range(VILLAGES)]
    weights[0] = 2.2  # the first village is large enough for a 500-household pull
    total = sum(weights)
    sizes = [max(1, round(households * w / total)) for w in weights]
    sizes[-1] += households - sum(sizes)
    n = 0
    for village, size in enumerate(sizes):
        for _ in range(size):
            n += 1
            lifted = rng.random() < 0.048
            monitored = rng.random() < 0.0033
            members = rng.choice((1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7))
            rows.append({
                "village": village, "code": f"4202811012{village:02d}{n:06d}",
                "head_name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
                "head_id": make_id("420281", dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 60 * 365)),
                                   rng.randrange(1, 999)),
                "phone": f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}" if rng.random() < 0.9 else None,
                "group": f"{rng.randrange(1, 12)}组", "hamlet": rng.choice(("王祖湾", "下陈湾", "柯家湾", "石头湾", None)),
                "size": members, "labor_count": min(members, rng.choice((0, 1, 2, 2, 3))),
                "category": "lifted" if lifted else "general",
                "monitor_type": ("unstable" if lifted else "marginal") if monitored else "none",
                "risk_eliminated": (rng.random() < 0.5) if monitored else None,
            })
    return rows


def visit_data(h: dict[str, Any], rng: random.Random, signature: str) -> dict[str, Any]:
    data = {k: h[k] for k in ("head_name", "head_id", "phone", "group", "hamlet", "size", "labor_count",
                              "category", "monitor_type", "risk_eliminated")}
    if rng.random() < 0.03:
        data["phone"] = f"139{rng.randrange(10**7, 10**8)}"
    if rng.random() < 0.01:
        data["size"] = min(20, h["size"] + 1)
    labor = data["labor_count"] or 0
    wage = labor * rng.randrange(8_000, 42_000)
    business = rng.choice((0, 0, rng.randrange(1_000, 20_000)))
    data.update({
        "food_clothing_ok": True, "housing_unsafe": False, "school_dropout": False,
        "medical_uninsured": False, "serious_illness": False, "water_unsafe": False,
        "income_wage": wage, "income_business": business, "business_cost": round(business * 0.3, 2),
        "income_property": rng.choice((0, 0, 200, 800)), "income_transfer": rng.randrange(300, 6_000),
        "work_out_province": min(labor, rng.choice((0, 1, 1, 2))), "work_in_province": 0,
        "work_in_city": 0, "public_welfare_job": 0,
        "conclusion": "continue_monitor" if data["monitor_type"] != "none" and not data["risk_eliminated"]
        else "no_risk",
        "visit_method": "in_person", "visited_on": f"2023-10-{rng.randrange(8, 28):02d}",
        "respondent": h["head_name"], "respondent_relation": "self", "signature": signature,
    })
    if rng.random() < 0.06:  # illness: insured, out-of-pocket costs, a risk to report
        data.update({"serious_illness": True, "out_of_pocket": rng.randrange(2_000, 30_000),
                     "insurance_payout": rng.randrange(0, 10_000), "risk_types": ["illness"],
                     "risk_note": "户主患慢性病，常年服药"})
        if data["monitor_type"] == "none":
            data["conclusion"] = "suggest_monitor"
    if rng.random() < 0.15:
        data["visit_method"], data["respondent_relation"] = "phone", "child"
        data["respondent"] = h["head_name"][0] + "小明"
        del data["signature"]
    return data


# -- household members (form 2024.1) ------------------------------------------------

FEMALE_GIVEN = "秀英兰芳桂梅玉珍春燕丽娟霞红"
MALE_GIVEN = "建国伟明华军平志强德福海云涛"
VISIT_YEAR_START = dt.date(2023, 10, 1)  # the campaign's first day: ages are reckoned from it


class MemberIds:
    """Member ID numbers (GB 11643), unique in the town: the region of the
    county, the birth date, a sequence odd for a man and even for a woman."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng, self.taken = rng, taken

    def make(self, born: dt.date, male: bool) -> str:
        from sync.idnumber import make_id

        while True:
            sequence = self.rng.randrange(0, 499) * 2 + (1 if male else 2)
            id_number = make_id("420281", born, sequence)
            if id_number not in self.taken:
                self.taken.add(id_number)
                return id_number


def _born(rng: random.Random, age: int, on: dt.date = VISIT_YEAR_START) -> dt.date:
    """A birth date that makes someone ``age`` on ``on``."""
    latest = on.replace(year=on.year - age)
    return latest - dt.timedelta(days=rng.randrange(0, 365))


def _age(born: dt.date, on: dt.date = VISIT_YEAR_START) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _name(rng: random.Random, surname: str, male: bool) -> str:
    given = MALE_GIVEN if male else FEMALE_GIVEN
    return surname + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def _person(rng: random.Random, name: str, id_number: str, relation: str, dibao: bool,
            age: int | None = None) -> dict[str, Any]:
    """A member's answers, consistent with the age in the ID number: school by age
    (6–11 小学, 12–14 初中, 15–17 高中 or 中职, some 18–21 in college, no
    dropouts), labour skill by age and health, migrant work only for working-age
    labour, pensions from 16 for those not at school."""
    from sync.idnumber import birth_date

    born = birth_date(id_number)
    assert born is not None
    age = _age(born) if age is None else age
    roll = rng.random()
    if age >= 60:
        health = "chronic" if roll < 0.22 else "serious" if roll < 0.25 else "disabled" if roll < 0.30 else "healthy"
    elif age >= 40:
        health = "chronic" if roll < 0.07 else "serious" if roll < 0.08 else "disabled" if roll < 0.10 else "healthy"
    else:
        health = "chronic" if roll < 0.01 else "disabled" if roll < 0.015 else "healthy"
    if age < 3:
        school = "none"
    elif age < 5:
        school = "preschool" if rng.random() < 0.85 else "none"
    elif age < 6:  # may turn 6 before the visit: at preschool, so no dropout by accident
        school = "preschool"
    elif age < 12:
        school = "primary"
    elif age < 15:
        school = "junior"
    elif age < 18:
        school = "senior" if rng.random() < 0.7 else "secondary_vocational"
    elif age < 22 and rng.random() < 0.45:
        school = rng.choice(("higher_vocational", "undergraduate"))
    else:
        school = "none"
    grade = rng.choice("1234") if health == "disabled" else None
    if age < 16 or school != "none":
        skill = "none"
    elif grade in ("1", "2") or health == "serious":
        skill = "lost"
    elif health in ("disabled", "chronic") or age >= 65:
        skill = rng.choice(("weak", "weak", "none")) if age < 75 else "none"
    elif age >= 60:
        skill = rng.choice(("normal", "weak", "weak"))
    else:
        skill = "skilled" if rng.random() < 0.2 else "normal"
    work = "none"
    if skill in ("normal", "skilled") and age < 60:
        roll = rng.random()
        work = ("out_province" if roll < 0.32 else "in_province" if roll < 0.42 else "in_city" if roll < 0.62
                else "none")
    record: dict[str, Any] = {
        "name": name, "id_number": id_number, "relation": relation, "health": health, "skill": skill,
        "work": work, "school": school, "medical_insured": rng.random() >= 0.002,
        "pension_insured": age >= 16 and school == "none" and rng.random() < 0.96, "dibao": dibao,
    }
    if grade is not None:
        record["disability_type"] = rng.choice(("visual", "hearing", "speech", "physical", "physical",
                                                "intellectual", "mental", "multiple"))
        record["disability_grade"] = grade
    if work != "none":
        record["work_months"] = rng.randrange(3, 13)
    return record


def roster_members(h: dict[str, Any], rng: random.Random, ids: MemberIds) -> list[dict[str, Any]]:
    """2–6 members for a roster household: 本人 (the head, with the head's ID),
    a spouse of the other sex and a few years apart, children at least 20 years
    younger than the head (with a child-in-law and grandchildren for an older
    head), or parents 20–35 years older for a younger head."""
    from sync.idnumber import birth_date

    head_born = birth_date(h["head_id"])
    assert head_born is not None
    head_age, head_male = _age(head_born), int(h["head_id"][16]) % 2 == 1
    surname = h["head_name"][0]
    family_surname = surname if head_male else rng.choice(SURNAMES)  # the children's
    dibao = rng.random() < (0.15 if h["category"] == "lifted" or h["monitor_type"] != "none" else 0.01)
    members = [_person(rng, h["head_name"], h["head_id"], "self", dibao)]

    def add(relation: str, age: int, male: bool, surname_: str) -> None:
        id_number = ids.make(_born(rng, age), male)
        members.append(_person(rng, _name(rng, surname_, male), id_number, relation, dibao, age))

    target = rng.choice((2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6))
    if rng.random() < (0.9 if head_age < 70 else 0.6):
        add("spouse", max(20, head_age + rng.randrange(-5, 6)), not head_male,
            rng.choice(SURNAMES) if head_male else family_surname)
    if head_age < 50:
        for _ in range(rng.randrange(1, 4)):
            if len(members) < target and head_age >= 21:
                add("child", rng.randrange(0, min(head_age - 20, 25)), rng.random() < 0.52, family_surname)
        for male in (True, False):
            if len(members) < target and head_age + 25 < 92 and rng.random() < 0.6:
                add("parent", min(92, head_age + rng.randrange(22, 34)), male,
                    surname if male else rng.choice(SURNAMES))
    else:
        child_age = head_age - rng.randrange(22, 32)
        if len(members) < target:
            son = rng.random() < 0.7
            add("child", child_age, son, family_surname)
            if son and len(members) < target:
                add("child_in_law", max(20, child_age + rng.randrange(-3, 4)), False, rng.choice(SURNAMES))
            for _ in range(2):
                if len(members) < target and child_age >= 21:
                    add("grandchild", rng.randrange(0, min(child_age - 20, 18) + 1), rng.random() < 0.52,
                        family_surname if son else rng.choice(SURNAMES))
    while len(members) < 2:  # a lone head: an elderly head lives with a grown child, a young one with a parent
        if head_age >= 45:
            add("child", head_age - rng.randrange(22, 30), rng.random() < 0.5, family_surname)
        else:
            add("parent", head_age + rng.randrange(22, 30), rng.random() < 0.5, surname)
    return members


def visit_members(h: dict[str, Any], rng: random.Random, ids: MemberIds,
                  visited_on: dt.date) -> list[dict[str, Any]]:
    """The roster's members as the worker records them: mostly unchanged, a few
    changes recorded with their reasons (a baby born this year, a daughter
    married out, an elderly parent who died, a member who went to work away)."""
    members = [dict(m) for m in h["members"]]
    roll = rng.random()
    young = [m for m in members if m["relation"] in ("self", "spouse", "child_in_law")
             and 20 <= _age(birth_date_of(m)) <= 40]
    if roll < 0.01 and young and len(members) < 6:
        born = visited_on - dt.timedelta(days=rng.randrange(10, 250))
        relation = "child" if young[0]["relation"] in ("self", "spouse") else "grandchild"
        baby = _person(rng, _name(rng, h["head_name"][0], rng.random() < 0.5), ids.make(born, rng.random() < 0.5),
                       relation, members[0]["dibao"], 0)
        members.append({**baby, "change": "added", "change_reason": "born"})
    elif roll < 0.02 and len(members) > 2:
        leaving = rng.choice(members[1:])
        reason = "died" if _age(birth_date_of(leaving)) >= 70 else "moved_out"
        leaving.update(change="removed", change_reason=reason)
    elif roll < 0.04:
        working = [m for m in members if m["skill"] in ("normal", "skilled") and m["work"] == "none"
                   and _age(birth_date_of(m)) < 60]
        if working:
            working[0].update(work="out_province", work_months=rng.randrange(3, 10), change="edited")
    return members


def birth_date_of(member: dict[str, Any]) -> dt.date:
    from sync.idnumber import birth_date

    born = birth_date(member["id_number"])
    assert born is not None
    return born


def visit_data_2024(h: dict[str, Any], rng: random.Random, signature: str, ids: MemberIds) -> dict[str, Any]:
    """A 2024.1 visit: the household's members, and the household figures the form
    checks against them (size, labour, the three guarantees, illness and its
    costs) worked out from the members; incomes from who works where."""
    data = {k: h[k] for k in ("head_name", "head_id", "phone", "group", "hamlet", "category", "monitor_type",
                              "risk_eliminated")}
    if rng.random() < 0.03:
        data["phone"] = f"139{rng.randrange(10**7, 10**8)}"
    visited_on = dt.date(2023, 10, rng.randrange(8, 28))
    members = visit_members(h, rng, ids, visited_on)
    active = [m for m in members if m.get("change") != "removed"]
    monthly = {"out_province": (4_000, 7_000), "in_province": (3_500, 6_000), "in_city": (2_800, 4_500)}
    wage = sum(m["work_months"] * rng.randrange(*monthly[m["work"]]) for m in active if m["work"] != "none")
    wage += sum(rng.randrange(2_000, 8_000) for m in active if m["skill"] in ("normal", "skilled", "weak")
                and m["work"] == "none")  # odd jobs near home
    business = rng.choice((0, 0, rng.randrange(1_000, 20_000)))
    ill = [m for m in active if m["health"] in ("chronic", "serious")]
    uninsured = any(not m["medical_insured"] for m in active)
    data.update({
        "size": len(active),
        "labor_count": sum(1 for m in active if m["skill"] in ("normal", "skilled", "weak")),
        "members": members,
        "food_clothing_ok": True, "housing_unsafe": False, "school_dropout": False,
        "medical_uninsured": uninsured, "serious_illness": bool(ill), "water_unsafe": False,
        "income_wage": wage, "income_business": business, "business_cost": round(business * 0.3, 2),
        "income_property": rng.choice((0, 0, 200, 800)),
        "income_transfer": rng.randrange(300, 6_000) + sum(4_800 for m in active if m["dibao"]),
        "public_welfare_job": 0,
        "conclusion": "continue_monitor" if data["monitor_type"] != "none" and not data["risk_eliminated"]
        else "no_risk",
        "visit_method": "in_person", "visited_on": visited_on.isoformat(),
        "respondent": h["head_name"], "respondent_relation": "self", "signature": signature,
    })
    risks, notes = [], []
    if ill:  # insured, out-of-pocket costs; a serious illness is a risk to report
        data.update({"out_of_pocket": rng.randrange(500, 4_000) * len(ill) + sum(
            rng.randrange(10_000, 40_000) for m in ill if m["health"] == "serious"),
            "insurance_payout": rng.randrange(0, 10_000)})
        if any(m["health"] == "serious" for m in ill):
            risks.append("illness")
            notes.append(f"{next(m['name'] for m in ill if m['health'] == 'serious')}患大病，医疗支出大")
    if uninsured:
        if "illness" not in risks:
            risks.append("illness")
        notes.append("有家庭成员未参加基本医疗保险，已动员参保")
    if any(m["health"] == "disabled" and m.get("disability_grade") in ("1", "2") for m in active):
        risks.append("disability")
        notes.append("家有重度残疾人")
    if risks:
        data["risk_types"], data["risk_note"] = risks, "；".join(notes)
        if data["monitor_type"] == "none" and "illness" in risks:
            data["conclusion"] = "suggest_monitor"
    if rng.random() < 0.15:
        data["visit_method"] = "phone"
        del data["signature"]
        grown = [m for m in active if m["relation"] in ("spouse", "child") and _age(birth_date_of(m)) >= 18]
        if grown:
            data["respondent"], data["respondent_relation"] = grown[0]["name"], grown[0]["relation"]
    return data


def with_members(rows: list[dict[str, Any]], rng: random.Random) -> set[str]:
    """Give each roster household its members (form 2024.1); its size and
    labour force follow from them. Returns the ID numbers taken."""
    taken = {r["head_id"] for r in rows}
    ids = MemberIds(rng, taken)
    for r in rows:
        r["members"] = roster_members(r, rng, ids)
        r["size"] = len(r["members"])
        r["labor_count"] = sum(1 for m in r["members"] if m["skill"] in ("normal", "skilled", "weak"))
    return taken


# -- set-up -------------------------------------------------------------------


def add_town(session: Any, campaign_id: str, year: int, form_version: str) -> tuple[Any, list[Any]]:
    """保安镇 with its villages and the active campaign ``campaign_id`` of ``year`` on
    ``form_version``, flushed; returns the town and its villages."""
    from fieldapp.models import Campaign, Town, Village

    town = Town(name="保安镇", code="420281101", county="大冶市")
    session.add(town)
    session.flush()
    villages = [Village(town_id=town.id, name=f"第{i + 1}村", code=f"4202811012{i:02d}") for i in range(VILLAGES)]
    session.add_all(villages)
    session.add(Campaign(id=campaign_id, name=f"{year}年防止返贫监测帮扶集中排查", start_date=dt.date(year, 10, 1),
                         end_date=dt.date(year, 12, 31), monitoring_line=7600.0, active=True,
                         form_version=form_version))
    session.flush()
    return town, villages


def household_rows(households: list[tuple[str, dict[str, Any]]], town: Any, villages: list[Any]) -> list[dict[str, Any]]:
    """The ``households`` rows of roster households given as (id, roster row)."""
    from sync.normalize import name_pinyin

    return [{"id": hid, "code": r["code"], "town_id": town.id, "village_id": villages[r["village"]].id,
             **{f: r[f] for f in ROSTER_FIELDS}, "head_pinyin": name_pinyin(r["head_name"])[0],
             "head_initials": name_pinyin(r["head_name"])[1], "source": "roster", "rev": 1, "change_seq": 0}
            for hid, r in households]
