"""The admin pages of the central tier: a town's replication state (``/admin/upstream``) and
central's nodes (``/admin/nodes``, the rows of ``fieldapp node list``). Central on both
backends, towns on SQLite."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.models import DecisionConflict, Town, User, Village, Visit
from fieldapp.replication.nodes import revoke_node
from fieldapp.review import visits
from tests import factories
from tests.conftest import AuthActions, csrf_token_from
from tests.replication.conftest import CENTRAL_URL, County, TownServer, push_visits

pytestmark = pytest.mark.both_backends


def _admin(app_client: FlaskClient, username: str) -> FlaskClient:
    assert AuthActions(app_client).login(username).status_code == 302
    return app_client


def _central_user_with_town(county: County, username: str, town: str) -> None:
    """A supervisor of central given one village of ``town`` (that town's scope)."""
    with county.central.app_context():
        village = db.session.scalar(sa.select(Village).join(Town).where(Town.name == town).limit(1))
        factories.make_user(username, "supervisor", [village])
        db.session.commit()
        db.session.remove()


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return match.group(1).strip()


def _with_upstream(town: TownServer, admin: str) -> FlaskClient:
    """The town's admin, the town's config naming central (the replication itself goes
    through ``flask_transport``)."""
    town.app.config.update(UPSTREAM_URL=CENTRAL_URL, UPSTREAM_TOKEN=town.token)
    return _admin(town.app.test_client(), admin)


def test_the_town_page_shows_central_last_success_pending_and_the_last_error(county: County) -> None:
    baoan = county.towns[0]
    client = _with_upstream(baoan, "baoan_admin")
    html = client.get("/admin/upstream").get_data(as_text=True)
    assert 'data-state="ok"' in html and _text(html, "upstream-url") == CENTRAL_URL
    assert _text(html, "upstream-pending") == "0条" and "upstream-error" not in html
    assert 'href="/admin/upstream"' in client.get("/admin/").get_data(as_text=True)  # in the admin nav

    push_visits(baoan, baoan.households[:2])
    cut = baoan.replicate(county.central, fail=lambda method, path: "before")
    assert not cut.ok
    html = client.get("/admin/upstream").get_data(as_text=True)
    assert 'data-state="failing"' in html and "同步失败（连续1次）" in html
    assert int(_text(html, "upstream-pending").removesuffix("条")) >= 2  # the two visits, at least
    assert "无法连接" in _text(html, "upstream-error")  # the round's own words, in Chinese

    county.round()
    html = client.get("/admin/upstream").get_data(as_text=True)
    assert 'data-state="ok"' in html and _text(html, "upstream-pending") == "0条"


def test_a_town_without_upstream_says_so(county: County) -> None:
    hdq = county.towns[1]
    client = _admin(hdq.app.test_client(), "hdq_admin")
    html = client.get("/admin/upstream").get_data(as_text=True)
    assert 'data-state="none"' in html and "FIELDAPP_UPSTREAM_URL" in html
    assert 'href="/admin/upstream"' not in client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/nodes"' not in client.get("/admin/").get_data(as_text=True)


def test_central_lists_its_nodes_as_node_list_does(county: County) -> None:
    client = _admin(county.central.test_client(), "county_admin")
    assert 'href="/admin/nodes"' in client.get("/admin/").get_data(as_text=True)
    html = client.get("/admin/nodes").get_data(as_text=True)
    rows = re.findall(r'<tr data-node="([^"]+)">(.*?)</tr>', html, re.S)
    assert [name for name, _row in rows] == ["baoan", "huandiqiao"]
    assert all("正常" in row and "秒" in row for _name, row in rows)  # heard from just now
    listed = county.central.test_cli_runner().invoke(args=["node", "list"]).output.splitlines()[1:]
    assert [line.split("\t")[:3] for line in listed] == [["baoan", "保安镇", "正常"], ["huandiqiao", "还地桥镇", "正常"]]

    with county.central.app_context():
        revoke_node(db.session, "huandiqiao")
        db.session.remove()
    html = client.get("/admin/nodes").get_data(as_text=True)
    row = dict(re.findall(r'<tr data-node="([^"]+)">(.*?)</tr>', html, re.S))["huandiqiao"]
    assert "已撤销" in row


def _diverging_decisions(county: County) -> str:
    """A visit returned at central and approved at the town meanwhile: a decision conflict
    on both sides after the next round. Returns the visit's uuid."""
    baoan = county.towns[0]
    [record] = push_visits(baoan, [baoan.households[1]])
    county.round()
    with county.central.app_context():
        admin = db.session.scalar(sa.select(User).where(User.username == "county_admin"))
        visits.return_visits(admin, [record["uuid"]], "签字不清晰")
        db.session.remove()
    with baoan.context():
        supervisor = db.session.scalar(sa.select(User).where(User.username == "baoan_sup"))
        visits.approve_visits(supervisor, [record["uuid"]])
    county.round()
    return str(record["uuid"])


def _resolve(client: FlaskClient, decision_id: int, side: str) -> str:
    page = client.get("/review/decisions").get_data(as_text=True)
    response = client.post(f"/review/decisions/{decision_id}/resolve",
                           data={"side": side, "csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_central_settles_a_decision_conflict_which_waits_for_the_town(county: County) -> None:
    baoan = county.towns[0]
    uuid = _diverging_decisions(county)
    client = _admin(county.central.test_client(), "county_admin")
    assert "未解决的决定冲突" in client.get("/review/").get_data(as_text=True)
    html = client.get("/review/decisions").get_data(as_text=True)
    [(decision_id, row)] = re.findall(r'<tr data-decision="(\d+)">(.*?)</tr>', html, re.S)
    assert "已通过（baoan_sup）" in row and "已退回，意见：签字不清晰" in row and "保安镇 磨山村" in row

    _central_user_with_town(county, "hdq_lead", "还地桥镇")
    other = _admin(county.central.test_client(), "hdq_lead")
    assert f'data-decision="{decision_id}"' not in other.get("/review/decisions").get_data(as_text=True)
    token = csrf_token_from(other.get("/review/decisions").get_data(as_text=True))
    assert other.post(f"/review/decisions/{decision_id}/resolve",
                      data={"side": "town", "csrf_token": token}).status_code == 404

    html = _resolve(client, int(decision_id), "county")
    assert "已发送至保安镇" in html and "等待保安镇同步" in html  # the town owns the record
    county.round()
    with baoan.context():
        assert db.session.get(Visit, uuid).review_status == "returned"
    county.round()  # the town's settled copy comes back up
    resolved = client.get("/review/decisions?status=resolved").get_data(as_text=True)
    assert "已采用县级的决定" in resolved


def test_the_town_keeps_its_own_decision_from_its_page(county: County) -> None:
    baoan = county.towns[0]
    uuid = _diverging_decisions(county)
    client = _admin(baoan.app.test_client(), "baoan_sup")
    html = client.get("/review/decisions").get_data(as_text=True)
    [decision_id] = re.findall(r'<tr data-decision="(\d+)">', html)
    assert "已保留本镇的决定" in _resolve(client, int(decision_id), "town")
    with baoan.context():
        assert db.session.get(Visit, uuid).review_status == "approved"
        assert db.session.get(DecisionConflict, int(decision_id)).resolution == "town"
