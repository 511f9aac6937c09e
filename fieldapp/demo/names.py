"""Names for the demo: Hubei surnames, gender-appropriate given names, 湾 hamlets.

Surnames: Hubei's five most common (李 张 王 刘 陈) and the local clans of
保安镇's place names (尹 柯 石 黄 吴 邓 陶), plus a tail of other common ones;
each village leans on its own clans, as real villages do. Given names are
two characters, drawn from the characters rural people born 1935–1995 were
commonly given, separately for men and women. Every name is fake.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

SURNAMES: dict[str, float] = {
    "李": 10, "张": 9, "王": 10, "刘": 10, "陈": 10,
    "尹": 4, "柯": 5, "石": 4, "黄": 6, "吴": 5, "邓": 4, "陶": 3,
    "杨": 3, "周": 3, "胡": 3, "徐": 2, "程": 2, "余": 2, "朱": 2, "汪": 2, "熊": 2,
    "袁": 1, "冯": 1, "曹": 1, "何": 1, "范": 1, "童": 1, "肖": 1, "费": 1,
}
CLAN_BOOST = (8.0, 4.0)

MALE_FIRST = "建国志明德文学家金永正长春海新传先光友汉世启昌松水红卫庆天大小立功绍继仁道"
MALE_SECOND = "华明平军强林生成胜山忠斌祥发富贵桥清涛波辉荣章宏才兵勇元安全龙虎祖武雄良桂保"
FEMALE_FIRST = "秀桂玉凤春金翠月美冬小红爱素淑丽银细菊腊桃雪"
FEMALE_SECOND = "英兰芳珍梅华莲娥香琴霞娟云花凤萍仙枝容娣姣平荣"

HAMLET_MIDDLE = "祖通楼家大小新老畈垅山港坳岭塘桥林冲"
HAMLET_PREFIX = "上下前后东西"
HAMLET_TAIL = "树畈咀岗冲"


def surname_weights(clans: Sequence[str]) -> tuple[list[str], list[float]]:
    """Surnames and their weights in a village whose main clans are ``clans``."""
    weights = dict(SURNAMES)
    for clan, boost in zip(clans, CLAN_BOOST, strict=False):
        weights[clan] = weights.get(clan, 1.0) * boost
    names = sorted(weights)
    return names, [weights[n] for n in names]


def given_name(rng: random.Random, male: bool) -> str:
    first, second = (MALE_FIRST, MALE_SECOND) if male else (FEMALE_FIRST, FEMALE_SECOND)
    while True:
        a, b = rng.choice(first), rng.choice(second)
        if a != b:
            return a + b


def person_name(rng: random.Random, surnames: tuple[list[str], list[float]], male: bool) -> str:
    surname = rng.choices(surnames[0], surnames[1])[0]
    return surname + given_name(rng, male)


def hamlet_name(rng: random.Random, surname: str) -> str:
    """A hamlet in the local pattern: 王祖湾, 下陈湾, 柯家坳, 山背邓, 陶家树."""
    pattern = rng.random()
    if pattern < 0.45:
        return f"{surname}{rng.choice(HAMLET_MIDDLE)}湾"
    if pattern < 0.70:
        return f"{rng.choice(HAMLET_PREFIX)}{surname}湾"
    if pattern < 0.82:
        return f"{surname}家坳"
    if pattern < 0.90:
        return f"山背{surname}"
    return f"{surname}家{rng.choice(HAMLET_TAIL)}"
