"""Helpers for the admin tests: an admin logged in through the real form, and CSRF-aware posts."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import AuthActions, csrf_token_from


def forget_login() -> None:
    """Drop Flask-Login's and Flask-WTF's per-context caches.

    The ``town`` fixture keeps an app context pushed for the whole test, and
    the test client reuses it for every request, so ``g._login_user`` would
    leak from one client to another.
    """
    from flask import g, has_app_context

    if has_app_context():
        g.pop("_login_user", None)
        g.pop("csrf_token", None)  # Flask-WTF caches the session's token there too


class AdminClient:
    """Posts forms the way a browser does: with the page's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, page: str = "/admin/") -> str:
        forget_login()
        return csrf_token_from(self.client.get(page).get_data(as_text=True))

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.token())
        forget_login()
        return self.client.post(url, data=payload, **kwargs)

    def get(self, url: str) -> Any:
        forget_login()
        return self.client.get(url)


@pytest.fixture
def admin_client(client: FlaskClient, auth: AuthActions, town: Any) -> AdminClient:
    response = auth.login("admin")
    assert response.status_code == 302
    return AdminClient(client)
