"""Web sessions end on the server: a copied session cookie stops working after logout, a
password reset, deactivation, a role or village change, and after the idle timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from fieldapp.admin import services
from tests.admin.conftest import forget_login
from tests.conftest import AuthActions
from tests.factories import SmallTown

pytestmark = pytest.mark.both_backends


def _logged_in(app: Flask, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    forget_login()
    assert AuthActions(client).login(username).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    return client, cookie.value


def _replay(app: Flask, cookie: str, path: str = "/review/") -> int:
    """A request from another browser carrying a copy of the session cookie."""
    forget_login()
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get(path).status_code


def test_a_copied_session_cookie_dies_with_logout(app, town) -> None:
    client, cookie = _logged_in(app, "supervisor_a")
    assert _replay(app, cookie) == 200
    forget_login()
    AuthActions(client).logout()
    assert _replay(app, cookie) == 302, "a session cookie copied before logout still worked"
    assert client.get("/review/").status_code == 302


CHANGES: dict[str, Callable[[SmallTown], Any]] = {
    "password reset": lambda t: services.reset_password(t.admin, t.supervisor_a.id, "a-new-pass-word"),
    "deactivation": lambda t: services.update_user(t.admin, t.supervisor_a.id, "审核员", "supervisor", False),
    "role change": lambda t: services.update_user(t.admin, t.supervisor_a.id, "审核员", "admin", True),
    "village change": lambda t: services.assign_villages(t.admin, t.supervisor_a.id,
                                                         [t.village_a.id, t.village_b.id]),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_an_admin_change_ends_the_users_sessions(app, town, change) -> None:
    client, cookie = _logged_in(app, "supervisor_a")
    _, other = _logged_in(app, "supervisor_b")
    CHANGES[change](town)
    assert _replay(app, cookie) == 302
    forget_login()
    assert client.get("/review/").status_code == 302
    assert _replay(app, other) == 200, "another user's session is not touched"


def test_an_idle_session_expires_after_the_configured_hours(app, town) -> None:
    assert app.config["SESSION_IDLE_HOURS"] == 12
    client, _ = _logged_in(app, "supervisor_a")
    with client.session_transaction() as session:
        session["seen"] -= 11 * 3600
    forget_login()
    assert client.get("/review/").status_code == 200, "11 hours idle: still logged in"
    with client.session_transaction() as session:
        session["seen"] -= 12 * 3600 + 60
    forget_login()
    assert client.get("/review/").status_code == 302
    forget_login()
    assert client.get("/review/").status_code == 302, "the idle session is gone, not refreshed"
