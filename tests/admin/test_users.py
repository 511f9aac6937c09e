"""Admin pages for users: create, edit, villages, password reset, device tokens."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, DeviceToken, LoginAttempt, User, Visit, utcnow
from tests.admin.conftest import forget_login
from tests.conftest import AuthActions
from tests.factories import PASSWORD

pytestmark = pytest.mark.both_backends

NEW_PASSWORD = "new-pass-word-456"


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _audit(action: str) -> list[AuditLog]:
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def _token(user: User, device: str = "dev-1") -> DeviceToken:
    token = DeviceToken(user_id=user.id, device_id=device, device_name=f"手机 {device}",
                        token_hash=hashlib.sha256(device.encode()).hexdigest(),
                        expires_at=utcnow() + dt.timedelta(days=90))
    db.session.add(token)
    db.session.commit()
    return token


def test_user_list_shows_roles_and_villages(admin_client, town) -> None:
    html = admin_client.get("/admin/users/").get_data(as_text=True)
    assert "worker_a" in html and "张网格" in html and "沼山村" in html
    only_workers = admin_client.get("/admin/users/?role=worker").get_data(as_text=True)
    assert "worker_b" in only_workers and "supervisor_a" not in only_workers


def test_create_worker_with_villages(admin_client, town, client) -> None:
    response = admin_client.post("/admin/users/new", {
        "username": "worker_c", "display_name": "陈网格", "role": "worker",
        "villages": [str(town.village_a.id), str(town.village_b.id)],
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert response.status_code == 302
    user = _user("worker_c")
    assert user is not None and user.display_name == "陈网格" and user.role == "worker"
    assert sorted(v.name for v in user.villages) == ["沼山村", "磨山村"]
    assert user.check_password(NEW_PASSWORD) and user.password_hash.startswith("scrypt:")
    entry = _audit("user_create")[-1]
    assert entry.user_id == town.admin.id
    assert entry.after["villages"] == ["沼山村", "磨山村"]
    assert NEW_PASSWORD not in str(entry.after)


@pytest.mark.parametrize(("data", "message"), [
    ({"username": "worker_x", "role": "worker", "villages": []}, "网格员至少要分配一个村"),
    ({"username": "worker_a", "role": "supervisor"}, "用户名已存在"),
    ({"username": "<script>x</script>", "role": "admin"}, "用户名为2–50位"),
    ({"username": "short_pw", "role": "admin", "password": "1234567", "confirm": "1234567"}, "密码为8–200位"),
    ({"username": "mismatch", "role": "admin", "confirm": "something-else"}, "两次输入的密码不一致"),
    ({"username": "ctrl", "role": "admin", "display_name": "王\x07五"}, "不能包含控制字符"),
    ({"username": "long", "role": "admin", "display_name": "长" * 10_000}, "姓名最多50个字"),
    ({"username": "badvillage", "role": "worker", "villages": ["99999"]}, "村不存在"),
])
def test_create_user_refusals(admin_client, town, data, message) -> None:
    form = {"display_name": "某人", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, **data}
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = admin_client.post("/admin/users/new", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_create_user_without_csrf_is_refused(admin_client, town) -> None:
    response = admin_client.client.post("/admin/users/new", data={
        "username": "nocsrf", "display_name": "x", "role": "admin",
        "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code in (400, 422)
    assert _user("nocsrf") is None


def test_edit_name_role_and_active_is_audited(admin_client, town) -> None:
    user_id = town.supervisor_a.id
    response = admin_client.post(f"/admin/users/{user_id}", {
        "display_name": "沼山审核", "role": "worker", "active": "y"})
    assert response.status_code == 302
    user = _user("supervisor_a")
    assert (user.display_name, user.role, user.active) == ("沼山审核", "worker", True)
    entry = _audit("user_update")[-1]
    assert entry.before["role"] == "supervisor" and entry.after["role"] == "worker"
    assert entry.before["display_name"] == "supervisor_a" and entry.after["display_name"] == "沼山审核"


def test_deactivating_revokes_tokens_and_blocks_login(admin_client, town, app) -> None:
    token = _token(town.worker_a)
    response = admin_client.post(f"/admin/users/{town.worker_a.id}", {
        "display_name": "张网格", "role": "worker"})  # unchecked box: inactive
    assert response.status_code == 302
    db.session.expire_all()
    assert _user("worker_a").active is False
    assert db.session.get(DeviceToken, token.id).revoked_at is not None
    assert _audit("user_update")[-1].details["revoked_tokens"] == [token.id]
    forget_login()
    assert AuthActions(app.test_client()).login("worker_a").status_code == 401


def test_admin_cannot_lock_themselves_out(admin_client, town) -> None:
    response = admin_client.post(f"/admin/users/{town.admin.id}", {"display_name": "管理员", "role": "admin"})
    assert response.status_code == 422
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    assert _user("admin").active is True


def test_last_admin_cannot_be_demoted(admin_client, town) -> None:
    from tests.factories import make_user

    other = make_user("admin2", "admin")
    db.session.commit()
    # admin2 may be demoted while "admin" remains; then "admin" is the last one.
    assert admin_client.post(f"/admin/users/{other.id}", {"display_name": "x", "role": "supervisor",
                                                          "active": "y"}).status_code == 302
    assert _user("admin2").role == "supervisor"
    assert _user("admin").role == "admin"


def test_assign_villages(admin_client, town) -> None:
    url = f"/admin/users/{town.supervisor_a.id}/villages"
    response = admin_client.post(url, {"villages": [str(town.village_a.id), str(town.village_b.id)]})
    assert response.status_code == 302
    assert sorted(v.name for v in _user("supervisor_a").villages) == ["沼山村", "磨山村"]
    entry = _audit("user_villages")[-1]
    assert entry.before == {"villages": ["沼山村"]}
    assert entry.after == {"villages": ["沼山村", "磨山村"]}


def test_worker_keeps_at_least_one_village(admin_client, town) -> None:
    response = admin_client.post(f"/admin/users/{town.worker_a.id}/villages", {})
    assert response.status_code == 422
    assert "网格员至少要分配一个村" in response.get_data(as_text=True)
    assert [v.name for v in _user("worker_a").villages] == ["沼山村"]


def test_reset_password_and_lift_throttle(admin_client, town, app) -> None:
    other = AuthActions(app.test_client())
    forget_login()
    for _ in range(5):
        other.login("worker_b", "wrong-wrong")
    assert other.login("worker_b", PASSWORD).status_code == 429
    response = admin_client.post(f"/admin/users/{town.worker_b.id}/password",
                                 {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    user = _user("worker_b")
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == "worker_b", LoginAttempt.success.is_(False))) == 0
    fresh = AuthActions(app.test_client())
    forget_login()
    assert fresh.login("worker_b", NEW_PASSWORD).status_code == 302
    entry = _audit("password_reset")[-1]
    assert entry.object_id == str(user.id) and NEW_PASSWORD not in str(entry.after)


def test_list_and_revoke_a_lost_phone(admin_client, town) -> None:
    lost = _token(town.worker_a, "lost-phone")
    kept = _token(town.worker_a, "other-phone")
    page = admin_client.get(f"/admin/users/{town.worker_a.id}").get_data(as_text=True)
    assert "手机 lost-phone" in page and "手机 other-phone" in page
    response = admin_client.post(f"/admin/users/{town.worker_a.id}/tokens/{lost.id}/revoke")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(DeviceToken, lost.id).revoked_at is not None
    assert db.session.get(DeviceToken, kept.id).revoked_at is None
    entry = _audit("token_revoke")[-1]
    assert entry.details["device_id"] == "lost-phone" and entry.after == {"revoked": True}
    again = admin_client.post(f"/admin/users/{town.worker_a.id}/tokens/{lost.id}/revoke")
    assert "已被吊销" in admin_client.get(again.headers["Location"]).get_data(as_text=True)


def test_token_of_another_user_is_not_revoked(admin_client, town) -> None:
    token = _token(town.worker_b, "b-phone")
    admin_client.post(f"/admin/users/{town.worker_a.id}/tokens/{token.id}/revoke")
    db.session.expire_all()
    assert db.session.get(DeviceToken, token.id).revoked_at is None


def test_revoke_without_csrf_is_refused(admin_client, town) -> None:
    token = _token(town.worker_a, "csrf-phone")
    response = admin_client.client.post(f"/admin/users/{town.worker_a.id}/tokens/{token.id}/revoke")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(DeviceToken, token.id).revoked_at is None


@pytest.mark.parametrize("username", ["worker_a", "supervisor_a"])
def test_admin_pages_are_for_admins_only(client, auth, town, username) -> None:
    auth.login(username)
    for url in ("/admin/", "/admin/users/", "/admin/users/new", f"/admin/users/{town.admin.id}",
                "/admin/campaigns/", "/admin/roster"):
        assert client.get(url).status_code == 403, url


def test_revoked_phone_gets_401_and_uploads_after_logging_in_again(admin_client, town, app) -> None:
    from tests.api.conftest import record

    api = app.test_client()
    login = api.post("/api/v1/auth/token", json={"username": "worker_a", "password": PASSWORD,
                                                 "device_id": "lost-phone"})
    token = login.get_json()["token"]
    other = api.post("/api/v1/auth/token", json={"username": "worker_a", "password": PASSWORD,
                                                 "device_id": "new-phone"}).get_json()["token"]
    row = db.session.scalar(sa.select(DeviceToken).where(DeviceToken.device_id == "lost-phone"))
    assert admin_client.post(f"/admin/users/{town.worker_a.id}/tokens/{row.id}/revoke").status_code == 302
    unsent = [record(town.households_a[0])]
    body = {"batch_id": "after-revoke", "device_id": "lost-phone", "records": unsent}
    refused = api.post("/api/v1/sync/push", json=body, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"
    assert db.session.get(Visit, unsent[0]["uuid"]) is None
    assert api.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    again = api.post("/api/v1/auth/token", json={"username": "worker_a", "password": PASSWORD,
                                                 "device_id": "lost-phone"}).get_json()["token"]
    accepted = api.post("/api/v1/sync/push", json=body, headers={"Authorization": f"Bearer {again}"})
    assert accepted.status_code == 200
    assert accepted.get_json()["results"][0]["status"] == "accepted"
