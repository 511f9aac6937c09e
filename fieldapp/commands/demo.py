"""CLI for demo (being written)."""

from flask import Flask


def register(app: Flask) -> None:
    return None
