"""The demo town generator, without a database: exact figures, valid and realistic data."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from fieldapp.demo.generator import DemoHousehold, expected_counts, generate_town, sizes_with_total
from fieldapp.demo.names import SURNAMES
from fieldapp.demo.places import PLACES, TOWN_CODE
from fieldapp.demo.summary import figures
from sync.idnumber import validate_id
from sync.normalize import normalize_phone, phone_error

REFERENCE = ("共13740户47862人：一般农户13046户（不含监测对象），脱贫户659户1267人，监测对象45户150人"
             "（含风险消除12户41人；脱贫不稳定户3户10人，边缘易致贫户17户59人，突发严重困难户25户81人）")


@pytest.fixture(scope="module")
def town() -> list[DemoHousehold]:
    return generate_town(2023)


def test_places_are_the_reference_town() -> None:
    assert len(PLACES) == 30
    communities = [p for p in PLACES if p.kind == "community"]
    assert [(p.name, p.full_code) for p in communities] == [
        ("团结街社区", f"{TOWN_CODE}001"), ("民主街社区", f"{TOWN_CODE}002")]
    villages = [p for p in PLACES if p.kind == "village"]
    assert [p.code for p in villages] == [str(c) for c in range(200, 228)]
    named = {"沼山村", "磨山村", "桃树村", "桂花村", "大垅村", "高溪村", "盘茶村", "农科村", "先锋村", "金塘村",
             "黄海村", "芦嘴村", "牛山村", "枫林村", "西海村", "南阳村", "西山村", "株树村", "塘湾村", "青山村",
             "永光村", "大洪村", "莲花村", "茶山村", "赤马村", "李华村", "庄嘴村"}
    assert named <= {p.name for p in villages}
    assert {p.name: p.full_code for p in PLACES}["沼山村"] == "420281101203"
    assert len({p.slug for p in PLACES}) == 30


@pytest.mark.parametrize("seed", [2023, 7])
def test_every_seed_reproduces_the_reference_figures(seed: int) -> None:
    households = generate_town(seed)
    assert figures(expected_counts(households)).line() == REFERENCE
    per_village = Counter(h.village for h in households)
    assert per_village == {p.name: p.households for p in PLACES}


def test_monitored_kinds_match_the_household_type(town: list[DemoHousehold]) -> None:
    kinds = Counter((h.monitor_type, h.category) for h in town)
    assert kinds == {("none", "general"): 13046, ("none", "lifted"): 649, ("unstable", "lifted"): 3,
                     ("marginal", "general"): 17, ("hardship", "lifted"): 7, ("hardship", "general"): 18}
    assert all((h.risk_eliminated is None) == (h.monitor_type == "none") for h in town)


def test_head_ids_are_valid_unique_local_and_match_the_sex(town: list[DemoHousehold]) -> None:
    ids = [h.head_id for h in town]
    assert len(set(ids)) == len(ids)
    for h in town:
        assert validate_id(h.head_id).ok, h.head_id
        assert h.head_id.startswith("420281")
        assert int(h.head_id[16]) % 2 == int(h.male)
        assert h.head_id[6:14] == h.born.strftime("%Y%m%d")
    assert 0.8 < sum(h.male for h in town) / len(town) < 0.95


def test_names_are_realistic(town: list[DemoHousehold]) -> None:
    for h in town:
        assert re.fullmatch(r"[\u4e00-\u9fff]{3}", h.head_name), h.head_name
        assert h.head_name[0] in SURNAMES
        assert h.head_name[1] != h.head_name[2]
    surnames = Counter(h.head_name[0] for h in town)
    assert {s for s, _ in surnames.most_common(8)} & {"李", "张", "王", "刘", "陈"}
    assert all(surnames[s] > 100 for s in "尹柯石黄吴邓陶")
    assert len({h.head_name for h in town}) > 5000


def test_phones_groups_hamlets_and_codes(town: list[DemoHousehold]) -> None:
    phones = [h.phone for h in town]
    assert 0.03 < phones.count(None) / len(town) < 0.2
    landlines = [p for p in phones if p and p.startswith("0714-")]
    assert 0.03 < len(landlines) / len(town) < 0.15
    for phone in filter(None, phones):
        assert phone_error(normalize_phone(phone)) is None and normalize_phone(phone) == phone
    assert all(h.code.startswith(TOWN_CODE) and len(h.code) == 16 for h in town)
    assert len({h.code for h in town}) == len(town)
    groups = Counter((h.village, h.group) for h in town)
    assert all(count >= 8 for count in groups.values())
    assert max(h.group for h in town) <= 25
    hamlets = {h.hamlet for h in town if h.village == "沼山村"}
    assert {"王祖湾", "杨文昌湾", "刘通湾"} <= hamlets
    assert {h.hamlet for h in town if h.village == "盘茶村"} >= {"柯楼湾"}
    village_hamlets = [h.hamlet for h in town if not h.village.endswith("社区")]
    assert all(village_hamlets)
    assert sum(1 for x in village_hamlets if x.endswith("湾")) / len(village_hamlets) > 0.6
    assert all(h.hamlet is None for h in town if h.village.endswith("社区"))


def test_sizes_and_labour(town: list[DemoHousehold]) -> None:
    assert all(1 <= h.size <= 10 and 0 <= h.labor_count <= h.size for h in town)
    lifted = [h.size for h in town if h.category == "lifted"]
    general = [h.size for h in town if h.category == "general"]
    assert sum(lifted) / len(lifted) < 2.2 < 3.2 < sum(general) / len(general) < 3.8


def test_same_seed_same_town_other_seed_other_people() -> None:
    first, again, other = generate_town(11), generate_town(11), generate_town(12)
    assert [h.roster_row() for h in first] == [h.roster_row() for h in again]
    assert sum(a.head_name != b.head_name for a, b in zip(first, other, strict=True)) > 10000


def test_roster_row_uses_labels() -> None:
    h = next(h for h in generate_town(2023) if h.monitor_type == "hardship" and h.category == "lifted")
    row = h.roster_row()
    assert (row["category"], row["monitor_type"], row["town"]) == ("脱贫户", "突发严重困难户", "保安镇")
    assert row["risk_eliminated"] in {"是", "否"}
    assert row["group"] == f"{h.group}组"


@pytest.mark.parametrize("seed", range(5))
def test_sizes_with_total_is_exact(seed: int) -> None:
    rng = random.Random(seed)
    sizes = sizes_with_total(rng, 100, 333, {1: 1, 2: 1, 8: 1}, 1, 8)
    assert len(sizes) == 100 and sum(sizes) == 333 and min(sizes) >= 1 and max(sizes) <= 8
    with pytest.raises(ValueError):
        sizes_with_total(rng, 3, 40, {1: 1}, 1, 10)
