"""Bearer tokens: issued on login, stored hashed, bound to a device, expiring, revocable, throttled."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from fieldapp import tokens
from fieldapp.extensions import db
from fieldapp.models import DeviceToken, utcnow
from tests import factories
from tests.api.conftest import reload

pytestmark = pytest.mark.both_backends


def login(api, username="worker_a", password=factories.PASSWORD, device_id="phone-1", **extra):
    return api.client.post("/api/v1/auth/token", json={
        "username": username, "password": password, "device_id": device_id, **extra})


def test_login_returns_a_token_stored_only_as_its_hash(api, town) -> None:
    response = login(api, device_name="红米 Note")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] == {"id": town.worker_a.id, "username": "worker_a", "display_name": "张网格",
                            "role": "worker", "villages": ["沼山村"]}
    row = db.session.scalar(sa.select(DeviceToken))
    assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in (row.token_hash, row.device_id)
    assert (row.device_id, row.device_name, row.user_id) == ("phone-1", "红米 Note", town.worker_a.id)
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert abs((expires - utcnow()) - dt.timedelta(days=90)) < dt.timedelta(minutes=5)
    assert api.pull(body["token"]).status_code == 200


def test_ttl_comes_from_the_configuration(api, town, app) -> None:
    app.config["TOKEN_TTL_DAYS"] = 7
    expires = dt.datetime.fromisoformat(login(api).get_json()["expires_at"])
    assert dt.timedelta(days=6) < expires - utcnow() <= dt.timedelta(days=7)


def test_wrong_password_is_401_and_repeated_failures_429(api, town) -> None:
    for _ in range(5):
        response = login(api, password="wrong")
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_credentials"
    response = login(api)  # even the right password, while throttled
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_attempts"


def test_unknown_user_and_inactive_user_are_refused_alike(api, town) -> None:
    assert login(api, username="nobody").status_code == 401
    user = town.worker_b
    user.active = False
    db.session.commit()
    assert login(api, username="worker_b").get_json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("body", [{"username": "worker_a"}, {"username": 1, "password": "x", "device_id": "d"},
                                  {"username": "worker_a", "password": "x", "device_id": "d", "x": 1}])
def test_login_body_is_checked(api, town, body) -> None:
    response = api.client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_request"


def test_revoke_ends_the_token(api, town) -> None:
    token = login(api).get_json()["token"]
    response = api.client.post("/api/v1/auth/revoke", headers=api.headers(token))
    assert response.status_code == 200 and response.get_json() == {"revoked": True}
    response = api.pull(token)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "token_revoked"


def test_expired_token_is_refused(api, town) -> None:
    token = login(api).get_json()["token"]
    row = db.session.scalar(sa.select(DeviceToken))
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    response = api.pull(token)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "token_expired"


def test_a_new_login_on_the_same_device_replaces_the_old_token(api, town) -> None:
    old = login(api).get_json()["token"]
    other_device = login(api, device_id="phone-2").get_json()["token"]
    new = login(api).get_json()["token"]
    assert api.pull(old).status_code == 401
    assert api.pull(new).status_code == 200 and api.pull(other_device).status_code == 200


def test_admin_revocation_helpers(api, town) -> None:
    token = login(api).get_json()["token"]
    login(api, device_id="phone-2")
    user = reload(type(town.worker_a), town.worker_a.id)
    assert len(tokens.live_tokens(db.session, user)) == 2
    assert tokens.revoke_user(db.session, user) == 2
    db.session.commit()
    assert api.pull(token).status_code == 401
    assert tokens.live_tokens(db.session, user) == []


def test_deactivated_user_loses_api_access(api, town) -> None:
    token = login(api).get_json()["token"]
    user = reload(type(town.worker_a), town.worker_a.id)
    user.active = False
    db.session.commit()
    assert api.pull(token).status_code == 401


def test_a_token_carries_the_scope_of_the_moment(api, town) -> None:
    """The token check reads the user's villages on every call: an admin's reassignment
    applies to a phone already logged in, and an admin token sees every village."""
    token = login(api).get_json()["token"]
    seen = {h["id"] for h in api.pull(token).get_json()["households"]}
    assert seen == {h.id for h in town.households_a}
    user = reload(type(town.worker_a), town.worker_a.id)
    user.villages = [reload(type(town.village_b), town.village_b.id)]
    db.session.commit()
    seen = {h["id"] for h in api.pull(token).get_json()["households"]}
    assert seen == {h.id for h in town.households_b}

    admin = login(api, username="admin", device_id="admin-pc").get_json()["token"]
    everything = {h["id"] for h in api.pull(admin).get_json()["households"]}
    assert everything == {h.id for h in town.households_a + town.households_b}
