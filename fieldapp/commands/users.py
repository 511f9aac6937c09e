"""``fieldapp user create``."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from fieldapp import audit
from fieldapp.extensions import db
from fieldapp.models import ROLES, User, Village


def create_user(username: str, role: str, password: str, villages: list[str],
                display_name: str | None = None, actor: User | None = None) -> User:
    """Create a user with village scope; raises ValueError with a Chinese message."""
    if role not in ROLES:
        raise ValueError(f"角色无效：{role}")
    if len(password) < 8:
        raise ValueError("密码至少8位")
    if db.session.scalar(sa.select(User).where(User.username == username)):
        raise ValueError(f"用户名已存在：{username}")
    found = list(db.session.scalars(sa.select(Village).where(Village.name.in_(villages)))) if villages else []
    missing = sorted(set(villages) - {v.name for v in found})
    if missing:
        raise ValueError(f"村不存在：{'、'.join(missing)}")
    if role == "worker" and not found:
        raise ValueError("网格员至少要分配一个村（--village）")
    user = User(username=username, role=role, display_name=display_name or username)
    user.set_password(password)
    user.villages = found
    db.session.add(user)
    db.session.flush()
    audit.record(db.session, actor, "user_create", "user", user.id,
                 after={"username": username, "role": role, "villages": [v.name for v in found]})
    return user


def register(app: Flask) -> None:
    group = AppGroup("user", help="Manage users (用户管理).")

    @group.command("create")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True, help="worker | supervisor | admin")
    @click.option("--village", "villages", multiple=True, help="Village in scope; repeat for several.")
    @click.option("--display-name", default=None, help="Name shown in the app.")
    @click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
    def create(username: str, role: str, villages: tuple[str, ...], display_name: str | None,
               password_stdin: bool) -> None:
        """Create a user (创建用户). The password is read from standard input."""
        password = sys.stdin.readline().rstrip("\n")
        try:
            user = create_user(username, role, password, list(villages), display_name)
        except ValueError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"已创建用户 {user.username}（{role}）")

    app.cli.add_command(group)
