"""What the reports count, shared by the queries and the rollups (see the queries module note)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from fieldapp.models import Visit

NOT_COUNTING = ("returned", "superseded")
VISIT_FLAGS = ("below_monitoring_line", "below_10k", "guarantee_gap", "needs_attention")
CONCLUSION_FLAGS = ("suggest_monitor", "suggest_eliminate")
FOLLOW_UP_FLAGS = VISIT_FLAGS + CONCLUSION_FLAGS


def in_villages(column: Any, village_ids: Sequence[int] | None) -> sa.ColumnElement[bool]:
    """``column`` limited to ``village_ids``; None means every village (an admin)."""
    if village_ids is None:
        return sa.true()
    return column.in_(list(village_ids)) if village_ids else sa.false()


def counting_visit() -> sa.ColumnElement[bool]:
    return Visit.review_status.not_in(NOT_COUNTING)


def latest_counting_visits(session: Session, campaign_id: str, *,
                           village_ids: Sequence[int] | None = None,
                           household_ids: Sequence[str] | None = None,
                           extra_columns: Sequence[Any] = ()) -> sa.CTE:
    """One row per household that has counting visits in the campaign.

    Columns: ``household_id``, ``approved`` (1 if any counting visit is approved),
    the latest visit's flags and ``conclusion``, and ``extra_columns`` (of the latest
    visit). "Latest" is the highest ``server_seq`` (unique: the server's change
    sequence), the order in which the server applied the visits to the household,
    so the flags match the household record.
    Visits of a merged household have moved to the survivor (review/merges.py).

    Two spellings of the same query, each the fast one on its backend: SQLite
    takes the other columns of a ``max()`` row from that row (documented "bare
    columns"), one pass over ``ix_visits_report`` with no sort; PostgreSQL uses
    DISTINCT ON. A row_number() window on SQLite costs three times as much.
    """
    approved = sa.case((Visit.review_status == "approved", 1), else_=0)
    columns = (
        *(getattr(Visit, name).label(name) for name in VISIT_FLAGS),
        Visit.conclusion.label("conclusion"),
        *extra_columns,
    )
    # A visit's village is its household's (a merge moves both, review/merges.py).
    where = [Visit.campaign_id == campaign_id, counting_visit(), in_villages(Visit.village_id, village_ids)]
    if household_ids is not None:  # the rollup's recompute of a few households
        where.append(Visit.household_id.in_(list(household_ids)))
    if session.get_bind().dialect.name == "sqlite":
        latest = (
            sa.select(Visit.household_id.label("household_id"),
                      sa.func.max(Visit.server_seq).label("server_seq"),
                      (sa.func.total(approved) > 0).label("approved"), *columns)
            .where(*where)
            .group_by(Visit.household_id)
        )
        # MATERIALIZED: computed once, not once per row it is joined to.
        return latest.cte("latest").prefix_with("MATERIALIZED")
    # DISTINCT ON rather than row_number() = 1: PostgreSQL estimates "rn = 1" as a
    # handful of rows and then joins 800k of them by nested loop. One window order
    # (household, newest first) serves both the max() and DISTINCT ON: one sort,
    # incremental over ix_visits_report.
    newest_first = (Visit.household_id, Visit.server_seq.desc())
    return (
        sa.select(
            Visit.household_id.label("household_id"),
            sa.func.max(approved).over(partition_by=Visit.household_id, order_by=Visit.server_seq.desc(),
                                       rows=(None, None)).label("approved"),
            *columns,
        )
        .where(*where)
        .ext(distinct_on(Visit.household_id))
        .order_by(*newest_first)
        .cte("latest")
    )
