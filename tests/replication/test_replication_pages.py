"""The admin pages of the central tier: a town's replication state (``/admin/upstream``) and
central's nodes (``/admin/nodes``, the rows of ``fieldapp node list``). Central on both
backends, towns on SQLite."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.replication.nodes import revoke_node
from tests.conftest import AuthActions
from tests.replication.conftest import CENTRAL_URL, County, TownServer, push_visits

pytestmark = pytest.mark.both_backends


def _admin(app_client: FlaskClient, username: str) -> FlaskClient:
    assert AuthActions(app_client).login(username).status_code == 302
    return app_client


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
