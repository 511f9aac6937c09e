"""Refusals of review decisions, shown to the supervisor in Chinese."""

from __future__ import annotations

from collections.abc import Mapping


class ReviewError(Exception):
    """A refusal to show the supervisor (Chinese message); ``status`` is the HTTP status."""

    status = 409

    def __init__(self, message: str, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class NotFound(ReviewError):
    """Unknown or out of the user's scope: both look the same (404)."""

    status = 404


class AlreadyDecided(ReviewError):
    """Someone else took this decision first."""

    status = 409


class Invalid(ReviewError):
    status = 422


class SentToTown(ReviewError):
    """Not a refusal: the decision is on a town's data, so central sent it to the town; it
    takes effect there and comes back with the town's next replication."""

    status = 202
