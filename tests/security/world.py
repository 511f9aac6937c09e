"""A small town with one of everything in an "in scope" village and an "out of scope" one.

Built inside its own app context and then left, so that every request of a
test runs in a fresh context (no login cached in ``g`` between clients).
Display strings carry markup and quotes, so that every page that shows them
also proves they are escaped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from fieldapp.demo.answers import signature
from fieldapp.extensions import db
from fieldapp.models import (
    Conflict,
    DecisionConflict,
    DeviceToken,
    DuplicateCandidate,
    Household,
    SyncBatch,
    VisitPhoto,
    utcnow,
)
from fieldapp.review.merges import merge_households
from tests import factories

HOSTILE_HAMLET = "<img src=x onerror=alert(1)>"
HOSTILE_NAME = '"><script>alert(1)</script>'
HOSTILE_REMARK = ("<script>alert('x')</script>\" onclick=\"alert(2)\" style=\"x\" "
                  "'; DROP TABLE visits; -- \u0000\u202e 😀")


@dataclass
class World:
    """Ids of the objects routes take as arguments, per side ("in" = 沼山村, "out" = 磨山村)."""

    users: dict[str, int]
    worker_token: dict[str, int]
    household: dict[str, str]
    visit: dict[str, str]
    batch: dict[str, str]
    conflict: dict[str, int]
    candidate: dict[str, int]
    merge: dict[str, int]
    decision: dict[str, int]
    photo: dict[str, str]
    village: dict[str, int]
    campaign: str
    secrets: list[str]  # every household's full ID number and phone: never in a page or a default export


def _side(town: factories.SmallTown, side: str, households: list, worker, n: int) -> dict:
    first, second = households[0], households[1]
    visit = factories.make_visit(first, worker, town.campaign, batch_id=f"batch-{side}",
                                 data=factories.visit_data(first, remarks=HOSTILE_REMARK,
                                                           hamlet=first.hamlet, visit_method="in_person",
                                                           signature=signature(1)))
    db.session.add(SyncBatch(id=f"batch-{side}", user_id=worker.id, device_id=f"device-{side}",
                             record_count=1, counts={"accepted": 1},
                             results=[{"uuid": visit.uuid, "status": "accepted"}]))
    conflict = Conflict(household_id=first.id, visit_uuid=visit.uuid, village_id=first.village_id,
                        field="phone", base_value="13800000001", current_value="13800000002",
                        incoming_value="13800000003", current_rev=first.rev)
    a, b = sorted((first.id, second.id))
    candidate = DuplicateCandidate(household_a_id=a, household_b_id=b, village_id=first.village_id,
                                   campaign_id=town.campaign.id, score=0.9, evidence=["name"])
    extra = factories.make_household(first.village, "王小明", hamlet=HOSTILE_HAMLET)
    pair = sorted((second.id, extra.id))
    to_merge = DuplicateCandidate(household_a_id=pair[0], household_b_id=pair[1], village_id=first.village_id,
                                  campaign_id=town.campaign.id, score=0.95, evidence=["name"])
    token = DeviceToken(user_id=worker.id, device_id=f"phone-{side}", device_name=HOSTILE_NAME,
                        token_hash=hashlib.sha256(f"t-{side}-{n}".encode()).hexdigest(),
                        expires_at=utcnow() + dt.timedelta(days=90))
    # central and the town decided differently on the visit (kept for a person)
    decision = DecisionConflict(command_uid=f"00000000-0000-4000-8000-00000000000{n}", kind="visit_review",
                                target=visit.uuid, village_id=first.village_id,
                                town_decision={"review_status": "approved", "by": HOSTILE_NAME},
                                county_decision={"review_status": "returned", "review_comment": HOSTILE_REMARK,
                                                 "by": HOSTILE_NAME})
    # A completed photo of the visit (its bytes are not in the copied world: the instance folder is new).
    photo = VisitPhoto(id=f"00000000-0000-4000-8000-00000000000{n}", visit_uuid=visit.uuid, worker_id=worker.id,
                       content_type="image/jpeg", length=3, sha256="0" * 64,
                       storage_key=f"{visit.uuid}/photo-{n}", completed_at=utcnow())
    db.session.add_all([conflict, candidate, to_merge, token, decision, photo])
    db.session.commit()
    merge = merge_households(town.admin, to_merge.id, second.id)
    return {"household": first.id, "visit": visit.uuid, "batch": f"batch-{side}",
            "conflict": conflict.id, "candidate": candidate.id, "merge": merge.id, "token": token.id,
            "decision": decision.id, "photo": photo.id}


def build_world(app: Flask) -> World:
    with app.app_context():
        town = factories.SmallTown()
        for household in town.households_a + town.households_b:
            household.hamlet = HOSTILE_HAMLET
        town.worker_a.display_name = HOSTILE_NAME
        inside = _side(town, "in", town.households_a, town.worker_a, 1)
        outside = _side(town, "out", town.households_b, town.worker_b, 2)
        db.session.commit()
        world = World(
            users={"in": town.worker_a.id, "out": town.worker_b.id, "admin": town.admin.id},
            worker_token={"in": inside["token"], "out": outside["token"]},
            household={"in": inside["household"], "out": outside["household"]},
            visit={"in": inside["visit"], "out": outside["visit"]},
            batch={"in": inside["batch"], "out": outside["batch"]},
            conflict={"in": inside["conflict"], "out": outside["conflict"]},
            candidate={"in": inside["candidate"], "out": outside["candidate"]},
            merge={"in": inside["merge"], "out": outside["merge"]},
            decision={"in": inside["decision"], "out": outside["decision"]},
            photo={"in": inside["photo"], "out": outside["photo"]},
            village={"in": town.village_a.id, "out": town.village_b.id},
            campaign=town.campaign.id,
            secrets=[value for h in db.session.scalars(sa.select(Household))
                     for value in (h.head_id, h.phone) if value],
        )
        db.session.remove()
    return world
