"""Docs as tests: every CLI command is in README.md, the README starts with the two commands."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from fieldapp import create_app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, ctx: click.Context, prefix: str = "") -> list[str]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or name in {"db", "shell", "routes", "run"}:
            continue
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += _commands(command, ctx, path + " ")
        else:
            found.append(path)
    return found


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "scripts/demo.sh" in first_block and "scripts/test.sh" in first_block


@pytest.mark.parametrize("path", sorted(set(_commands(
    create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "TESTING": True}).cli,
    click.Context(click.Group()),
))))
def test_every_cli_command_is_documented(path: str) -> None:
    assert f"fieldapp {path}" in README, f"`fieldapp {path}` is missing from README.md"
