"""Test data built through the models (no SQL dumps)."""

from __future__ import annotations

import datetime as dt
import itertools
from functools import lru_cache
from typing import Any

from fieldapp.extensions import db
from fieldapp.models import Campaign, Household, HouseholdRevision, Town, User, Village, new_uuid
from sync.idnumber import make_id
from sync.normalize import name_pinyin

PASSWORD = "pass-word-123"
_seq = itertools.count(1)


def make_town(name: str = "保安镇", code: str = "420281101") -> Town:
    town = Town(name=name, code=code, county="大冶市")
    db.session.add(town)
    db.session.flush()
    return town


def make_village(town: Town, name: str, code: str | None = None) -> Village:
    village = Village(town_id=town.id, name=name, code=code, kind="village")
    db.session.add(village)
    db.session.flush()
    return village


@lru_cache(maxsize=16)
def _password_hash(password: str) -> str:
    """scrypt is slow on purpose; tests hash each password once (salted hashes are reusable)."""
    probe = User()
    probe.set_password(password)
    return probe.password_hash


def make_user(username: str, role: str, villages: list[Village] | None = None,
              password: str = PASSWORD, display_name: str | None = None) -> User:
    user = User(username=username, role=role, display_name=display_name or username)
    user.password_hash = _password_hash(password)
    user.villages = list(villages or [])
    db.session.add(user)
    db.session.flush()
    return user


def make_campaign(campaign_id: str = "2023-jzpc", active: bool = True,
                  start: dt.date = dt.date(2023, 10, 1), end: dt.date = dt.date(2023, 12, 31),
                  monitoring_line: float = 7600.0) -> Campaign:
    campaign = Campaign(id=campaign_id, name="2023年防止返贫监测帮扶集中排查", start_date=start,
                        end_date=end, monitoring_line=monitoring_line, active=active)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def make_id_number(n: int | None = None, born: dt.date = dt.date(1970, 5, 1)) -> str:
    n = next(_seq) if n is None else n
    return make_id("420281", born + dt.timedelta(days=n // 900), n % 900 + 1)


def make_household(village: Village, head_name: str = "王建国", **fields: Any) -> Household:
    """A roster household with revision 1 recorded."""
    n = next(_seq)
    pinyin, initials = name_pinyin(head_name)
    values: dict[str, Any] = {
        "head_name": head_name, "head_id": make_id_number(n), "phone": f"138{n:08d}"[-11:],
        "group": "3组", "hamlet": "王祖湾", "size": 4, "labor_count": 2,
        "category": "general", "monitor_type": "none", "risk_eliminated": None,
    }
    values.update(fields)
    household = Household(
        id=new_uuid(), code=f"H{n:06d}", town_id=village.town_id, village_id=village.id,
        head_pinyin=pinyin, head_initials=initials, source="roster", rev=1, change_seq=0, **values,
    )
    db.session.add(household)
    db.session.flush()
    db.session.add(HouseholdRevision(household_id=household.id, rev=1, values=household.field_values(),
                                     changed=list(values), reason="roster"))
    db.session.flush()
    return household


#: A valid signature answer (a 1x1 PNG), for visits made in person.
SIGNATURE_PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
                 "DwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def visit_data(household: Household | None = None, **overrides: Any) -> dict[str, Any]:
    """Every answer of a valid visit (phone visit, no signature needed)."""
    data: dict[str, Any] = {
        "head_name": household.head_name if household else "李四海",
        "head_id": household.head_id if household else make_id_number(),
        "phone": household.phone if household else "13912345678",
        "group": household.group if household else "2组",
        "hamlet": household.hamlet if household else "下陈湾",
        "size": household.size if household else 3,
        "labor_count": household.labor_count if household else 2,
        "category": household.category if household else "general",
        "monitor_type": household.monitor_type if household else "none",
        "risk_eliminated": household.risk_eliminated if household else None,
        "food_clothing_ok": True, "housing_unsafe": False, "school_dropout": False,
        "medical_uninsured": False, "serious_illness": False, "water_unsafe": False,
        "income_wage": 36000, "income_business": 8000, "business_cost": 2000,
        "income_property": 500, "income_transfer": 1500,
        "work_out_province": 1, "work_in_province": 0, "work_in_city": 1, "public_welfare_job": 0,
        "conclusion": "no_risk", "visit_method": "phone", "visited_on": "2023-10-12",
        "respondent": household.head_name if household else "李四海", "respondent_relation": "self",
    }
    data.update(overrides)
    return data


class SmallTown:
    """Two villages, one worker each, two supervisors, an admin, an active campaign."""

    def __init__(self) -> None:
        self.town = make_town()
        self.village_a = make_village(self.town, "沼山村", "420281101203")
        self.village_b = make_village(self.town, "磨山村", "420281101226")
        self.campaign = make_campaign()
        self.worker_a = make_user("worker_a", "worker", [self.village_a], display_name="张网格")
        self.worker_b = make_user("worker_b", "worker", [self.village_b], display_name="李网格")
        self.supervisor_a = make_user("supervisor_a", "supervisor", [self.village_a])
        self.supervisor_b = make_user("supervisor_b", "supervisor", [self.village_b])
        self.admin = make_user("admin", "admin")
        self.households_a = [make_household(self.village_a, name) for name in ("王建国", "刘伟", "陈秀英")]
        self.households_b = [make_household(self.village_b, name) for name in ("柯友明", "尹桂兰")]
        db.session.commit()


def make_visit(household: Household, worker: User, campaign: Campaign, *,
               review_status: str = "pending", sync_status: str = "accepted",
               data: dict[str, Any] | None = None, batch_id: str = "factory-batch",
               server_seq: int = 0, **columns: Any) -> Visit:
    """A stored visit row with its computed columns filled from the form definition."""
    from fieldapp.models import Visit
    from sync.form import FormContext, load_form

    answers = data or visit_data(household)
    checked = load_form(campaign.form_version).validate(
        answers, FormContext(monitoring_line=campaign.monitoring_line, start=campaign.start_date,
                             end=campaign.end_date))
    values = checked.values
    visit = Visit(
        uuid=new_uuid(), campaign_id=campaign.id, household_id=household.id,
        village_id=household.village_id, worker_id=worker.id, device_id="factory-device",
        batch_id=batch_id, form_version=campaign.form_version, base_rev=household.rev,
        visited_on=dt.date.fromisoformat(values["visited_on"]) if values.get("visited_on") else None,
        server_seq=server_seq, data=values, sync_status=sync_status, review_status=review_status,
        conclusion=values.get("conclusion"), visit_method=values.get("visit_method"),
        net_income=values.get("net_income"), per_capita_income=values.get("per_capita_income"),
        monitoring_income=values.get("monitoring_income"), **checked.flags,
    )
    for key, value in columns.items():
        setattr(visit, key, value)
    db.session.add(visit)
    db.session.flush()
    return visit


# Review helpers (batches, conflicts, duplicate candidates).
import collections  # noqa: E402

from fieldapp.models import Conflict, DuplicateCandidate, SyncBatch, Visit  # noqa: E402


def make_batch(worker: User, batch_id: str | None = None, results: list[dict[str, Any]] | None = None,
               received_at: dt.datetime | None = None) -> SyncBatch:
    """A stored sync batch with its per-status counts derived from ``results``."""
    results = list(results or [])
    batch = SyncBatch(id=batch_id or new_uuid(), user_id=worker.id, device_id="factory-device",
                      app_version="test", record_count=len(results),
                      counts=dict(collections.Counter(r["status"] for r in results)), results=results,
                      received_at=received_at or dt.datetime.now(dt.UTC))
    db.session.add(batch)
    db.session.flush()
    return batch


def make_conflict(visit: Visit, field: str, base: Any, current: Any, incoming: Any,
                  current_rev: int | None = None) -> Conflict:
    """An open field conflict raised by ``visit`` on its household (the visit becomes ``conflict``)."""
    conflict = Conflict(household_id=visit.household_id, visit_uuid=visit.uuid, village_id=visit.village_id,
                        field=field, base_value=base, current_value=current, incoming_value=incoming,
                        current_rev=current_rev, status="open")
    visit.sync_status = "conflict"
    db.session.add(conflict)
    db.session.flush()
    return conflict


def make_candidate(first: Household, second: Household, *, visit: Visit | None = None,
                   score: float = 0.95, evidence: list[str] | None = None,
                   campaign: Campaign | None = None) -> DuplicateCandidate:
    """An open duplicate pair (stored as a < b by id); a given visit becomes ``duplicate_suspected``."""
    a, b = sorted((first, second), key=lambda h: h.id)
    candidate = DuplicateCandidate(
        household_a_id=a.id, household_b_id=b.id, village_id=second.village_id,
        campaign_id=campaign.id if campaign else None, visit_uuid=visit.uuid if visit else None,
        score=score, evidence=evidence or ["身份证号完全相同"], status="open")
    if visit is not None:
        visit.sync_status = "duplicate_suspected"
    db.session.add(candidate)
    db.session.flush()
    return candidate
