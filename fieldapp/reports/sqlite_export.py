"""A campaign as a standalone SQLite file for analysts (sqlite-utils).

Tables: ``households`` (every household, merged ones with ``merged_into_id``),
``visits`` (the campaign's visits, every review status, answers as JSON),
``flags`` (per household, its latest counting visit's flags and conclusion: the
numbers the dashboard counts) and ``progress`` (the dashboard table itself).
ID numbers and phones are masked unless ``full_ids``; the drawn signature is
never exported (it is an image of a person's signature, not analysis data).
Rows are streamed from the database in chunks, never loaded all at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlite_utils
from sqlalchemy.orm import Session

from fieldapp.models import Household, User, Village, Visit
from fieldapp.reports import queries
from sync.idnumber import mask_id, mask_phone

CHUNK = 2000
MASKED_ANSWERS = {"head_id": mask_id, "phone": mask_phone}
DROPPED_ANSWERS = ("signature",)


def export_campaign(session: Session, campaign_id: str, path: Path, *, full_ids: bool = False,
                    village_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Write the file (which must not exist yet); returns the row count per table."""
    if path.exists():
        raise FileExistsError(f"文件已存在：{path}")
    out = sqlite_utils.Database(path)
    try:
        _create_tables(out)
        counts = {
            "households": _insert(out.table("households"), _households(session, full_ids, village_ids)),
            "visits": _insert(out.table("visits"), _visits(session, campaign_id, full_ids, village_ids)),
            "flags": _insert(out.table("flags"), _flags(session, campaign_id, village_ids)),
        }
        progress = queries.progress_by_village(session, campaign_id, village_ids)
        rows = [row.to_dict() for row in progress.rows] + [progress.totals.to_dict()]
        counts["progress"] = _insert(out.table("progress"), iter(rows))
        out.table("visits").create_index(["household_id"])
        out.table("flags").create_index(["village"])
    finally:
        out.close()
    return counts


def _create_tables(out: sqlite_utils.Database) -> None:
    out.table("households").create({
        "id": str, "code": str, "village": str, "group": str, "hamlet": str, "head_name": str,
        "head_id": str, "phone": str, "size": int, "labor_count": int, "category": str,
        "monitor_type": str, "risk_eliminated": int, "source": str, "rev": int, "merged_into_id": str,
    }, pk="id")
    out.table("visits").create({
        "uuid": str, "household_id": str, "village": str, "worker": str, "visited_on": str,
        "server_seq": int, "review_status": str, "sync_status": str, "visit_method": str,
        "conclusion": str, "net_income": float, "per_capita_income": float, "monitoring_income": float,
        "below_monitoring_line": int, "below_10k": int, "guarantee_gap": int, "needs_attention": int,
        "form_version": str, "data": str,
    }, pk="uuid")
    out.table("flags").create({
        "household_id": str, "village": str, "approved": int, "below_monitoring_line": int,
        "below_10k": int, "guarantee_gap": int, "needs_attention": int, "conclusion": str,
        "latest_visit_seq": int,
    }, pk="household_id")
    progress: dict[str, Any] = {"village_id": int, "village": str, "town": str, "completion": float}
    progress.update({name: int for name in queries.COUNT_FIELDS})
    out.table("progress").create(progress)


def _insert(table: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    table.insert_all(counted(), batch_size=CHUNK)
    return count


def _stream(session: Session, statement: Any) -> Iterator[Any]:
    yield from session.execute(statement.execution_options(yield_per=CHUNK))


def _households(session: Session, full: bool, village_ids: Sequence[int] | None) -> Iterator[dict[str, Any]]:
    h = Household
    statement = (
        sa.select(h.id, h.code, Village.name.label("village"), h.group, h.hamlet, h.head_name, h.head_id,
                  h.phone, h.size, h.labor_count, h.category, h.monitor_type, h.risk_eliminated, h.source,
                  h.rev, h.merged_into_id)
        .join(Village, Village.id == h.village_id)
        .where(queries.in_villages(h.village_id, village_ids))
        .order_by(h.village_id, h.id)
    )
    for row in _stream(session, statement):
        data = row._asdict()
        if not full:
            data["head_id"], data["phone"] = mask_id(data["head_id"]), mask_phone(data["phone"])
        yield data


def _visits(session: Session, campaign_id: str, full: bool,
            village_ids: Sequence[int] | None) -> Iterator[dict[str, Any]]:
    v = Visit
    statement = (
        sa.select(v.uuid, v.household_id, Village.name.label("village"),
                  sa.func.coalesce(sa.func.nullif(User.display_name, ""), User.username).label("worker"),
                  v.visited_on, v.server_seq, v.review_status, v.sync_status, v.visit_method, v.conclusion,
                  v.net_income, v.per_capita_income, v.monitoring_income, v.below_monitoring_line,
                  v.below_10k, v.guarantee_gap, v.needs_attention, v.form_version, v.data)
        .join(Village, Village.id == v.village_id)
        .join(User, User.id == v.worker_id)
        .where(v.campaign_id == campaign_id, queries.in_villages(v.village_id, village_ids))
        .order_by(v.server_seq, v.uuid)
    )
    for row in _stream(session, statement):
        data = row._asdict()
        data["visited_on"] = data["visited_on"].isoformat() if data["visited_on"] else None
        data["data"] = json.dumps(_answers(data["data"] or {}, full), ensure_ascii=False)
        yield data


def _answers(answers: dict[str, Any], full: bool) -> dict[str, Any]:
    cleaned = {k: v for k, v in answers.items() if k not in DROPPED_ANSWERS}
    if not full:
        for key, mask in MASKED_ANSWERS.items():
            if cleaned.get(key):
                cleaned[key] = mask(cleaned[key])
    return cleaned


def _flags(session: Session, campaign_id: str, village_ids: Sequence[int] | None) -> Iterator[dict[str, Any]]:
    latest = queries.latest_counting_visits(session, campaign_id, village_ids=village_ids,
                                            extra_columns=(Visit.server_seq.label("latest_visit_seq"),))
    statement = (
        sa.select(latest.c.household_id, Village.name.label("village"), latest.c.approved,
                  *(latest.c[name] for name in queries.VISIT_FLAGS), latest.c.conclusion,
                  latest.c.latest_visit_seq)
        .join(Household, Household.id == latest.c.household_id)
        .join(Village, Village.id == Household.village_id)
        .where(Household.merged_into_id.is_(None), queries.in_villages(Household.village_id, village_ids))
        .order_by(latest.c.household_id)
    )
    for row in _stream(session, statement):
        yield row._asdict()
