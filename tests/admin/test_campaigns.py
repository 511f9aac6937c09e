"""Admin pages for campaigns: list, create, activate, close."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Campaign

pytestmark = pytest.mark.both_backends

NEW = {"campaign_id": "2024-jzpc", "name": "2024年防止返贫监测帮扶集中排查", "start": "2024-10-01",
       "end": "2024-12-31", "monitoring_line": "8000", "form_version": "2023.1"}


def _campaign(campaign_id: str) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


def test_list_shows_the_active_campaign(admin_client, town) -> None:
    html = admin_client.get("/admin/campaigns/").get_data(as_text=True)
    assert "2023-jzpc" in html and "进行中" in html and "7600" in html


def test_create_and_activate_deactivates_the_previous(admin_client, town) -> None:
    response = admin_client.post("/admin/campaigns/new", {**NEW, "activate": "y"})
    assert response.status_code == 302
    new, old = _campaign("2024-jzpc"), _campaign("2023-jzpc")
    assert new.active and new.monitoring_line == 8000 and not old.active
    actions = {e.action: e for e in db.session.scalars(sa.select(AuditLog))}
    assert actions["campaign_create"].user_id == town.admin.id
    assert actions["campaign_deactivate"].object_id == "2023-jzpc"


def test_create_inactive(admin_client, town) -> None:
    assert admin_client.post("/admin/campaigns/new", NEW).status_code == 302
    assert not _campaign("2024-jzpc").active and _campaign("2023-jzpc").active


@pytest.mark.parametrize(("change", "message"), [
    ({"end": "2024-09-01"}, "结束日期不能早于开始日期"),
    ({"campaign_id": "2023-jzpc"}, "排查活动已存在"),
    ({"campaign_id": "bad id!"}, "活动编号只能包含"),
    ({"monitoring_line": "-5"}, "监测范围应在"),
    ({"name": "<b>" * 5000}, "名称最多100个字"),
    ({"form_version": "1999.9"}, "has-error"),
])
def test_create_refusals(admin_client, town, change, message) -> None:
    response = admin_client.post("/admin/campaigns/new", {**NEW, **change})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 1


def test_activate_and_close(admin_client, town) -> None:
    admin_client.post("/admin/campaigns/new", NEW)
    assert admin_client.post("/admin/campaigns/2024-jzpc/activate").status_code == 302
    assert _campaign("2024-jzpc").active and not _campaign("2023-jzpc").active
    assert admin_client.post("/admin/campaigns/2024-jzpc/close").status_code == 302
    closed = _campaign("2024-jzpc")
    assert closed.closed and not closed.active
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "campaign_close")).one()
    assert entry.before["active"] is True and entry.after == {**entry.before, "active": False, "closed": True}
    again = admin_client.post("/admin/campaigns/2024-jzpc/close")
    assert "该排查活动已结束" in admin_client.get(again.headers["Location"]).get_data(as_text=True)


def test_unknown_campaign_is_404(admin_client, town) -> None:
    assert admin_client.post("/admin/campaigns/nope/activate").status_code == 404


def test_action_without_csrf_is_refused(admin_client, town) -> None:
    assert admin_client.client.post("/admin/campaigns/2023-jzpc/close").status_code == 400
    assert not _campaign("2023-jzpc").closed
