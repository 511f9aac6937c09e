"""``fieldapp import-backup FILE``: load a phone's 导出备份 file (see :mod:`fieldapp.backup`)."""

from __future__ import annotations

from typing import IO

import click
from flask import Flask

from fieldapp.backup import import_batches, read_backup


def register(app: Flask) -> None:
    @app.cli.command("import-backup")
    @click.argument("file", type=click.File("rb"))
    def import_backup(file: IO[bytes]) -> None:
        """Import a phone's 导出备份 file (every unsynced visit), idempotently like a push."""
        try:
            batches = read_backup(file)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        report = import_batches(batches)
        counts: dict[str, int] = {}
        for row in report:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
            click.echo("\t".join([row["worker"], row["uuid"] or "-", row["status"], row["detail"]]))
        click.echo("合计：" + "，".join(f"{status} {n}" for status, n in sorted(counts.items())) if counts else "备份文件中没有记录")
        if counts.get("failed"):
            raise click.ClickException(f"{counts['failed']} 批导入失败（见上）")
