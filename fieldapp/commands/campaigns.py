"""``fieldapp campaign create``."""

from __future__ import annotations

import datetime as dt
import re

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from fieldapp import audit
from fieldapp.extensions import db
from fieldapp.models import Campaign, User
from sync.form import available_versions


def create_campaign(campaign_id: str, name: str, start: dt.date, end: dt.date,
                    monitoring_line: float = 7600.0, form_version: str = "2023.1",
                    activate: bool = False, actor: User | None = None) -> Campaign:
    """Create a campaign; raises ValueError with a Chinese message."""
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z_\-]{0,39}", campaign_id):
        raise ValueError("排查活动编号只能包含字母、数字、- 和 _")
    if db.session.get(Campaign, campaign_id):
        raise ValueError(f"排查活动已存在：{campaign_id}")
    if end < start:
        raise ValueError("结束日期不能早于开始日期")
    if monitoring_line <= 0:
        raise ValueError("监测范围（元）应大于0")
    if form_version not in available_versions():
        raise ValueError(f"表单版本不存在：{form_version}")
    campaign = Campaign(id=campaign_id, name=name, start_date=start, end_date=end,
                        monitoring_line=monitoring_line, form_version=form_version, active=False)
    db.session.add(campaign)
    if activate:
        activate_campaign(campaign)
    audit.record(db.session, actor, "campaign_create", "campaign", campaign_id,
                 after={"name": name, "start": str(start), "end": str(end),
                        "monitoring_line": monitoring_line, "active": activate})
    return campaign


def activate_campaign(campaign: Campaign) -> None:
    """Make ``campaign`` the active one (only one is active at a time)."""
    db.session.execute(sa.update(Campaign).where(Campaign.id != campaign.id).values(active=False))
    campaign.active = True
    campaign.closed = False


def active_campaign() -> Campaign | None:
    return db.session.scalar(sa.select(Campaign).where(Campaign.active.is_(True)))


def register(app: Flask) -> None:
    group = AppGroup("campaign", help="Manage screening campaigns (排查活动).")

    @group.command("create")
    @click.argument("campaign_id")
    @click.option("--name", required=True, help="Name, e.g. 2023年防止返贫监测帮扶集中排查.")
    @click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day, YYYY-MM-DD.")
    @click.option("--end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, YYYY-MM-DD.")
    @click.option("--monitoring-line", type=float, default=7600.0, show_default=True,
                  help="Monitoring line in yuan per person per year.")
    @click.option("--form-version", default="2023.1", show_default=True)
    @click.option("--activate", is_flag=True, help="Make it the active campaign.")
    def create(campaign_id: str, name: str, start: dt.datetime, end: dt.datetime,
               monitoring_line: float, form_version: str, activate: bool) -> None:
        """Create a campaign (创建排查活动)."""
        try:
            create_campaign(campaign_id, name, start.date(), end.date(), monitoring_line, form_version, activate)
        except ValueError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"已创建排查活动 {campaign_id}{'（已启用）' if activate else ''}")

    app.cli.add_command(group)
