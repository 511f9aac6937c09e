"""The household's drawn signature on the review visit page: an image served by a scoped,
audited route under the page's CSP (no inline data)."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from fieldapp.demo.answers import signature
from fieldapp.extensions import db
from fieldapp.models import AuditLog
from fieldapp.security import CSP
from tests import factories
from tests.review.conftest import login_elsewhere

SIGNATURE = signature(3)
PNG = base64.b64decode(SIGNATURE.split(",", 1)[1])


def _signed_visit(town: factories.SmallTown):  # type: ignore[no-untyped-def]
    household = town.households_a[0]
    data = factories.visit_data(household, visit_method="in_person", signature=SIGNATURE)
    visit = factories.make_visit(household, town.worker_a, town.campaign, data=data)
    db.session.commit()
    return visit


@pytest.mark.both_backends
def test_the_visit_page_shows_the_signature_image(app, town) -> None:
    visit = _signed_visit(town)
    supervisor = login_elsewhere(app, "supervisor_a")
    html = supervisor.get(f"/review/visits/{visit.uuid}").get_data(as_text=True)
    url = f"/review/visits/{visit.uuid}/images/signature.png"
    assert f'src="{url}"' in html
    assert "data:image/png" not in html

    image = supervisor.get(url)
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.data == PNG
    assert image.headers["Cache-Control"] == "no-store"
    assert image.headers["Content-Security-Policy"] == CSP
    entries = list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "image_view")))
    assert [(e.object_type, e.object_id, e.details["field"], e.village_id) for e in entries] == [
        ("visit", visit.uuid, "signature", town.village_a.id)]


@pytest.mark.both_backends
def test_the_signature_is_in_scope_only(app, town) -> None:
    visit = _signed_visit(town)
    url = f"/review/visits/{visit.uuid}/images/signature.png"
    assert login_elsewhere(app, "supervisor_b").get(url).status_code == 404
    assert login_elsewhere(app, "worker_a").get(url).status_code == 403
    assert app.test_client().get(url).status_code == 302  # to the login page
    admin = login_elsewhere(app, "admin")
    assert admin.get(url).status_code == 200
    assert admin.get(f"/review/visits/{visit.uuid}/images/head_name.png").status_code == 404
    unsigned = factories.make_visit(town.households_a[1], town.worker_a, town.campaign)
    db.session.commit()
    assert admin.get(f"/review/visits/{unsigned.uuid}/images/signature.png").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "image_view")) == 1


@pytest.mark.e2e
def test_the_signature_loads_under_the_csp_in_chromium(live_server, town, page, artifacts_dir) -> None:
    visit = _signed_visit(town)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "supervisor_a")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/review/")
    page.goto(f"{live_server.url}/review/visits/{visit.uuid}")
    image = page.locator("img.signature")
    image.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('img.signature').complete")
    assert image.evaluate("img => img.naturalWidth") == 180
    box = image.bounding_box()
    assert box is not None and box["width"] <= 360
    page.screenshot(path=str(artifacts_dir / "review-visit.png"), full_page=True)
    assert errors == []
