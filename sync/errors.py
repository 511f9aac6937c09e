"""The one domain error type; ``fieldapp/errors.py`` maps it to the JSON error shape."""

from __future__ import annotations

from typing import Any


class SyncError(Exception):
    """An error the API reports as ``{"error": {"code", "message", "details"}}``.

    :param code: snake_case code from the protocol (e.g. ``bad_cursor``)
    :param message: human text in Chinese
    :param status: the HTTP status the API answers with
    :param details: structured details (field errors, limits)
    :param message_en: the English text, used when the client asks for it
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        details: dict[str, Any] | None = None,
        message_en: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}
        self.message_en = message_en or message
