"""``fieldapp campaign create``."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask
from flask.cli import AppGroup

from fieldapp.campaigns import create_campaign
from sync.form import DEFAULT_VERSION


def register(app: Flask) -> None:
    group = AppGroup("campaign", help="Manage screening campaigns (排查活动).")

    @group.command("create")
    @click.argument("campaign_id")
    @click.option("--name", required=True, help="Name, e.g. 2023年防止返贫监测帮扶集中排查.")
    @click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day, YYYY-MM-DD.")
    @click.option("--end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day, YYYY-MM-DD.")
    @click.option("--monitoring-line", type=float, default=7600.0, show_default=True,
                  help="Monitoring line in yuan per person per year.")
    @click.option("--form-version", default=DEFAULT_VERSION, show_default=True)
    @click.option("--activate", is_flag=True, help="Make it the active campaign.")
    def create(campaign_id: str, name: str, start: dt.datetime, end: dt.datetime,
               monitoring_line: float, form_version: str, activate: bool) -> None:
        """Create a campaign (创建排查活动)."""
        try:
            create_campaign(campaign_id, name, start.date(), end.date(), monitoring_line, form_version, activate)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"已创建排查活动 {campaign_id}{'（已启用）' if activate else ''}")

    app.cli.add_command(group)
