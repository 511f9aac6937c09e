"""The factory, configuration, login/logout, home page and error pages."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldapp import create_app
from fieldapp.extensions import db

pytestmark = pytest.mark.both_backends


def test_secret_key_generated_once_into_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIELDAPP_SECRET_KEY", raising=False)
    instance = tmp_path / "inst"
    first = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://"})
    second = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://"})
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_configures_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("FIELDAPP_INSTANCE_PATH", str(tmp_path / "envinst"))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert Path(app.instance_path) == tmp_path / "envinst"


def test_sqlite_pragmas(app, backend) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_login_redirects_by_role(client, auth, town) -> None:
    for username, target in (("worker_a", "/app/"), ("supervisor_a", "/review/"), ("admin", "/admin/")):
        response = auth.login(username)
        assert response.status_code == 302
        assert client.get("/").headers["Location"].endswith(target)
        auth.logout()


def test_wrong_password_is_refused_in_chinese(client, auth, town) -> None:
    response = auth.login("worker_a", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous: redirected to login


def test_repeated_failures_are_throttled(client, auth, town) -> None:
    for _ in range(5):
        auth.login("worker_a", "nope-nope")
    response = auth.login("worker_a")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


def test_login_without_csrf_is_refused(client, town) -> None:
    response = client.post("/login", data={"username": "worker_a", "password": "pass-word-123"})
    assert response.status_code == 400


def test_logout_requires_post_with_csrf(client, auth, town) -> None:
    auth.login("worker_a")
    assert client.post("/logout", data={}).status_code == 400
    assert auth.logout().status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")


def test_worker_cannot_open_review(client, auth, town) -> None:
    auth.login("worker_a")
    response = client.get("/review/")
    assert response.status_code == 403
    assert "没有权限" in response.get_data(as_text=True)


def test_unknown_page_is_a_chinese_404(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_api_errors_are_json(client) -> None:
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


def test_english_can_be_chosen(client) -> None:
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)  # remembered in the session


def test_security_headers(client) -> None:
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_migrations_match_models(app, runner) -> None:
    """``fieldapp init-db`` builds exactly the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context():
        db.drop_all()
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            tables = sa.inspect(conn).get_table_names()
    assert "households" in tables
    assert diff == []


def test_two_clients_in_one_test_never_share_a_user(app, town) -> None:
    """The ``town`` fixture holds an app context open; each request still loads its own user."""
    from tests.conftest import AuthActions

    first, second = app.test_client(), app.test_client()
    AuthActions(first).login("supervisor_a")
    assert first.get("/review/").status_code == 200
    assert second.get("/review/").status_code == 302  # anonymous: redirected to login
    AuthActions(second).login("worker_a")
    assert second.get("/review/").status_code == 403
    assert first.get("/review/").status_code == 200


def test_control_characters_in_a_login_are_refused_not_a_500(client, auth, town) -> None:
    response = auth.login("worker\x00a", "pass-word-123")
    assert response.status_code == 200
    assert "用户名含有不可见的控制字符" in response.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", json={"username": "worker_a\x00", "password": "x",
                                                   "device_id": "d1"})
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "malformed_json"
    api = client.post("/api/v1/auth/token", json={"username": "worker_a\x01", "password": "x",
                                                   "device_id": "d1"})
    assert api.status_code == 422
    assert api.get_json()["error"]["details"]["fields"]["username"] == ["control characters are not allowed"]


def test_begin_write_takes_the_scoped_session(app) -> None:
    from fieldapp.db.engine import begin_write

    with app.app_context():
        begin_write(db.session)  # Flask-SQLAlchemy's scoped session, not only a bare Session
        assert db.session().in_transaction()
        db.session.rollback()


def test_begin_write_after_a_read_sees_what_others_committed_meanwhile(app, town) -> None:
    """On PostgreSQL the read transaction goes on as the writer; what it read before is
    read again (as after the commit SQLite needs), so no stale value is written back."""
    from fieldapp.db.engine import begin_write
    from fieldapp.models import Household

    household = db.session.get(Household, town.households_a[0].id)
    assert household.phone != "13900009999"
    other = sa.create_engine(db.engine.url)
    with other.begin() as conn:
        conn.execute(sa.update(Household).where(Household.id == household.id).values(phone="13900009999"))
    other.dispose()
    begin_write(db.session)
    assert household.phone == "13900009999"
    db.session.rollback()
