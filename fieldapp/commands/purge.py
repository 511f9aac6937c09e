"""``fieldapp purge --campaign ID --before DATE [--yes]``: retention of visit data.

What goes and what stays: :mod:`fieldapp.retention`. Without ``--yes`` only
the summary of what would be deleted is printed.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask

from fieldapp.retention import purge_visits


def register(app: Flask) -> None:
    @app.cli.command("purge")
    @click.option("--campaign", "campaign_id", required=True, help="Campaign id, e.g. 2023-jzpc.")
    @click.option("--before", type=click.DateTime(["%Y-%m-%d"]), required=True,
                  help="Delete visits received before this day (YYYY-MM-DD, China time).")
    @click.option("--yes", is_flag=True, help="Really delete; without it only a summary is printed.")
    def purge(campaign_id: str, before: dt.datetime, yes: bool) -> None:
        """Delete a campaign's old visits for retention (按保存期限删除走访记录).

        Conflicts and other rows tied to those visits go with them; households
        and the audit log stay. Dry run unless --yes.
        """
        try:
            summary = purge_visits(campaign_id, before.date(), apply=yes)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        for line in summary.lines():
            click.echo(line)
        if summary.applied:
            click.echo("已删除，并已写入审计日志。")
        elif summary.visits:
            click.echo("这是预览，没有删除任何数据。确认删除请加 --yes。")
        else:
            click.echo("没有需要删除的记录。")
