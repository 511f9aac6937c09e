"""The household page: ID number and phone masked by default; an admin's 显示完整 is audited;
pages with personal data are never stored by the browser or a proxy (``Cache-Control: no-store``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog
from sync.idnumber import mask_id, mask_phone
from tests.review.conftest import post_form

pytestmark = pytest.mark.both_backends


def _reveals() -> list[AuditLog]:
    db.session.commit()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "household_reveal")))


def test_a_supervisor_sees_the_household_masked_and_cannot_reveal(client, auth, scene) -> None:
    household = scene.town.households_a[2]  # its phone changed in revision 2
    auth.login("supervisor_a")
    response = client.get(f"/review/households/{household.id}")
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert household.head_id not in html and mask_id(household.head_id) in html
    assert household.phone not in html and mask_phone(household.phone) in html
    assert "显示完整" not in html
    token = client.get(f"/review/visits/{scene.visits_a[0].uuid}").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    refused = client.post(f"/review/households/{household.id}/full",
                          data={"csrf_token": csrf_token_from(token)})
    assert refused.status_code == 403
    assert _reveals() == []


def test_an_admin_reveals_full_values_and_it_is_audited(client, auth, scene) -> None:
    household = scene.town.households_a[2]
    auth.login("admin")
    html = client.get(f"/review/households/{household.id}").get_data(as_text=True)
    assert household.head_id not in html and "显示完整" in html
    response = post_form(client, f"/review/households/{household.id}/full", {},
                         token_url=f"/review/households/{household.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    full = response.get_data(as_text=True)
    assert household.head_id in full and household.phone in full
    assert "已记入审计日志" in full
    [entry] = _reveals()
    assert (entry.object_type, entry.object_id, entry.village_id) == ("household", household.id,
                                                                      household.village_id)
    assert entry.user_id == scene.town.admin.id
    # the next plain visit is masked again
    assert household.head_id not in client.get(f"/review/households/{household.id}").get_data(as_text=True)


def test_revealing_out_of_scope_or_without_csrf_is_refused(client, auth, scene) -> None:
    auth.login("admin")
    assert client.post(f"/review/households/{scene.town.households_a[0].id}/full").status_code == 400
    assert post_form(client, "/review/households/no-such-household/full", {},
                     token_url="/review/").status_code == 404
    assert _reveals() == []


@pytest.mark.parametrize(("username", "url"), [
    ("supervisor_a", "/review/"), ("supervisor_a", "/review/batches/batch-a"), ("supervisor_a", "/reports/"),
    ("admin", "/admin/users/"), ("admin", "/review/audit"), ("admin", "/admin/roster"),
])
def test_pages_with_personal_data_are_not_stored(client, auth, scene, username, url) -> None:
    auth.login(username)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_the_members_are_masked_and_revealed_with_the_householder(client, auth, scene) -> None:
    from fieldapp.households import write_members
    from fieldapp.models import utcnow
    from tests.members_data import SPOUSE_ID, member
    household = scene.town.households_a[2]
    write_members(db.session, {household.id: [member(household.head_name, household.head_id, "self"),
                                              member("李秀英", SPOUSE_ID, "spouse", health="disabled",
                                                     disability_type="physical", disability_grade="2")]},
                  utcnow(), source="roster")
    db.session.commit()
    auth.login("admin")
    html = client.get(f"/review/households/{household.id}").get_data(as_text=True)
    assert "家庭成员" in html and "李秀英" in html and "肢体残疾" in html and "二级" in html
    assert SPOUSE_ID not in html and mask_id(SPOUSE_ID) in html
    full = post_form(client, f"/review/households/{household.id}/full", {},
                     token_url=f"/review/households/{household.id}").get_data(as_text=True)
    assert SPOUSE_ID in full
    assert len(_reveals()) == 1
