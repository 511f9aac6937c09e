"""Refusals of review decisions: kinds of the error catalogue (``sync.errors.KINDS``), whose
message is shown to the supervisor in the page's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.errors import SyncError


class ReviewError(SyncError):
    """A refusal to show the supervisor: ``kind`` names its code, HTTP status and messages
    (``status``, ``message``, ``message_en``); ``errors`` are field errors to show beside
    the fields; ``values`` fill the messages' placeholders."""

    def __init__(self, kind: str, errors: Mapping[str, list[str]] | None = None, **values: Any) -> None:
        super().__init__(kind, **values)
        self.errors = dict(errors or {})


class NotFound(ReviewError):
    """Unknown or out of the user's scope: both look the same (404)."""


class AlreadyDecided(ReviewError):
    """Someone else took this decision first (409)."""


class Invalid(ReviewError):
    """The request cannot be carried out as asked (422)."""


class SentToTown(ReviewError):
    """Not a refusal: the decision is on a town's data, so central sent it to the town; it
    takes effect there and comes back with the town's next replication (202)."""
