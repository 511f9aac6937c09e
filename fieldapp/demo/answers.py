"""Realistic answers of the visit form for one demo household.

Incomes follow the household's kind: 一般农户 mostly well above the
monitoring line, 脱贫户 above it with more transfer income, monitored
households near or under it (突发严重困难户 through large medical costs
rather than low income). A few 一般农户 fall under the line and are
suggested for monitoring; a few others show a guarantee gap the worker did
not act on, which the review pages flag as 建议关注. Every answer set passes
the form's validation (the demo pushes them through the real ingest).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any

from fieldapp.demo import names

CAMPAIGN_DAYS = (dt.date(2023, 10, 8), dt.date(2023, 11, 28))
RISK_NOTES = {
    "illness": "家庭成员患慢性病，长期服药，医疗支出较大",
    "disability": "家中有残疾人，需长期照料，劳动力不足",
    "labor_shortage": "家庭主要劳动力年老体弱，缺少稳定收入来源",
    "unstable_work": "务工人员今年返乡，务工收入明显减少",
    "accident": "家庭成员今年发生意外事故，治疗费用较高",
    "disaster": "今年汛期房屋和农作物受灾，损失较大",
    "housing": "房屋墙体开裂，经鉴定存在安全隐患",
    "schooling": "子女就读高中和大学，教育支出较大",
}
MEASURES = ("申请公益性岗位一个", "落实医疗救助和大病保险报销", "推荐参加技能培训并就近务工",
            "发展白茶种植，落实产业奖补", "申请小额信贷发展养殖", "纳入低保兜底保障")


@dataclass(frozen=True)
class HouseholdView:
    """What the simulation knows of a household (its current field values)."""

    id: str
    village_id: int
    village: str
    rev: int
    values: dict[str, Any]


def _png(width: int, height: int, rows: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


@cache
def signature(variant: int) -> str:
    """A small hand-drawn-looking signature as a PNG data URL (a few variants, cached)."""
    rng = random.Random(f"signature-{variant}")
    width, height = 180, 60
    rows = [bytearray(b"\xff" * width) for _ in range(height)]
    x, y = 12.0, 30.0
    for _stroke in range(rng.randint(3, 5)):
        for _ in range(rng.randint(25, 45)):
            x = min(width - 3.0, max(2.0, x + rng.uniform(0.5, 3.5)))
            y = min(height - 3.0, max(2.0, y + rng.uniform(-4, 4)))
            for dx in (0, 1):
                for dy in (0, 1):
                    rows[int(y) + dy][int(x) + dx] = 0x20
        x, y = x + rng.uniform(4, 10), rng.uniform(15, 45)
    return "data:image/png;base64," + base64.b64encode(_png(width, height, rows)).decode("ascii")


def visit_day(rng: random.Random) -> dt.date:
    start, end = CAMPAIGN_DAYS
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _income(rng: random.Random, h: dict[str, Any], per_capita: float, elderly: int) -> dict[str, Any]:
    """Income items (yuan, whole) whose net income per person is ``per_capita``."""
    size = h["size"]
    net = round(per_capita * size)
    transfer = elderly * rng.randint(2000, 2600) + (rng.randint(800, 2500) if h["category"] == "lifted" else 0)
    prop = rng.choice((0, 0, 300, 500, 800, 1200)) + (rng.randint(300, 900) if h["category"] == "lifted" else 0)
    business, cost = 0, 0
    if rng.random() < 0.35:
        business = rng.randint(3000, min(40000, max(3000, net)))
        cost = round(business * rng.uniform(0.25, 0.5))
    wage = net - transfer - prop - business + cost
    if wage < 0:  # the other sources already exceed the target: shrink them
        business, cost, wage = 0, 0, max(0, net - transfer - prop)
        if wage == 0:
            transfer = max(0, net - prop)
    return {"income_wage": wage, "income_business": business, "business_cost": cost,
            "income_property": prop, "income_transfer": transfer}


def _work(rng: random.Random, labor: int) -> dict[str, int]:
    out = inside = city = 0
    for _ in range(labor):
        roll = rng.random()
        if roll < 0.15:
            out += 1
        elif roll < 0.38:
            inside += 1
        elif roll < 0.72:
            city += 1
    return {"work_out_province": out, "work_in_province": inside, "work_in_city": city}


def answers(rng: random.Random, view: HouseholdView, special: str | None = None) -> dict[str, Any]:
    """Every answer of a valid visit to ``view``.

    :param special: ``under_line`` (一般农户 under the monitoring line, suggested for
        monitoring) or ``attention`` (a housing problem noted but no monitoring suggested)
    """
    h = view.values
    data: dict[str, Any] = {key: h[key] for key in ("head_name", "head_id", "phone", "group", "hamlet",
                                                      "size", "labor_count", "category", "monitor_type",
                                                      "risk_eliminated")}
    if data["labor_count"] is None:
        data["labor_count"] = 0
    size, labor = h["size"], data["labor_count"]
    born_year = int(h["head_id"][6:10])
    elderly = min(size, (1 if 2023 - born_year >= 60 else 0) + (1 if size >= 2 and rng.random() < 0.4 else 0))
    monitored, eliminated = h["monitor_type"] != "none", bool(h["risk_eliminated"])
    if special == "under_line":
        per_capita = rng.uniform(4800, 7300)
    elif monitored and not eliminated:
        per_capita = rng.uniform(6200, 9800)
    elif monitored or h["category"] == "lifted":
        per_capita = rng.uniform(9000, 16500)
    else:
        per_capita = min(60000.0, rng.lognormvariate(9.75, 0.35))  # median about 17,000
    data.update(_income(rng, h, per_capita, elderly))
    data.update(_work(rng, labor))
    data["public_welfare_job"] = 1 if (h["category"] == "lifted" or monitored) and rng.random() < 0.08 else 0
    if (h["category"] == "lifted" or monitored) and rng.random() < 0.06:
        data["microcredit_balance"] = rng.choice((10000, 20000, 30000, 50000))
    data.update({"food_clothing_ok": True, "housing_unsafe": False, "school_dropout": False,
                 "medical_uninsured": False, "water_unsafe": False})
    risks: list[str] = []
    ill_chance = 0.5 if monitored else (0.2 if h["category"] == "lifted" else 0.06)
    data["serious_illness"] = special == "under_line" or rng.random() < ill_chance
    if data["serious_illness"]:
        heavy = (h["monitor_type"] == "hardship" and not eliminated) or special == "under_line"
        data["out_of_pocket"] = rng.randint(12000, 40000) if heavy else rng.randint(500, 6000)
        if heavy and rng.random() < 0.5:
            data["insurance_payout"] = rng.randint(2000, 8000)
    if monitored and not eliminated:
        risks = [{"unstable": rng.choice(("unstable_work", "labor_shortage")),
                  "marginal": rng.choice(("illness", "disability", "labor_shortage")),
                  "hardship": rng.choice(("illness", "accident", "disaster"))}[h["monitor_type"]]]
        data["conclusion"] = "suggest_eliminate" if per_capita > 9000 and rng.random() < 0.5 else "continue_monitor"
        data["measures"] = "；".join(rng.sample(MEASURES, 2))
    elif special == "under_line":
        risks = ["illness"]
        data["conclusion"] = "suggest_monitor"
        data["measures"] = "建议按程序纳入监测，落实医疗救助"
    elif special == "attention":
        data.update({"housing_unsafe": True, "housing_grade": rng.choice(("C", "D"))})
        risks = ["housing"]
        data["conclusion"] = "no_risk"
    else:
        data["conclusion"] = "continue_monitor" if monitored and rng.random() < 0.5 else "no_risk"
    if risks:
        data["risk_types"] = risks
        data["risk_note"] = RISK_NOTES[risks[0]]
    data.update(_visit_info(rng, h, data))
    return data


def _visit_info(rng: random.Random, h: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    away = data["work_out_province"] > 0 and data["work_out_province"] >= h["size"] - 1
    roll = rng.random()
    method = "wechat" if away and roll < 0.6 else ("phone" if roll < 0.1 else "in_person")
    male = int(h["head_id"][16]) % 2 == 1
    relation = rng.choices(("self", "spouse", "child"), (70, 20, 10))[0] if h["size"] > 1 else "self"
    if relation == "self":
        respondent = h["head_name"]
    elif relation == "spouse":
        respondent = rng.choice(list(names.SURNAMES)) + names.given_name(rng, not male)
    else:
        respondent = h["head_name"][0] + names.given_name(rng, rng.random() < 0.5)
    info: dict[str, Any] = {"visit_method": method, "visited_on": visit_day(rng).isoformat(),
                            "respondent": respondent, "respondent_relation": relation}
    if method == "in_person":
        info["signature"] = signature(rng.randrange(12))
    elif method == "wechat":
        info["remarks"] = "户主在外务工，微信视频核实"
    else:
        info["remarks"] = "电话核实，家中无人"
    return info
