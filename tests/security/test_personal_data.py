"""Personal data: ID numbers and phones stay out of logs and default exports."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Household
from tests.admin.conftest import AdminClient, forget_login
from tests.api.conftest import record
from tests.conftest import AuthActions
from tests.factories import PASSWORD, make_visit, visit_data
from tests.security.html_checks import csp_problems

pytestmark = pytest.mark.both_backends

BAD_ID = "420281197005019999"


def _secrets() -> list[str]:
    rows = db.session.scalars(sa.select(Household))
    return [v for h in rows for v in (h.head_id, h.phone) if v]


def test_api_and_web_paths_do_not_log_id_numbers_or_phones(client, town, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    household = town.households_a[0]
    token = client.post("/api/v1/auth/token", json={"username": "worker_a", "password": PASSWORD,
                                                    "device_id": "log-check"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    records = [record(household, phone="13912345678"), record(household, head_id=BAD_ID),
               record(None, head_id=household.head_id, head_name=household.head_name)]
    response = client.post("/api/v1/sync/push", headers=headers, json={
        "batch_id": "log-check-batch", "device_id": "log-check", "records": records})
    assert response.status_code == 200
    assert client.get("/api/v1/sync/pull", headers=headers).status_code == 200
    client.post("/api/v1/auth/token", json={"username": household.head_id, "password": "x" * 8,
                                            "device_id": "log-check"})
    forget_login()
    AuthActions(client).login("supervisor_a")
    forget_login()
    client.get("/review/batches")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    leaked = [value for value in [*_secrets(), BAD_ID, "13912345678"] if value in logged]
    assert not leaked, f"raw ID numbers or phones in the log: {leaked}"


def test_exports_are_masked_by_default_and_full_values_are_admin_only(app, client, town) -> None:
    household = town.households_a[0]
    make_visit(household, town.worker_a, town.campaign,
               data=visit_data(household, income_wage=0, income_business=0, business_cost=0,
                               income_property=0, income_transfer=0))
    db.session.commit()
    url = "/reports/export/followup/below_monitoring_line.csv"
    AuthActions(client).login("supervisor_a")
    forget_login()
    masked = client.get(url)
    assert masked.status_code == 200
    text = masked.get_data().decode("utf-8-sig")
    assert household.head_name in text, "the export is empty: the check would prove nothing"
    assert household.head_id not in text and household.phone not in text
    assert household.head_id[:6] in text  # masked: first 6 and last 4 kept
    forget_login()
    supervisor = AdminClient(client)
    assert supervisor.post(url, {"full": "1"}).status_code == 403
    forget_login()
    AuthActions(client).logout()
    forget_login()
    AuthActions(client).login("admin")
    admin = AdminClient(client)
    full = admin.post(url, {"full": "1"})
    assert full.status_code == 200 and household.head_id in full.get_data().decode("utf-8-sig")
    entries = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "export")).all()
    assert [e.details["full_values"] for e in entries] == [False, True]


def test_user_and_campaign_lists_show_no_personal_numbers(client, town) -> None:
    AuthActions(client).login("admin")
    for url in ("/admin/users/", "/admin/", "/admin/campaigns/"):
        forget_login()
        html = client.get(url).get_data(as_text=True)
        assert csp_problems(html) == []
        assert not [v for v in _secrets() if v in html]


def test_database_errors_do_not_carry_personal_values(app, town, caplog) -> None:
    """A failing statement's parameters stay out of the exception, so out of tracebacks in the log."""
    household = town.households_a[0]
    with pytest.raises(sa.exc.DBAPIError) as raised:
        db.session.execute(sa.text("SELECT no_such_column FROM households WHERE head_id = :id"),
                           {"id": household.head_id})
    db.session.rollback()
    assert household.head_id not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)
