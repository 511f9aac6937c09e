"""``fieldapp dedup run`` and ``fieldapp dedup check``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from fieldapp.dedup_service import DedupError, check_rows, run_bulk
from fieldapp.extensions import db
from sync.dedup import Progress
from sync.dedup.roster import RosterFileError, read_roster

# Share of the progress bar per stage of a run (matching is mostly prepare + score).
_STAGES = {"prepare": (0, 55), "block": (55, 75), "score": (75, 100)}


@contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """A click progress bar (0–100) fed by the dedup engine's ``progress`` callback."""
    with click.progressbar(length=100, label=label, show_eta=False, file=sys.stderr) as bar:
        shown = 0

        def report(stage: str, done: int, total: int) -> None:
            nonlocal shown
            low, high = _STAGES.get(stage, (0, 100))
            at = low + (high - low) * done // max(total, 1)
            if at > shown:
                bar.update(at - shown)
                shown = at

        yield report
        if shown < 100:
            bar.update(100 - shown)


def register(app: Flask) -> None:
    group = AppGroup("dedup", help="Find duplicate households (重复户查找).")

    @group.command("run")
    @click.option("--campaign", "campaign_id", default=None,
                  help="Campaign the candidates belong to (default: the active one).")
    def run(campaign_id: str | None) -> None:
        """Find duplicate households in the database and store candidates for review (批量查重)."""
        try:
            with progress_bar("查重中") as report:
                result = run_bulk(db.session(), campaign_id, progress=report)
        except DedupError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"已检查 {result.households} 户，发现疑似重复 {result.pairs} 对"
            f"（其中身份证号完全相同 {result.exact_id} 对，户主是另一户的家庭成员 {result.members} 对）："
            f"新增 {result.created} 对，"
            f"更新 {result.updated} 对，跳过已处理 {result.skipped} 对；用时 {result.seconds:.1f} 秒。"
            "候选已交审核员处理，未自动合并。"
        )

    @group.command("check")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="CSV to write: row_a,row_b,score,evidence.")
    @click.option("--bom/--no-bom", default=True, show_default=True,
                  help="Start the CSV with a UTF-8 BOM so that Excel reads the Chinese evidence.")
    def check(file: Path, out: Path, bom: bool) -> None:
        """Find duplicate rows in a roster CSV/XLSX file and write them to a CSV (表格查重)."""
        try:
            rows = read_roster(file)
        except RosterFileError as exc:
            raise click.ClickException(str(exc)) from exc
        with progress_bar("查重中") as report:
            pairs = check_rows(rows, out, bom=bom, progress=report)
        click.echo(f"已检查 {len(rows.records)} 行，发现疑似重复 {pairs} 对，已写入 {out}")

    app.cli.add_command(group)
