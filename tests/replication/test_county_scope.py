"""Scope at central (docs/domain.md, "Scope"): a town's supervisor or admin sees that town
only, on the review, dedup and report pages; a county role (no villages) sees every town.
Central on both backends, through the web pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from fieldapp.db.changes import next_change
from fieldapp.dedup_service import run_bulk
from fieldapp.extensions import db
from fieldapp.models import DuplicateCandidate, Household, User
from tests import factories
from tests.conftest import AuthActions, csrf_token_from
from tests.replication.conftest import County, push_visits

pytestmark = pytest.mark.both_backends


def _same_person(county: County) -> tuple[int, int]:
    """A pair inside 还地桥镇 (found by the town's own dedup) and a pair across the two towns
    (found by central); returns their ids at central."""
    baoan, hdq = county.towns
    with baoan.context():
        head = db.session.get(Household, baoan.households[0])
        baoan_person = {"head_name": head.head_name, "head_id": head.head_id}
    with hdq.context():
        first = db.session.get(Household, hdq.households[0])
        twin = factories.make_household(first.village, first.head_name, head_id=first.head_id)
        twin.change_seq = next_change(db.session)
        across = db.session.get(Household, hdq.households[2])
        across.head_name, across.head_id = baoan_person["head_name"], baoan_person["head_id"]
        across.change_seq = next_change(db.session)
        db.session.commit()
        run_bulk(db.session)
    county.round()
    with county.central.app_context():
        rows = db.session.execute(sa.select(DuplicateCandidate.id, DuplicateCandidate.source,
                                            DuplicateCandidate.household_a_id,
                                            DuplicateCandidate.household_b_id)).all()
        db.session.remove()
    inside = [r.id for r in rows if r.source != "county"]
    cross = [r.id for r in rows if r.source == "county"]
    assert len(inside) == 1 and len(cross) == 1, rows
    return inside[0], cross[0]


def _central_user(county: County, username: str, role: str, town: str | None) -> None:
    """A user of central made as README says (``fieldapp user create``); with ``town``: given
    that town's 沼山村, a name the other town has too, so written 乡镇/村."""
    runner = county.central.test_cli_runner()
    args = ["user", "create", username, "--role", role, "--password-stdin"]
    if town:
        ambiguous = runner.invoke(args=[*args, "--village", "沼山村"], input=factories.PASSWORD + "\n")
        assert ambiguous.exit_code != 0 and "乡镇/村" in ambiguous.output
        args += ["--village", f"{town}/沼山村"]
    result = runner.invoke(args=args, input=factories.PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with county.central.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None and [(v.town.name, v.name) for v in user.villages] == (
            [(town, "沼山村")] if town else [])
        db.session.remove()


def _client(county: County, username: str) -> FlaskClient:
    client = county.central.test_client()
    response = AuthActions(client).login(username)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def test_a_town_supervisor_at_central_sees_only_that_town(county: County) -> None:
    baoan, hdq = county.towns
    own = push_visits(baoan, [baoan.households[0], baoan.households[1]])
    other = push_visits(hdq, [hdq.households[1]])
    inside_hdq, cross = _same_person(county)
    _central_user(county, "baoan_lead", "supervisor", "保安镇")
    client = _client(county, "baoan_lead")

    # town B's visit, household and pairs (inside B, and across A and B) are not found
    assert client.get(f"/review/visits/{other[0]['uuid']}").status_code == 404
    assert client.get(f"/review/households/{hdq.households[1]}").status_code == 404
    assert client.get(f"/review/duplicates/{inside_hdq}").status_code == 404
    assert client.get(f"/review/duplicates/{cross}").status_code == 404
    # town A's, in both its villages though the lead was given one: the town is the scope
    assert client.get(f"/review/visits/{own[0]['uuid']}").status_code == 200
    assert client.get(f"/review/visits/{own[1]['uuid']}").status_code == 200
    assert client.get(f"/review/households/{baoan.households[1]}").status_code == 200

    listing = client.get("/review/duplicates").get_data(as_text=True)
    assert f"/review/duplicates/{inside_hdq}" not in listing and f"/review/duplicates/{cross}" not in listing
    batches = client.get("/review/batches").get_data(as_text=True)
    assert "hdq_w" not in batches

    report = client.get("/reports/progress.json").get_json()
    assert [t["town"] for t in report["towns"]] == ["保安镇"]
    assert {r["town"] for r in report["villages"]} == {"保安镇"}
    assert report["summary"].startswith("截至目前，保安镇共完成排查2户")
    page = client.get("/reports/").get_data(as_text=True)
    assert "还地桥镇" not in page and "石山村" not in page
    csv_text = client.get("/reports/export/progress.csv").get_data().decode("utf-8-sig")
    assert "还地桥镇" not in csv_text and "保安镇" in csv_text


def test_county_roles_see_every_town_and_a_town_admin_only_its_pages(county: County) -> None:
    baoan, hdq = county.towns
    other = push_visits(hdq, [hdq.households[1]])
    inside_hdq, cross = _same_person(county)

    county_sup = _client(county, "county_sup")  # a supervisor of central without villages
    assert county_sup.get(f"/review/visits/{other[0]['uuid']}").status_code == 200
    assert county_sup.get(f"/review/duplicates/{cross}").status_code == 200
    assert county_sup.get(f"/review/duplicates/{inside_hdq}").status_code == 200
    report = county_sup.get("/reports/progress.json").get_json()
    assert [t["town"] for t in report["towns"]] == ["保安镇", "还地桥镇"]
    assert report["summary"].startswith("截至目前，全县共完成排查1户")

    _central_user(county, "hdq_chief", "admin", "还地桥镇")
    chief = _client(county, "hdq_chief")
    assert chief.get(f"/review/visits/{other[0]['uuid']}").status_code == 200
    assert chief.get(f"/review/duplicates/{inside_hdq}").status_code == 200
    assert chief.get(f"/review/duplicates/{cross}").status_code == 404
    assert chief.get(f"/review/households/{baoan.households[0]}").status_code == 404
    assert [t["town"] for t in chief.get("/reports/progress.json").get_json()["towns"]] == ["还地桥镇"]
    # users, campaigns, nodes and the audit log of the county are the county admins'
    assert chief.get("/admin/").status_code == 403 and chief.get("/review/audit").status_code == 403
    assert "/admin/" not in chief.get("/reports/").get_data(as_text=True)

    # a county decision on the town's pair goes to the town: the page says it waits for it
    page = county_sup.get(f"/review/duplicates/{inside_hdq}").get_data(as_text=True)
    dismissed = county_sup.post(f"/review/duplicates/{inside_hdq}/dismiss",
                                data={"csrf_token": csrf_token_from(page)}, follow_redirects=True)
    assert "等待还地桥镇同步" in dismissed.get_data(as_text=True)
    county.round()
    county.round()  # applied at the town, then its result up
    assert "等待还地桥镇同步" not in county_sup.get(f"/review/duplicates/{inside_hdq}").get_data(as_text=True)

    admin = _client(county, "county_admin")
    assert admin.get("/admin/").status_code == 200 and admin.get("/review/audit").status_code == 200
    form = admin.get("/admin/users/new").get_data(as_text=True)  # villages named with their town
    assert "保安镇 沼山村" in form and "还地桥镇 沼山村" in form
    assert admin.get(f"/review/duplicates/{cross}").status_code == 200
