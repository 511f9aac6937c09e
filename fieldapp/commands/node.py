"""``fieldapp node create|list|revoke|token`` (on central)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from fieldapp.extensions import db
from fieldapp.models import utcnow
from fieldapp.replication.nodes import NodeError, create_node, new_token, node_statuses, revoke_node


def _when(value: object) -> str:
    return "—" if value is None else str(value)[:19]


def register(app: Flask) -> None:
    group = AppGroup("node", help="Town servers replicating to this central server (节点管理).")

    @group.command("create")
    @click.argument("name")
    @click.option("--town", required=True, help="The town (乡镇) whose data this node sends.")
    def create(name: str, town: str) -> None:
        """Register a town server; its token is printed once, on the last line."""
        try:
            node, token = create_node(db.session, name, town)
        except NodeError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"已创建节点 {node.name}（{town}）。在该镇服务器上设置 FIELDAPP_UPSTREAM_TOKEN 为下面的令牌（只显示这一次）：")
        click.echo(token)

    @group.command("list")
    def list_nodes() -> None:
        """Nodes with their last contact, lag and what is pending each way."""
        now = utcnow()
        rows = node_statuses(db.session)
        if not rows:
            click.echo("还没有节点（fieldapp node create NAME --town TOWN）")
            return
        click.echo("节点\t乡镇\t状态\t最后联系\t延迟(秒)\t待上传\t待下发\t未能入库")
        for row in rows:
            lag = row.lag(now)
            click.echo("\t".join([
                row.name, row.town, "已撤销" if row.revoked else "正常", _when(row.last_contact_at),
                "—" if lag is None else str(int(lag.total_seconds())), str(row.pending_up),
                str(row.pending_down), str(row.rejected)]))

    @group.command("revoke")
    @click.argument("name")
    def revoke(name: str) -> None:
        """Revoke a node's token (its data stays; it gets 401 until given a new token)."""
        try:
            revoke_node(db.session, name)
        except NodeError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"已撤销节点 {name} 的令牌")

    @group.command("token")
    @click.argument("name")
    def token(name: str) -> None:
        """Give a node a new token (printed once, on the last line); the old one stops working."""
        try:
            value = new_token(db.session, name)
        except NodeError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"节点 {name} 的新令牌（只显示这一次）：")
        click.echo(value)

    app.cli.add_command(group)
