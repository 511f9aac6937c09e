"""The demo town 保安镇 (大冶市, Hubei): its villages and the figures it must reproduce.

Village names and codes follow docs/domain.md §7 (town 420281101; communities
001–002, villages 200–227; 27 village names are on record, 长岭村 is the
plausible 28th). Household counts per village are fixed here so that the
demo is the same on every machine; the seed varies only who lives where.

The reference figures are those of the town's 2023 work summary: 13,740
households, 659 脱贫户 (1,267 people), 45 监测对象 (150 people, 12 of them
风险已消除 with 41 people) of which 3 脱贫不稳定户 (10 people), 17 边缘易致贫户
(59), 25 突发严重困难户 (81; 7 of them 脱贫户).
"""

from __future__ import annotations

from dataclasses import dataclass

TOWN_NAME = "保安镇"
TOWN_CODE = "420281101"
COUNTY = "大冶市"
REGION = "420281"

TOTAL_HOUSEHOLDS = 13_740
TOTAL_PEOPLE = 47_862
LIFTED_HOUSEHOLDS = 659
LIFTED_PEOPLE = 1_267
GENERAL_HOUSEHOLDS = 13_081
GENERAL_NOT_MONITORED = 13_046
MONITORED_HOUSEHOLDS = 45
MONITORED_PEOPLE = 150
ELIMINATED_HOUSEHOLDS = 12
ELIMINATED_PEOPLE = 41


@dataclass(frozen=True)
class Bucket:
    """Monitored households of one kind: how many, how many people, how many 脱贫户."""

    monitor_type: str
    eliminated: bool
    households: int
    people: int


# (监测对象类别, 风险已消除) → households, people. Sums: 45 households, 150 people;
# eliminated 1+5+6 = 12 households, 3+18+20 = 41 people.
MONITORED_BUCKETS: tuple[Bucket, ...] = (
    Bucket("unstable", True, 1, 3),
    Bucket("unstable", False, 2, 7),
    Bucket("marginal", True, 5, 18),
    Bucket("marginal", False, 12, 41),
    Bucket("hardship", True, 6, 20),
    Bucket("hardship", False, 19, 61),
)
HARDSHIP_LIFTED = 7  # of the 25 突发严重困难户, 7 are 脱贫户 and 18 一般农户


@dataclass(frozen=True)
class Place:
    name: str
    code: str          # last three digits of the 12-digit code
    slug: str          # for the worker's username
    households: int
    clans: tuple[str, ...]
    lifted_weight: float = 1.0  # 脱贫村 hold more 脱贫户
    hamlets: tuple[str, ...] = ()

    @property
    def full_code(self) -> str:
        return f"{TOWN_CODE}{self.code}"

    @property
    def kind(self) -> str:
        return "community" if self.name.endswith("社区") else "village"


PLACES: tuple[Place, ...] = (
    Place("团结街社区", "001", "tuanjiejie", 820, ("陈", "王"), 0.3),
    Place("民主街社区", "002", "minzhujie", 760, ("刘", "李"), 0.3),
    Place("先锋村", "200", "xianfeng", 452, ("吴", "刘")),
    Place("桃树村", "201", "taoshu", 498, ("陶", "石"), 2.0, ("陶家树",)),
    Place("盘茶村", "202", "pancha", 536, ("柯", "黄"), 1.0, ("柯楼湾",)),
    Place("沼山村", "203", "zhaoshan", 612, ("王", "杨"), 3.0, ("王祖湾", "杨文昌湾", "刘通湾")),
    Place("金塘村", "204", "jintang", 447, ("尹", "王"), 1.0, ("金塘尹",)),
    Place("农科村", "205", "nongke", 395, ("石", "张"), 1.0, ("圣水湾",)),
    Place("黄海村", "206", "huanghai", 362, ("黄", "陈")),
    Place("芦嘴村", "207", "luzui", 318, ("陈", "吴"), 1.0, ("下陈湾",)),
    Place("牛山村", "208", "niushan", 341, ("邓", "石"), 1.0, ("山背邓",)),
    Place("枫林村", "209", "fenglin", 389, ("柯", "刘")),
    Place("西海村", "210", "xihai", 426, ("张", "黄")),
    Place("南阳村", "211", "nanyang", 373, ("李", "陈"), 1.0, ("陈家坳",)),
    Place("桂花村", "212", "guihua", 468, ("吴", "柯"), 2.0),
    Place("大垅村", "213", "dalong", 521, ("石", "邓"), 1.0, ("下磨湾",)),
    Place("高溪村", "214", "gaoxi", 477, ("黄", "尹")),
    Place("西山村", "215", "xishan", 356, ("刘", "陶")),
    Place("株树村", "216", "zhushu", 402, ("张", "王")),
    Place("塘湾村", "217", "tangwan", 433, ("陈", "李")),
    Place("青山村", "218", "qingshan", 462, ("石", "吴")),
    Place("永光村", "219", "yongguang", 384, ("王", "柯")),
    Place("大洪村", "220", "dahong", 415, ("刘", "邓")),
    Place("莲花村", "221", "lianhua", 437, ("李", "尹")),
    Place("茶山村", "222", "chashan", 398, ("柯", "陶")),
    Place("赤马村", "223", "chima", 366, ("黄", "张")),
    Place("李华村", "224", "lihua", 441, ("李", "刘")),
    Place("长岭村", "225", "changling", 309, ("吴", "王")),
    Place("磨山村", "226", "moshan", 574, ("陈", "尹"), 3.0),
    Place("庄嘴村", "227", "zhuangzui", 568, ("邓", "黄")),
)
