"""Review test data: batches, visits, a conflict and a duplicate pair in two villages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.models import (
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdRevision,
    SyncBatch,
    Visit,
)
from tests import factories
from tests.conftest import csrf_token_from


@dataclass
class Scene:
    town: factories.SmallTown
    batch_a: SyncBatch
    batch_b: SyncBatch
    visits_a: list[Visit]
    visit_b: Visit
    conflict_visit: Visit
    conflict: Conflict
    new_household: Household
    duplicate_visit: Visit
    candidate: DuplicateCandidate
    conflict_b: Conflict
    candidate_b: DuplicateCandidate


def build_scene(town: factories.SmallTown) -> Scene:
    """Village A (沼山村): a batch of three pending visits, a phone conflict, a new household
    suspected to duplicate a roster household. Village B (磨山村): one of each."""
    t = town
    h1, h2, h3 = t.households_a
    batch_a = factories.make_batch(t.worker_a, "batch-a", [
        {"uuid": "x", "status": "accepted"}, {"uuid": "y", "status": "accepted"},
        {"uuid": "z", "status": "conflict"}, {"uuid": "w", "status": "duplicate_suspected"},
        {"uuid": "v", "status": "rejected", "errors": {"head_id": ["身份证号校验位错误"]}},
    ])
    low_income = factories.visit_data(h2, income_wage=1000, income_business=0, business_cost=0,
                                      income_property=0, income_transfer=500)
    visits_a = [
        factories.make_visit(h1, t.worker_a, t.campaign, batch_id=batch_a.id, server_seq=1),
        factories.make_visit(h2, t.worker_a, t.campaign, batch_id=batch_a.id, server_seq=2,
                             data=low_income),
    ]
    conflict_visit = factories.make_visit(
        h3, t.worker_a, t.campaign, batch_id=batch_a.id, server_seq=3,
        data=factories.visit_data(h3, phone="13900001111"))
    # An earlier visit (same batch) already changed the phone: revision 2 is the current value.
    base_phone = h3.phone
    earlier = factories.make_visit(h3, t.worker_a, t.campaign, batch_id=batch_a.id, server_seq=0,
                                   data=factories.visit_data(h3, phone="13700002222"))
    h3.phone, h3.rev = "13700002222", 2
    db.session.add(HouseholdRevision(household_id=h3.id, rev=2, values=h3.field_values(),
                                     changed=["phone"], reason="visit", visit_uuid=earlier.uuid,
                                     user_id=t.worker_a.id))
    conflict_visit.base_rev = 1
    conflict = factories.make_conflict(conflict_visit, "phone", base_phone, "13700002222", "13900001111",
                                       current_rev=2)
    new_household = factories.make_household(t.village_a, "王建国", head_id=h1.head_id, phone="13811112222")
    new_household.source, new_household.code = "field", None
    duplicate_visit = factories.make_visit(new_household, t.worker_a, t.campaign, batch_id=batch_a.id,
                                           server_seq=4)
    candidate = factories.make_candidate(h1, new_household, visit=duplicate_visit, campaign=t.campaign)

    hb1, hb2 = t.households_b
    batch_b = factories.make_batch(t.worker_b, "batch-b", [{"uuid": "q", "status": "accepted"}])
    visit_b = factories.make_visit(hb1, t.worker_b, t.campaign, batch_id=batch_b.id, server_seq=5)
    conflict_b = factories.make_conflict(visit_b, "size", 4, 5, 6, current_rev=1)
    candidate_b = factories.make_candidate(hb1, hb2, campaign=t.campaign)
    db.session.commit()
    return Scene(t, batch_a, batch_b, visits_a, visit_b, conflict_visit, conflict, new_household,
                 duplicate_visit, candidate, conflict_b, candidate_b)


@pytest.fixture
def scene(town: factories.SmallTown) -> Iterator[Scene]:
    yield build_scene(town)


def token_of(client: FlaskClient, url: str) -> str:
    """The CSRF token of a page the user can open (a GET through the real client)."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return csrf_token_from(page.get_data(as_text=True))


def post_form(client: FlaskClient, url: str, data: dict[str, Any], token_url: str | None = None) -> Any:
    token = token_of(client, token_url or url)
    return client.post(url, data={**data, "csrf_token": token})


def reload(model: Any, key: Any) -> Any:
    """A fresh copy of a row, as the web requests committed it (ends the test's
    own read transaction, whose snapshot would hide other connections' commits)."""
    db.session.commit()
    return db.session.get(model, key)


def login_elsewhere(app: Any, username: str) -> FlaskClient:
    """A second browser, logged in as ``username``.

    Its requests run in their own app context: requests of the main ``client``
    share the test's app context (and so Flask-Login's cached user in ``g``
    and the db session); a second user must not.
    """
    from tests.conftest import AuthActions

    other = app.test_client()
    with app.app_context():
        AuthActions(other).login(username)
    return other


def in_own_context(app: Any, call: Any, *args: Any, **kwargs: Any) -> Any:
    with app.app_context():
        return call(*args, **kwargs)
