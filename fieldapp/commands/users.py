"""``fieldapp user create``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from fieldapp.models import ROLES
from fieldapp.users import create_user


def register(app: Flask) -> None:
    group = AppGroup("user", help="Manage users (用户管理).")

    @group.command("create")
    @click.argument("username")
    @click.option("--role", type=click.Choice(ROLES), required=True, help="worker | supervisor | admin")
    @click.option("--village", "villages", multiple=True, help="Village in scope (TOWN/VILLAGE where two towns share the name); repeat for several.")
    @click.option("--display-name", default=None, help="Name shown in the app.")
    @click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
    def create(username: str, role: str, villages: tuple[str, ...], display_name: str | None,
               password_stdin: bool) -> None:
        """Create a user (创建用户). The password is read from standard input."""
        password = sys.stdin.readline().rstrip("\n")
        try:
            user = create_user(username, role, password, list(villages), display_name)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"已创建用户 {user.username}（{role}）")

    app.cli.add_command(group)
