"""One login (issue 17 item 11): a worker logged in on the web pages gets the app's device
token from the session, with the CSRF token, without typing the password again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, DeviceToken

pytestmark = pytest.mark.both_backends

DEVICE = {"device_id": "phone-17", "device_name": "红米 Note 12"}


def _session(client) -> dict:
    response = client.get("/api/v1/auth/session")
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_a_workers_web_login_hands_the_app_a_working_token(client, auth, town) -> None:
    auth.login("worker_a")
    session = _session(client)
    assert session["user"]["username"] == "worker_a" and session["user"]["villages"] == ["沼山村"]
    response = client.post("/api/v1/auth/session-token", json=DEVICE,
                           headers={"X-CSRFToken": session["csrf_token"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"]["username"] == "worker_a" and body["expires_at"]
    pulled = client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {body['token']}"})
    assert pulled.status_code == 200 and len(pulled.get_json()["households"]) == 3
    db.session.rollback()
    [row] = db.session.scalars(sa.select(DeviceToken).where(DeviceToken.user_id == town.worker_a.id)).all()
    assert (row.device_id, row.device_name) == ("phone-17", "红米 Note 12")
    [entry] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "token_issue")).all()
    assert entry.details["via"] == "web_session" and entry.details["device_id"] == "phone-17"


def test_without_a_web_login_both_answer_401(client, town) -> None:
    assert client.get("/api/v1/auth/session").get_json()["error"]["code"] == "unauthenticated"
    response = client.post("/api/v1/auth/session-token", json=DEVICE)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("header", [None, "", "not-a-token"])
def test_the_csrf_token_is_required(client, auth, town, header) -> None:
    auth.login("worker_a")
    headers = {} if header is None else {"X-CSRFToken": header}
    response = client.post("/api/v1/auth/session-token", json=DEVICE, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"
    db.session.rollback()
    assert db.session.scalars(sa.select(DeviceToken)).all() == []


def test_only_a_grid_workers_session_is_exchanged(client, auth, town) -> None:
    auth.login("supervisor_a")
    session = _session(client)
    response = client.post("/api/v1/auth/session-token", json=DEVICE,
                           headers={"X-CSRFToken": session["csrf_token"]})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_a_worker"


def test_after_the_web_logout_there_is_nothing_to_exchange(client, auth, town) -> None:
    auth.login("worker_a")
    token = _session(client)["csrf_token"]
    auth.logout()
    response = client.post("/api/v1/auth/session-token", json=DEVICE, headers={"X-CSRFToken": token})
    assert response.status_code == 401


def test_the_body_is_checked_like_a_password_login(client, auth, town) -> None:
    auth.login("worker_a")
    token = _session(client)["csrf_token"]
    response = client.post("/api/v1/auth/session-token", json={"device_id": " ", "password": "x"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]["fields"]) == {"device_id", "password"}


def test_the_pinyin_table_reads_names_as_the_server_does(api, town) -> None:
    from sync.normalize import name_pinyin

    table = api.client.get("/api/v1/pinyin", headers=api.headers(api.login("worker_a"))).get_json()
    reading = {char: syllable for syllable, chars in table["readings"].items() for char in chars}
    assert sum(len(chars) for chars in table["readings"].values()) == 6763
    assert [reading[c] for c in "柯美兰"] == name_pinyin("柯美兰")[0].split()
    assert table["surnames"]["曾"] == "zeng" and reading["曾"] == "ceng"
    assert api.client.get("/api/v1/pinyin").status_code == 401
