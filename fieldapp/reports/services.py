"""Report use cases shared by the pages and the CLI: pick the campaign, build documents and files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.campaigns import default_campaign
from fieldapp.models import Campaign, Town, Village
from fieldapp.reports import exports, queries
from fieldapp.reports.summary import county_summary, paragraph, town_summary
from fieldapp.tier import is_central

FORMATS = ("csv", "xlsx")


@dataclass
class ExportFile:
    content: bytes
    mimetype: str
    filename: str
    rows: int


def find_campaign(session: Session, campaign_id: str | None) -> Campaign | None:
    """The named campaign; without a name :func:`fieldapp.campaigns.default_campaign`."""
    if campaign_id:
        return session.get(Campaign, campaign_id)
    return default_campaign(session)


def villages_named(session: Session, names: Sequence[str], towns: Sequence[str] = ()) -> list[int] | None:
    """The ids of the villages named, in id order, within the towns named if any (None for
    none named: every village); raises ValueError (Chinese) naming the ones that do not
    exist, or a village name found in several towns (at central: name the town too)."""
    if not names and not towns:
        return None
    query = sa.select(Village.name, Village.id, Town.name).join(Town, Town.id == Village.town_id)
    if towns:
        known = set(session.scalars(sa.select(Town.name).where(Town.name.in_(towns))))
        if missing_towns := sorted(set(towns) - known):
            raise ValueError(f"乡镇不存在：{'、'.join(missing_towns)}")
        query = query.where(Town.name.in_(towns))
    if names:
        query = query.where(Village.name.in_(names))
    found: dict[str, list[tuple[int, str]]] = {}
    for name, village_id, town in session.execute(query):
        found.setdefault(name, []).append((village_id, town))
    missing = sorted(set(names) - set(found))
    if missing:
        raise ValueError(f"村不存在：{'、'.join(missing)}")
    if names:
        doubled = sorted(name for name, places in found.items() if len(places) > 1)
        if doubled:
            raise ValueError(f"多个乡镇都有{'、'.join(doubled)}，请用 --town 指定乡镇")
    return sorted(village_id for places in found.values() for village_id, _town in places)


def village_names(session: Session, village_ids: Sequence[int] | None) -> list[str] | None:
    """Names for the summary: None for the whole town (every village: an admin, or a scope
    that covers them all, such as a town supervisor's), else the names in the scope."""
    if village_ids is None:
        return None
    every = set(session.scalars(sa.select(Village.id)))
    if every and every <= set(village_ids):
        return None
    return list(session.scalars(sa.select(Village.name).where(queries.in_villages(Village.id, village_ids))
                                .order_by(Village.code, Village.id)))


@dataclass
class TownSection:
    """One town of central's report: its subtotal row, its villages, its paragraph."""

    totals: queries.ProgressRow
    villages: list[queries.ProgressRow]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {"town": self.totals.town, "totals": self.totals.to_dict(), "summary": self.summary,
                "villages": [row.to_dict() for row in self.villages]}


@dataclass
class ProgressReport:
    """The dashboard's numbers and paragraph; at central (``towns`` not None) also per town."""

    progress: queries.Progress
    summary: str
    towns: list[TownSection] | None = None


def progress_report(session: Session, campaign_id: str, village_ids: Sequence[int] | None, *,
                    page: bool = False) -> ProgressReport:
    """County → town → village at central (a server with nodes), town → village at a town.

    At central, a town whose villages are all in scope is named in its paragraph; the
    county's paragraph says 全县 when every village is in scope, else the towns' names."""
    progress = queries.progress_by_village(session, campaign_id, village_ids, page=page)
    if not is_central(session):
        return ProgressReport(progress, town_summary(progress, village_names(session, village_ids)))
    sizes = dict(session.execute(sa.select(Town.name, sa.func.count(Village.id))
                                 .join(Village, Village.town_id == Town.id).group_by(Town.name)).all())
    towns = []
    for subtotal, rows in progress.by_town():
        whole = len(rows) == sizes.get(subtotal.town)
        area = subtotal.town if whole else subtotal.town + "、".join(r.village for r in rows)
        towns.append(TownSection(subtotal, rows, paragraph(subtotal, area)))
    every = village_ids is None or village_names(session, village_ids) is None
    summary = county_summary(progress, None if every else [t.totals.town for t in towns])
    return ProgressReport(progress, summary, towns)


def progress_document(session: Session, campaign: Campaign,
                      village_ids: Sequence[int] | None) -> dict[str, Any]:
    """The numbers of the dashboard as JSON-ready data (page ``progress.json`` and the CLI);
    at central also ``towns``: each town's subtotal, paragraph and villages."""
    report = progress_report(session, campaign.id, village_ids)
    document = {
        "campaign": {"id": campaign.id, "name": campaign.name},
        "villages": [row.to_dict() for row in report.progress.rows],
        "totals": report.progress.totals.to_dict(),
        "summary": report.summary,
    }
    if report.towns is not None:
        document["towns"] = [town.to_dict() for town in report.towns]
    return document


def progress_file(session: Session, campaign: Campaign, village_ids: Sequence[int] | None,
                  file_format: str) -> ExportFile:
    """The progress table; at central with a 乡镇 column and each town's 小计 row."""
    report = progress_report(session, campaign.id, village_ids)
    headers, rows = exports.progress_table(report.progress, by_town=report.towns is not None)
    count = len(report.progress.rows)
    name = f"排查进度-{campaign.id}.{file_format}"
    if file_format == "csv":
        return ExportFile(exports.to_csv(headers, rows), exports.CSV_MIMETYPE, name, count)
    if file_format == "xlsx":
        content = exports.to_xlsx("排查进度", headers, rows, totals_last=True, heading=f"{campaign.name} · 排查进度")
        return ExportFile(content, exports.XLSX_MIMETYPE, name, count)
    raise ValueError(f"不支持的格式：{file_format}")


def follow_up_file(session: Session, campaign: Campaign, village_ids: Sequence[int] | None,
                   flag: str, file_format: str, *, full: bool) -> ExportFile:
    """A follow-up list; at central with a 乡镇 column."""
    items = queries.follow_up(session, campaign.id, flag, village_ids)
    headers, rows = exports.follow_up_table(items, campaign.form_version, full, by_town=is_central(session))
    title = exports.FLAG_TITLES[flag]
    name = f"跟进名单-{title}-{campaign.id}.{file_format}"
    if file_format == "csv":
        return ExportFile(exports.to_csv(headers, rows), exports.CSV_MIMETYPE, name, len(rows))
    if file_format == "xlsx":
        content = exports.to_xlsx(title, headers, rows, heading=f"{campaign.name} · 跟进名单：{title}")
        return ExportFile(content, exports.XLSX_MIMETYPE, name, len(rows))
    raise ValueError(f"不支持的格式：{file_format}")
