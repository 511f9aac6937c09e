"""Simulating the campaign: a share of the demo households visited, through the real ingest.

Each village's worker pushes their visits in batches with
``fieldapp.sync_service.push_batch`` (exactly what ``POST /api/v1/sync/push``
calls), so visits, household revisions, flags and change numbers are what a
real campaign produces. On top of the ordinary visits:

- offline conflicts: a worker's two phones both edit the same household's
  phone number from the same base revision; the second push conflicts;
- duplicate new households: a visit with ``household_id: null`` for a
  household that is on the roster, with the same ID number or a one-digit
  typo in it (a valid ID again), which the dedup matching should flag;
- review: the supervisor approves part of the visits and returns a few with
  a comment (``fieldapp.review.visits``); some returned visits are then
  corrected and resent (``supersedes``).

Household fields are sent unchanged except in the conflicts, so the town's
roster figures (户类型, 监测对象, 户 and 人) stay exactly those of the roster.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from fieldapp.demo.answers import HouseholdView, answers, visit_day
from fieldapp.demo.build import CAMPAIGN_ID
from fieldapp.extensions import db
from fieldapp.models import (
    HOUSEHOLD_FIELDS,
    Campaign,
    Household,
    User,
    Village,
    Visit,
    user_villages,
)
from fieldapp.review.display import SYNC_LABELS
from sync.idnumber import check_char

ProgressFn = Callable[[str, int, int], None]
BATCH_SIZE = 250
RETURN_COMMENTS = ("签字不清晰，请重新采集农户签字", "家庭人口数与户籍信息不一致，请入户核实",
                   "务工收入明细不全，请补充务工地点和月数", "电话核实不够，请入户核实后重新提交")
CENTRE = (30.262, 114.835)  # 保安镇, roughly


@dataclass
class SimulationReport:
    pushed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    conflicts: int = 0
    duplicates: int = 0
    approved: int = 0
    returned: int = 0
    corrected: int = 0

    def count(self, results: list[dict[str, Any]]) -> None:
        for result in results:
            self.statuses[result["status"]] = self.statuses.get(result["status"], 0) + 1
        self.pushed += len(results)

    def line(self) -> str:
        counts = [(_(SYNC_LABELS.get(status, status)), n) for status, n in sorted(
            self.statuses.items(), key=lambda item: list(SYNC_LABELS).index(item[0]) if item[0] in SYNC_LABELS else 99)]
        parts = "，".join(f"{label} {n}" for label, n in counts)
        return _("模拟走访 %(pushed)s 条（%(parts)s）；离线冲突 %(conflicts)s 处，疑似重复新户 %(duplicates)s 户；"
                 "审核通过 %(approved)s 条，退回 %(returned)s 条，退回后重报 %(corrected)s 条",
                 pushed=self.pushed, parts=parts, conflicts=self.conflicts, duplicates=self.duplicates,
                 approved=self.approved, returned=self.returned, corrected=self.corrected)


def existing_visit_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) or 0)


def _households(*, roster_only: bool = True) -> list[HouseholdView]:
    """The live households in roster order; ``roster_only`` leaves out those created in the field."""
    columns = [getattr(Household, name) for name in HOUSEHOLD_FIELDS]
    query = (sa.select(Household.id, Household.village_id, Village.name, Household.rev, *columns)
             .join(Village, Village.id == Household.village_id)
             .where(Household.merged_into_id.is_(None))
             .order_by(Household.code, Household.created_at))
    if roster_only:
        query = query.where(Household.source == "roster")
    return [HouseholdView(row[0], row[1], row[2], row[3], dict(zip(HOUSEHOLD_FIELDS, row[4:], strict=True)))
            for row in db.session.execute(query)]


def _workers() -> dict[int, User]:
    users = db.session.scalars(sa.select(User).join(user_villages, user_villages.c.user_id == User.id)
                               .where(User.role == "worker").order_by(User.id)).all()
    return {v.id: u for u in users for v in u.villages}


class _Simulation:
    def __init__(self, fraction: float, seed: int, progress: ProgressFn | None, today: dt.date | None) -> None:
        self.rng = random.Random(f"visits-{seed}")
        self.fraction = fraction
        self.progress = progress
        self.today = today
        self.report = SimulationReport()
        campaign = db.session.get(Campaign, CAMPAIGN_ID)
        if campaign is None:
            raise RuntimeError(f"campaign {CAMPAIGN_ID} is missing: build the demo first")
        self.campaign = campaign
        self.workers = _workers()
        self.done = 0
        self.total = 0

    def record(self, view: HouseholdView | None, data: dict[str, Any], base_rev: int | None,
               village: str | None = None, supersedes: str | None = None) -> dict[str, Any]:
        day = dt.date.fromisoformat(data["visited_on"])
        started = dt.datetime.combine(day, dt.time(8, 30), dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(
            minutes=self.rng.randrange(9 * 60))
        lat, lon = CENTRE
        record: dict[str, Any] = {
            "uuid": str(uuid_module.UUID(int=self.rng.getrandbits(128), version=4)),
            "campaign_id": self.campaign.id, "form_version": self.campaign.form_version,
            "household_id": view.id if view else None, "base_rev": base_rev, "supersedes": supersedes,
            "started_at": started.isoformat(),
            "visited_at": (started + dt.timedelta(minutes=self.rng.randint(8, 25))).isoformat(),
            "data": data,
            "location": {"lat": round(lat + self.rng.uniform(-0.05, 0.05), 5),
                         "lon": round(lon + self.rng.uniform(-0.06, 0.06), 5),
                         "accuracy_m": self.rng.randint(5, 40)},
        }
        if village:
            record["village"] = village
        return record

    def push(self, worker: User, device: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from fieldapp.sync_service import push_batch

        results: list[dict[str, Any]] = []
        for start in range(0, len(records), BATCH_SIZE):
            chunk = records[start:start + BATCH_SIZE]
            payload = {"batch_id": str(uuid_module.UUID(int=self.rng.getrandbits(128), version=4)),
                       "device_id": device, "app_version": "demo", "records": chunk}
            response = push_batch(worker, payload, today=self.today)
            results.extend(response["results"])
            self.report.count(response["results"])
            self.done += len(chunk)
            if self.progress:
                self.progress("visits", self.done, self.total)
        return results

    def run(self) -> SimulationReport:
        households = _households()
        chosen = self.rng.sample(households, round(len(households) * self.fraction))
        general = [h for h in chosen if h.values["monitor_type"] == "none"]
        specials: dict[str, str] = {}
        for kind, share in (("under_line", 0.006), ("attention", 0.004)):
            for h in self.rng.sample(general, max(1, round(len(general) * share))):
                specials.setdefault(h.id, kind)
        conflicted = self.rng.sample([h for h in chosen if h.id not in specials], min(6, max(2, len(chosen) // 1000)))
        duplicated = self.rng.sample([h for h in households if h.id not in {c.id for c in conflicted}], 7)
        self.total = len(chosen) + len(conflicted) + len(duplicated)
        by_village: dict[int, list[dict[str, Any]]] = {}
        late: dict[int, list[dict[str, Any]]] = {}
        conflict_ids = {h.id for h in conflicted}
        roster_order = {h.id: n for n, h in enumerate(households)}
        for h in sorted(chosen, key=lambda v: roster_order[v.id]):  # ids are random: order by the roster
            data = answers(self.rng, h, specials.get(h.id))
            if h.id in conflict_ids:
                # Phone 1 records a new number; phone 2, still on the old revision, another one.
                data["phone"] = self._mobile()
                second = answers(self.rng, h)
                second["phone"] = self._mobile()
                late.setdefault(h.village_id, []).append(self.record(h, second, h.rev))
            by_village.setdefault(h.village_id, []).append(self.record(h, data, h.rev))
        for n, h in enumerate(duplicated):
            data = answers(self.rng, h)
            if n % 2:
                data["head_id"] = _typo(self.rng, h.values["head_id"])
            by_village.setdefault(h.village_id, []).append(self.record(None, data, None, village=h.village))
        for village_id in sorted(by_village):
            records = sorted(by_village[village_id], key=lambda r: r["data"]["visited_on"])
            worker = self.workers[village_id]
            self.push(worker, f"demo-{worker.username}-1", records)
        for village_id in sorted(late):
            worker = self.workers[village_id]
            for result in self.push(worker, f"demo-{worker.username}-2", late[village_id]):
                self.report.conflicts += len(result.get("conflicts", []))
        self.report.duplicates = self.report.statuses.get("duplicate_suspected", 0)
        self._review()
        return self.report

    def _mobile(self) -> str:
        return f"1{self.rng.choice('35789')}{self.rng.randrange(10**9):09d}"

    def _review(self) -> None:
        from fieldapp.review.visits import approve_visits, return_visits

        supervisor = db.session.scalar(sa.select(User).where(User.role == "supervisor").order_by(User.id))
        if supervisor is None:
            return
        pending = db.session.execute(
            sa.select(Visit.uuid, Visit.worker_id, Visit.household_id, Visit.base_rev)
            .where(Visit.review_status == "pending", Visit.sync_status == "accepted").order_by(Visit.visited_on,
                                                                                              Visit.uuid)).all()
        db.session.commit()
        to_return = self.rng.sample(pending, max(1, round(len(pending) * 0.015))) if pending else []
        returned_ids = {row.uuid for row in to_return}
        approve = [row.uuid for row in pending[: round(len(pending) * 0.45)] if row.uuid not in returned_ids]
        for start in range(0, len(approve), 500):
            self.report.approved += len(approve_visits(supervisor, approve[start:start + 500]).done)
        for row in to_return:
            comment = self.rng.choice(RETURN_COMMENTS)
            self.report.returned += len(return_visits(supervisor, [row.uuid], comment).done)
        self._correct(to_return[: len(to_return) // 3])

    def _correct(self, returned: list[Any]) -> None:
        """Some returned visits are corrected on the phone and resent (``supersedes``); a
        returned visit may be of a household created in the field."""
        wanted = {row.household_id for row in returned}
        views = {h.id: h for h in _households(roster_only=False) if h.id in wanted}
        users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.role == "worker"))}
        self.total += len(returned)
        for row in returned:
            view = views.get(row.household_id)
            if view is None:
                continue
            data = answers(self.rng, view)
            data["visited_on"] = max(visit_day(self.rng), dt.date(2023, 11, 20)).isoformat()
            worker = users[row.worker_id]
            results = self.push(worker, f"demo-{worker.username}-1",
                                [self.record(view, data, view.rev, supersedes=row.uuid)])
            self.report.corrected += sum(1 for r in results if r["status"] in {"accepted", "conflict"})


def _typo(rng: random.Random, head_id: str) -> str:
    """The same ID with one digit of the sequence mistyped, check character recomputed (still valid)."""
    position = rng.choice((14, 15))
    digit = str((int(head_id[position]) + rng.randint(1, 9)) % 10)
    first17 = head_id[:position] + digit + head_id[position + 1:17]
    return first17 + check_char(first17)


def simulate_visits(fraction: float, seed: int = 2023, progress: ProgressFn | None = None,
                    today: dt.date | None = None) -> SimulationReport:
    """Visit ``fraction`` of the demo's roster households (see the module docstring)."""
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    return _Simulation(fraction, seed, progress, today).run()
