"""Returning a visit as 仅需重签 (issue 17 item 3): the supervisor chooses the kind, the
worker's pull carries it with the visit's answers, and only visits with a signature
can be returned for one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp import sync_service
from fieldapp.extensions import db
from fieldapp.models import AuditLog, User, Visit
from fieldapp.review import visits as visit_decisions
from fieldapp.review.errors import Invalid
from tests import factories
from tests.review.conftest import post_form, reload

pytestmark = pytest.mark.both_backends


def _signed_visit(scene) -> Visit:
    household = scene.town.households_a[0]
    data = factories.visit_data(household, visit_method="in_person", signature=factories.SIGNATURE_PNG)
    visit = factories.make_visit(household, scene.town.worker_a, scene.town.campaign, batch_id=scene.batch_a.id,
                                 server_seq=9, data=data)
    db.session.commit()
    return visit


def test_resign_return_reaches_the_worker_with_every_answer(client, auth, scene) -> None:
    visit = _signed_visit(scene)
    worker = scene.town.worker_a
    cursor = sync_service.pull(worker, None)["cursor"]
    auth.login("supervisor_a")
    page = client.get(f"/review/visits/{visit.uuid}").get_data(as_text=True)
    assert 'name="return_kind"' in page and "仅需重签" in page
    response = post_form(client, f"/review/visits/{visit.uuid}",
                         {"action": "return", "comment": "签字不清晰", "return_kind": "resign"})
    assert response.status_code == 302
    stored = reload(Visit, visit.uuid)
    assert (stored.review_status, stored.return_kind) == ("returned", "resign")
    assert "（仅需重签）" in client.get(f"/review/visits/{visit.uuid}").get_data(as_text=True)
    [entry] = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "visit_return")).all()
    assert entry.after["return_kind"] == "resign"

    pulled = sync_service.pull(reload(User, worker.id), cursor)
    [item] = [v for v in pulled["visits"] if v["uuid"] == visit.uuid]
    assert item["return_kind"] == "resign" and item["review_comment"] == "签字不清晰"
    assert item["data"] == stored.data and item["data"]["signature"].startswith("data:image/png;base64,")
    # Answers travel back only for returned visits.
    others = [v for v in pulled["visits"] if v["uuid"] != visit.uuid]
    assert all(v["data"] is None and v["return_kind"] is None for v in others)


def test_a_return_without_a_kind_is_for_correction(client, auth, scene) -> None:
    visit = scene.visits_a[0]
    auth.login("supervisor_a")
    post_form(client, f"/review/visits/{visit.uuid}", {"action": "return", "comment": "收入有误"})
    assert reload(Visit, visit.uuid).return_kind == "correct"


def test_resign_is_refused_for_a_visit_without_a_signature(client, auth, scene) -> None:
    visit = scene.visits_a[0]  # a phone visit: nothing was signed
    auth.login("supervisor_a")
    response = post_form(client, f"/review/visits/{visit.uuid}",
                         {"action": "return", "comment": "请重签", "return_kind": "resign"})
    assert response.status_code == 302
    assert "不是入户走访，没有签字可重签" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert reload(Visit, visit.uuid).review_status == "pending"


def test_bulk_resign_from_the_batch_page_returns_only_the_signed_visits(client, auth, scene) -> None:
    signed = _signed_visit(scene)
    unsigned = scene.visits_a[1]
    auth.login("supervisor_a")
    post_form(client, f"/review/batches/{scene.batch_a.id}",
              {"action": "return", "comment": "签字不清晰", "return_kind": "resign",
               "uuids": [signed.uuid, unsigned.uuid]})
    assert reload(Visit, signed.uuid).return_kind == "resign"
    assert reload(Visit, unsigned.uuid).review_status == "pending"


def test_an_unknown_kind_is_refused(scene) -> None:
    with pytest.raises(Invalid):
        visit_decisions.return_visits(scene.town.supervisor_a, [scene.visits_a[0].uuid], "x", kind="later")
    response_kind = reload(Visit, scene.visits_a[0].uuid)
    assert response_kind.review_status == "pending" and response_kind.return_kind is None


def test_approving_a_returned_visit_clears_its_kind(scene) -> None:
    visit = _signed_visit(scene)
    supervisor = scene.town.supervisor_a
    visit_decisions.return_visits(supervisor, [visit.uuid], "签字不清晰", kind="resign")
    visit_decisions.approve_visits(supervisor, [visit.uuid], overrule=True)
    stored = reload(Visit, visit.uuid)
    assert (stored.review_status, stored.return_kind) == ("approved", None)
