"""Report use cases shared by the pages and the CLI: pick the campaign, build documents and files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.campaigns import default_campaign
from fieldapp.models import Campaign, Village
from fieldapp.reports import exports, queries
from fieldapp.reports.summary import town_summary

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


def villages_named(session: Session, names: Sequence[str]) -> list[int] | None:
    """The ids of the villages named, in id order (None for none named: every village);
    raises ValueError (Chinese) naming the ones that do not exist."""
    if not names:
        return None
    found = dict(session.execute(sa.select(Village.name, Village.id).where(Village.name.in_(names))).all())
    missing = sorted(set(names) - set(found))
    if missing:
        raise ValueError(f"村不存在：{'、'.join(missing)}")
    return sorted(found.values())


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


def progress_document(session: Session, campaign: Campaign,
                      village_ids: Sequence[int] | None) -> dict[str, Any]:
    """The numbers of the dashboard as JSON-ready data (page ``progress.json`` and the CLI)."""
    progress = queries.progress_by_village(session, campaign.id, village_ids)
    return {
        "campaign": {"id": campaign.id, "name": campaign.name},
        "villages": [row.to_dict() for row in progress.rows],
        "totals": progress.totals.to_dict(),
        "summary": town_summary(progress, village_names(session, village_ids)),
    }


def progress_file(session: Session, campaign: Campaign, village_ids: Sequence[int] | None,
                  file_format: str) -> ExportFile:
    progress = queries.progress_by_village(session, campaign.id, village_ids)
    headers, rows = exports.progress_table(progress)
    name = f"排查进度-{campaign.id}.{file_format}"
    if file_format == "csv":
        return ExportFile(exports.to_csv(headers, rows), exports.CSV_MIMETYPE, name, len(progress.rows))
    if file_format == "xlsx":
        content = exports.to_xlsx("排查进度", headers, rows, totals_last=True, heading=f"{campaign.name} · 排查进度")
        return ExportFile(content, exports.XLSX_MIMETYPE, name, len(progress.rows))
    raise ValueError(f"不支持的格式：{file_format}")


def follow_up_file(session: Session, campaign: Campaign, village_ids: Sequence[int] | None,
                   flag: str, file_format: str, *, full: bool) -> ExportFile:
    items = queries.follow_up(session, campaign.id, flag, village_ids)
    headers, rows = exports.follow_up_table(items, campaign.form_version, full)
    title = exports.FLAG_TITLES[flag]
    name = f"跟进名单-{title}-{campaign.id}.{file_format}"
    if file_format == "csv":
        return ExportFile(exports.to_csv(headers, rows), exports.CSV_MIMETYPE, name, len(rows))
    if file_format == "xlsx":
        content = exports.to_xlsx(title, headers, rows, heading=f"{campaign.name} · 跟进名单：{title}")
        return ExportFile(content, exports.XLSX_MIMETYPE, name, len(rows))
    raise ValueError(f"不支持的格式：{file_format}")
