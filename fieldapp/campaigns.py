"""Screening campaigns (排查活动): which one is active, and creating and activating them.

"The active campaign" has one definition, :func:`active_select`: the
campaign marked active, the first by id should several be marked (activating
one deactivates the others, so that happens only in hand-edited data).
Phones fill its form (``GET /api/v1/form``), a pull counts a household as
visited by its visits, the dedup run files its candidates under it, and
reports show it unless asked for another (:func:`default_campaign`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db import AnySession, write_transaction
from fieldapp.extensions import db
from fieldapp.models import Campaign, User
from sync.form import DEFAULT_VERSION, available_versions

_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_\-]{0,39}")
_NEWEST_FIRST = (Campaign.start_date.desc(), Campaign.id)


def active_select(*columns: Any) -> sa.Select[Any]:
    """``SELECT columns`` of the active campaign (no row when none is active); use
    ``.scalar_subquery()`` to put one column inside another query."""
    return sa.select(*columns).where(Campaign.active.is_(True)).order_by(Campaign.id).limit(1)


def active_campaign(session: AnySession) -> Campaign | None:
    """The active campaign, or None."""
    campaign: Campaign | None = session.scalar(active_select(Campaign))
    return campaign


def newest_first(session: AnySession) -> list[Campaign]:
    """Every campaign, the latest to start first (the order of the lists on the pages)."""
    return list(session.scalars(sa.select(Campaign).order_by(*_NEWEST_FIRST)))


def default_campaign(session: AnySession) -> Campaign | None:
    """The campaign shown when none is named: the active one, else the latest to start."""
    return active_campaign(session) or session.scalar(sa.select(Campaign).order_by(*_NEWEST_FIRST).limit(1))


def get_campaign(session: AnySession, campaign_id: str) -> Campaign:
    """The campaign ``campaign_id``; raises ValueError (Chinese) when there is none."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValueError(f"排查活动不存在：{campaign_id}")
    return campaign


def make_active(session: Session, campaign: Campaign) -> list[str]:
    """Make ``campaign`` the active one, reopened (only one is active at a time).

    Returns the ids of the campaigns this deactivated, in id order.
    """
    others = (Campaign.id != campaign.id, Campaign.active.is_(True))
    deactivated = list(session.scalars(sa.select(Campaign.id).where(*others).order_by(Campaign.id)))
    session.execute(sa.update(Campaign).where(*others).values(active=False))
    campaign.active = True
    campaign.closed = False
    return deactivated


def add_campaign(session: Session, campaign_id: str, name: str, start: dt.date, end: dt.date,
                 monitoring_line: float = 7600.0, form_version: str = DEFAULT_VERSION,
                 activate: bool = False, actor: User | None = None) -> Campaign:
    """Add a campaign inside the caller's write transaction, audited; raises ValueError
    with a Chinese message. With ``activate`` it becomes the only active one, and the
    campaigns it deactivates get an audit entry of their own."""
    if not _ID.fullmatch(campaign_id):
        raise ValueError("排查活动编号只能包含字母、数字、- 和 _")
    if session.get(Campaign, campaign_id):
        raise ValueError(f"排查活动已存在：{campaign_id}")
    if end < start:
        raise ValueError("结束日期不能早于开始日期")
    if monitoring_line <= 0:
        raise ValueError("监测范围（元）应大于0")
    if form_version not in available_versions():
        raise ValueError(f"表单版本不存在：{form_version}")
    campaign = Campaign(id=campaign_id, name=name, start_date=start, end_date=end,
                        monitoring_line=monitoring_line, form_version=form_version, active=False)
    session.add(campaign)
    deactivated = make_active(session, campaign) if activate else []
    audit.record(session, actor, "campaign_create", "campaign", campaign_id,
                 after={"name": name, "start": str(start), "end": str(end),
                        "monitoring_line": monitoring_line, "active": activate})
    if deactivated:
        audit.record(session, actor, "campaign_deactivate", "campaign", ",".join(deactivated),
                     before={"active": True}, after={"active": False}, details={"because": campaign_id})
    return campaign


def create_campaign(campaign_id: str, name: str, start: dt.date, end: dt.date,
                    monitoring_line: float = 7600.0, form_version: str = DEFAULT_VERSION,
                    activate: bool = False, actor: User | None = None) -> Campaign:
    """Open a campaign (``fieldapp campaign create``, the admin page): :func:`add_campaign`
    in a write transaction of its own. A town that replicates with a county's central
    server takes its campaigns from central (docs/replication.md): refused there."""
    if current_app.config.get("UPSTREAM_URL"):
        raise ValueError("本镇已接入县级中心：排查活动由县级创建，同步后自动出现")
    with write_transaction(db.session) as session:
        return add_campaign(session, campaign_id, name, start, end, monitoring_line, form_version,
                            activate, actor)
