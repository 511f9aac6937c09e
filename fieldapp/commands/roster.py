"""``fieldapp roster import FILE [--skip-bad-rows] [--members MEMBERS]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fieldapp.roster import ImportResult, RosterFileError, import_roster

PROGRESS_MIN_BYTES = 256 * 1024
STAGES = {"read": _l("读取"), "check": _l("校验"), "write": _l("写入"), "users": _l("用户"), "visits": _l("走访")}


class ProgressBars:
    """A click progress bar per stage (``progress(stage, done, total)``), on standard error."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None
        self.shown = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = click.progressbar(length=total, label=str(STAGES.get(stage, stage)),
                                         file=sys.stderr)
            self.bar.__enter__()
            self.shown = 0
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _report(result: ImportResult, max_errors: int) -> None:
    if result.errors:
        click.echo(_("有错误的行（%(n)s）：", n=len(result.errors)), err=True)
        shown = result.errors if max_errors <= 0 else result.errors[:max_errors]
        for error in shown:
            click.echo(f"  {error.message}", err=True)
        if len(shown) < len(result.errors):
            click.echo("  " + _("……另有 %(n)s 行有错误（--max-errors 0 显示全部）",
                                n=len(result.errors) - len(shown)), err=True)
    if result.villages_created:
        click.echo(_("新建村/社区：%(names)s", names="、".join(result.villages_created)))


def register(app: Flask) -> None:
    group = AppGroup("roster", help="Household roster (花名册).")

    @group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--skip-bad-rows", is_flag=True,
                  help="Import the good rows and list the bad ones (default: import nothing if any row is bad).")
    @click.option("--max-errors", default=200, show_default=True, type=int,
                  help="How many bad rows to list (0 = all).")
    @click.option("--members", "members_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="A members file (家庭成员, CSV or XLSX) keyed by 户编号; an XLSX roster's members sheet "
                       "is read without it.")
    def import_command(file: Path, skip_bad_rows: bool, max_errors: int, members_file: Path | None) -> None:
        """Import a roster file: CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX (导入花名册).

        All or nothing unless --skip-bad-rows; importing the same file again changes nothing.
        """
        progress = ProgressBars() if file.stat().st_size >= PROGRESS_MIN_BYTES else None
        try:
            result = import_roster(file, skip_bad_rows=skip_bad_rows, progress=progress, members_path=members_file)
        except RosterFileError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            if progress:
                progress.close()
        _report(result, max_errors)
        if not result.imported:
            hint = "" if skip_bad_rows else _("（改正后重新导入，或加 --skip-bad-rows 只导入正确的行）")
            raise click.ClickException(result.summary() + hint)
        click.echo(result.summary())
        if result.members_households:
            click.echo(_("家庭成员：%(n)s 户", n=result.members_households))

    app.cli.add_command(group)
