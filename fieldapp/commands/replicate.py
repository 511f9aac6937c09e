"""``fieldapp replicate`` (on a town with an upstream)."""

from __future__ import annotations

import signal
import sys
import threading

import click
from flask import Flask, current_app

from fieldapp.replication.town import RoundReport
from fieldapp.replication.watch import run_round, watch

_NAMES = {"households": "农户", "revisions": "户信息版本", "visits": "走访记录", "conflicts": "冲突",
          "candidates": "疑似重复", "merges": "合并", "decisions": "决定冲突", "commands": "县级决定回执"}
_STATUS = {"applied": "已执行", "conflict": "与本镇决定不同（已保留待处理）", "refused": "未执行"}


def describe(report: RoundReport) -> list[str]:
    """The round's outcome in Chinese, one line each way."""
    up = "、".join(f"{_NAMES.get(k, k)}{v}" for k, v in report.up.items()) or "无新数据"
    lines = [f"上传：{up}（{report.up_pages}页，{report.sent_bytes}字节）"
             + (f"，中心未能入库{report.up_rejected}条" if report.up_rejected else "")]
    commands = "、".join(f"{_STATUS.get(k, k)}{v}条" for k, v in report.commands.items()) or "无"
    lines.append(f"下载：排查活动更新{report.campaigns}个，县级决定{commands}")
    return lines


def register(app: Flask) -> None:
    @app.cli.command("replicate")
    @click.option("--watch", "keep_watching", is_flag=True,
                  help="Keep replicating (every FIELDAPP_UPSTREAM_INTERVAL seconds and soon after pushes).")
    def replicate(keep_watching: bool) -> None:
        """Replicate with the county's central server once, both ways (与县级中心同步)."""
        config = current_app.config
        if not config.get("UPSTREAM_URL") or not config.get("UPSTREAM_TOKEN"):
            raise click.ClickException("本服务器没有上级：请设置 FIELDAPP_UPSTREAM_URL 和 FIELDAPP_UPSTREAM_TOKEN")
        app_object = current_app._get_current_object()  # type: ignore[attr-defined]
        if keep_watching:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            watch(app_object, stop)
            return
        report = run_round(app_object)
        if report is None:
            raise click.ClickException("另一个同步正在进行，请稍后再试")
        for line in describe(report):
            click.echo(line)
        if not report.ok:
            click.echo(f"同步未完成：{report.error or '未知原因'}", err=True)
            sys.exit(1)
        click.echo(f"同步完成（{report.seconds:.1f} 秒）")
