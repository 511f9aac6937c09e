"""``fieldapp demo [--visits FRACTION] [--no-serve] [--port N] [--seed N]``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from fieldapp.commands.roster import ProgressBars
from fieldapp.db.schema import upgrade_schema
from fieldapp.demo.build import CAMPAIGN_END, CAMPAIGN_START, build_demo, demo_logins, demo_state
from fieldapp.demo.places import TOWN_NAME
from fieldapp.demo.summary import figures, town_counts
from fieldapp.extensions import db
from fieldapp.server import default_workers, run_gunicorn
from sync.form import FormContext


def register(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--visits", type=click.FloatRange(0, 1), default=0.0, show_default=True,
                  help="Share of households to visit through the real sync ingest (e.g. 0.6).")
    @click.option("--no-serve", is_flag=True, help="Build the demo and exit without serving.")
    @click.option("--port", default=5000, show_default=True, type=int, help="Port on 127.0.0.1.")
    @click.option("--seed", default=2023, show_default=True, type=int, help="Seed of the generated town.")
    @with_appcontext
    def demo(visits: float, no_serve: bool, port: int, seed: int) -> None:
        """Build the demo town 保安镇 (13,740 households) and serve it (演示数据).

        Creates or upgrades the schema; builds the town only in an empty
        database and reuses it when it is already there.
        """
        upgrade_schema()
        session = db.session()
        state = demo_state(session)
        session.commit()
        if state == "other":
            raise click.ClickException(_(
                "数据库中已有其他数据，不能生成演示数据。请用一个空数据库，例如设置 "
                "FIELDAPP_DATABASE_URL=sqlite:///demo.db 后再运行 fieldapp demo"))
        if state == "demo":
            click.echo(_("数据库中已有演示乡镇 %(town)s，直接使用。", town=TOWN_NAME))
        else:
            click.echo(_("正在生成演示乡镇 %(town)s（大冶市）：30个村/社区，13740户……", town=TOWN_NAME))
            bars = ProgressBars()
            try:
                build_demo(seed, progress=bars)
            finally:
                bars.close()
        if visits > 0:
            _simulate(visits, seed)
        click.echo(figures(town_counts(db.session(), TOWN_NAME)).line())
        db.session.commit()
        click.echo("")
        click.echo(_("演示账号 / demo logins:"))
        for login in demo_logins(seed):
            click.echo(f"  {login.line()}")
        click.echo(_campaign_line())
        click.echo("")
        if no_serve:
            return
        url = current_app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1]
        click.echo(f"排查通 demo on http://127.0.0.1:{port}/  (database: {url}; Ctrl+C to stop)")
        sys.stdout.flush()  # the logins must reach a pipe or log file before gunicorn forks
        db.session.remove()
        db.engine.dispose()
        run_gunicorn("127.0.0.1", port, default_workers(), quiet=True)


def _campaign_line() -> str:
    """The demo campaign's dates; when today is past them, what the phone fills in."""
    line: str = _("演示排查活动：%(start)s 至 %(end)s（演示走访都在其中）。",
                  start=CAMPAIGN_START.isoformat(), end=CAMPAIGN_END.isoformat())
    if not CAMPAIGN_START <= FormContext().today_in_china() <= CAMPAIGN_END:
        line += _("今天不在排查期间：手机上新走访的日期默认为排查期间最后一天。")
    return line


def _simulate(fraction: float, seed: int) -> None:
    from fieldapp.demo.visits import existing_visit_count, simulate_visits

    already = existing_visit_count()
    if already:
        click.echo(_("已有 %(n)s 条走访记录，不再模拟走访。", n=already))
        return
    bars = ProgressBars()
    try:
        report = simulate_visits(fraction, seed, progress=bars)
    finally:
        bars.close()
    click.echo(report.line())
