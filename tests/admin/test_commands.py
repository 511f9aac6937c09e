"""``fieldapp campaign create`` and ``fieldapp user create``: the same use cases as the admin pages."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Campaign, User
from sync.form import DEFAULT_VERSION

pytestmark = pytest.mark.both_backends

CREATE = ["campaign", "create", "2024-jzpc", "--name", "2024年集中排查", "--start", "2024-10-01",
          "--end", "2024-12-31"]


def _audit(action: str) -> list[AuditLog]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action)))


def test_campaign_create_and_activate_replaces_the_active_one(runner: FlaskCliRunner, town) -> None:
    result = runner.invoke(args=[*CREATE, "--activate"])
    assert result.exit_code == 0, result.output
    assert "已创建排查活动 2024-jzpc（已启用）" in result.output
    db.session.expire_all()
    new, old = db.session.get(Campaign, "2024-jzpc"), db.session.get(Campaign, "2023-jzpc")
    assert new.active and not old.active
    assert new.form_version == DEFAULT_VERSION and new.monitoring_line == 7600.0
    assert new.start_date == dt.date(2024, 10, 1)
    [created] = _audit("campaign_create")
    assert created.user_id is None and created.after["active"] is True
    [deactivated] = _audit("campaign_deactivate")
    assert deactivated.object_id == "2023-jzpc" and deactivated.details == {"because": "2024-jzpc"}


def test_campaign_create_inactive_keeps_the_active_one(runner: FlaskCliRunner, town) -> None:
    result = runner.invoke(args=[*CREATE, "--monitoring-line", "8000"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "已创建排查活动 2024-jzpc"
    db.session.expire_all()
    assert not db.session.get(Campaign, "2024-jzpc").active and db.session.get(Campaign, "2023-jzpc").active
    assert _audit("campaign_deactivate") == []


@pytest.mark.parametrize(("extra", "message"), [
    (["--end", "2024-09-01"], "结束日期不能早于开始日期"),
    (["--form-version", "1999.9"], "表单版本不存在：1999.9"),
    (["--monitoring-line", "0"], "监测范围（元）应大于0"),
])
def test_campaign_create_refusals_leave_nothing(runner: FlaskCliRunner, town, extra, message) -> None:
    result = runner.invoke(args=[*CREATE, *extra, "--activate"])
    assert result.exit_code == 1
    assert message in result.output
    db.session.expire_all()
    assert db.session.get(Campaign, "2024-jzpc") is None and db.session.get(Campaign, "2023-jzpc").active
    assert _audit("campaign_create") == []


def test_user_create_with_villages(runner: FlaskCliRunner, town) -> None:
    result = runner.invoke(args=["user", "create", "worker_c", "--role", "worker", "--village", "沼山村",
                                 "--village", "磨山村", "--display-name", "王网格", "--password-stdin"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    assert "已创建用户 worker_c（worker）" in result.output
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.username == "worker_c"))
    assert user.display_name == "王网格" and user.check_password("a-long-password")
    assert sorted(v.name for v in user.villages) == ["沼山村", "磨山村"]
    [entry] = _audit("user_create")
    assert entry.object_id == str(user.id) and entry.after["role"] == "worker"


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "worker", "--village", "沼山村"], "short\n", "密码至少8位"),
    (["--role", "worker"], "a-long-password\n", "网格员至少要分配一个村"),
    (["--role", "supervisor", "--village", "没有村"], "a-long-password\n", "村不存在：没有村"),
])
def test_user_create_refusals_leave_nothing(runner: FlaskCliRunner, town, args, password, message) -> None:
    result = runner.invoke(args=["user", "create", "someone", *args, "--password-stdin"], input=password)
    assert result.exit_code == 1
    assert message in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(User.username == "someone")) is None
    assert _audit("user_create") == []


@pytest.mark.parametrize(("args", "message"), [
    (["node", "create", "Bad Name", "--town", "保安镇"], "节点名称只能用小写字母、数字、- 和 _（最多40个字符），例如 baoan"),
    (["node", "create", "baoan", "--town", " "], "请用 --town 指定该节点所属的乡镇"),
    (["node", "revoke", "nosuch"], "节点不存在：nosuch"),
    (["node", "token", "nosuch"], "节点不存在：nosuch"),
])
def test_node_refusals_print_the_catalogue_message(runner: FlaskCliRunner, town, args, message) -> None:
    """A NodeError's message comes from sync/errors.py KINDS; the command exits 1."""
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and f"Error: {message}" in result.output


def test_node_create_twice_is_refused(runner: FlaskCliRunner, town) -> None:
    assert runner.invoke(args=["node", "create", "baoan", "--town", "保安镇"]).exit_code == 0
    again = runner.invoke(args=["node", "create", "baoan", "--town", "团结镇"])
    assert again.exit_code == 1 and "节点已存在：baoan" in again.output
    other = runner.invoke(args=["node", "create", "baoan2", "--town", "保安镇"])
    assert other.exit_code == 1 and "乡镇 保安镇 已有节点" in other.output
