"""``fieldapp report progress|followup|rebuild`` and ``fieldapp export sqlite``: the dashboard's numbers as files.

The CLI sees every village (it runs on the server, as an admin would), unless
``--village`` narrows it. ID numbers and phones are masked unless ``--full-ids``.
Every export is written to the audit log (``via: cli``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from fieldapp import campaigns
from fieldapp.extensions import db
from fieldapp.models import Campaign
from fieldapp.reports import exports, queries, rollup, services
from fieldapp.reports.sqlite_export import export_campaign

campaign_option = click.option("--campaign", "campaign_id", required=True, help="Campaign id, e.g. 2023-jzpc.")
village_option = click.option("--village", "villages", multiple=True,
                              help="Limit to this village (name); repeat for several. Default: all.")
town_option = click.option("--town", "towns", multiple=True,
                           help="At central: limit to this town (乡镇, name); repeat for several. Default: all.")
out_option = click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                          help="File to write.")


def _scope(campaign_id: str, villages: tuple[str, ...],
           towns: tuple[str, ...] = ()) -> tuple[Campaign, list[int] | None]:
    """The campaign and the village ids the options name (ClickException when one does not exist)."""
    session = db.session()
    try:
        return campaigns.get_campaign(session, campaign_id), services.villages_named(session, villages, towns)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def register(app: Flask) -> None:
    report = AppGroup("report", help="Progress reports (排查进度报表).")
    export = AppGroup("export", help="Data exports for analysts (数据导出).")

    @report.command("progress")
    @campaign_option
    @click.option("--format", "file_format", type=click.Choice(("csv", "xlsx", "json")), required=True,
                  help="csv (UTF-8 with BOM), xlsx, or json (the numbers of /reports/progress.json).")
    @out_option
    @village_option
    @town_option
    def progress(campaign_id: str, file_format: str, out: Path, villages: tuple[str, ...],
                 towns: tuple[str, ...]) -> None:
        """Write the progress table by village with its totals row (排查进度表); at central by
        town and village, with each town's subtotal and summary."""
        campaign, scope = _scope(campaign_id, villages, towns)
        if file_format == "json":
            document = services.progress_document(db.session(), campaign, scope)
            content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
            rows = len(document["villages"])
        else:
            file = services.progress_file(db.session(), campaign, scope, file_format)
            content, rows = file.content, file.rows
        out.write_bytes(content)
        exports.record_export(db.session(), None, "progress", campaign_id=campaign.id, export_format=file_format,
                              rows=rows, village_ids=scope, via="cli", extra={"path": str(out)})
        click.echo(f"已导出 {rows} 个村的排查进度到 {out}")

    @report.command("followup")
    @campaign_option
    @click.option("--flag", type=click.Choice(queries.FOLLOW_UP_FLAGS), required=True,
                  help="Which list: a visit flag or a conclusion.")
    @click.option("--format", "file_format", type=click.Choice(services.FORMATS), required=True)
    @out_option
    @village_option
    @town_option
    @click.option("--full-ids", is_flag=True, help="Full ID numbers and phones (audited). Default: masked.")
    def followup(campaign_id: str, flag: str, file_format: str, out: Path, villages: tuple[str, ...],
                 towns: tuple[str, ...], full_ids: bool) -> None:
        """Write the households to revisit for one flag (跟进名单)."""
        campaign, scope = _scope(campaign_id, villages, towns)
        file = services.follow_up_file(db.session(), campaign, scope, flag, file_format, full=full_ids)
        out.write_bytes(file.content)
        exports.record_export(db.session(), None, f"follow_up:{flag}", campaign_id=campaign.id,
                              export_format=file_format, rows=file.rows, full=full_ids, village_ids=scope,
                              via="cli", extra={"path": str(out)})
        click.echo(f"已导出 {file.rows} 户到 {out}")

    @report.command("rebuild")
    @click.option("--campaign", "campaign_id", help="Campaign id. Default: every campaign.")
    def rebuild(campaign_id: str | None) -> None:
        """Recompute the report rollups from scratch (after fieldapp purge, or to check them)."""
        session = db.session()
        if campaign_id:
            ids = [_scope(campaign_id, ())[0].id]
        else:
            ids = list(session.scalars(sa.select(Campaign.id).order_by(Campaign.id)))
        session.rollback()
        for cid in ids:
            done = rollup.rebuild(session, cid)
            click.echo(f"已重建 {cid} 的报表汇总：{done.households} 户，变更号 {done.change_seq}")

    @export.command("sqlite")
    @campaign_option
    @out_option
    @village_option
    @click.option("--full-ids", is_flag=True, help="Full ID numbers and phones (audited). Default: masked.")
    def sqlite(campaign_id: str, out: Path, villages: tuple[str, ...], full_ids: bool) -> None:
        """Write households, visits, flags and progress as a standalone SQLite file (for analysts)."""
        campaign, scope = _scope(campaign_id, villages)
        try:
            counts = export_campaign(db.session(), campaign.id, out, full_ids=full_ids, village_ids=scope)
        except FileExistsError as exc:
            raise click.ClickException(str(exc)) from exc
        exports.record_export(db.session(), None, "sqlite", campaign_id=campaign.id, export_format="sqlite",
                              rows=counts["visits"], full=full_ids, village_ids=scope, via="cli",
                              extra={"path": str(out), "tables": counts})
        click.echo("已导出 " + "，".join(f"{name} {count} 行" for name, count in counts.items()) + f" 到 {out}")

    app.cli.add_command(report)
    app.cli.add_command(export)
