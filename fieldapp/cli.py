"""The ``fieldapp`` command: a FlaskGroup around ``create_app``.

Each command module under ``fieldapp/commands`` exposes ``register(app)``.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

COMMAND_MODULES = (
    "db", "users", "campaigns", "roster", "demo", "serve",
    "dedup", "reports", "backup", "purge", "node", "replicate", "villages",
)


def init_app(app: Flask) -> None:
    import importlib

    for name in COMMAND_MODULES:
        module = importlib.import_module(f"fieldapp.commands.{name}")
        module.register(app)


def _create_app() -> Flask:
    from fieldapp import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """排查通 fieldapp: offline-first field survey server."""


if __name__ == "__main__":
    main()
