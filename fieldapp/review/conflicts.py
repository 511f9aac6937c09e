"""Resolving a conflict between offline edits: the supervisor picks, per field, the value
the household keeps (a side of the conflict, or a typed value checked with the form's rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.access import in_scope
from fieldapp.db.changes import next_change
from fieldapp.households import load_states, write_households
from fieldapp.models import HOUSEHOLD_FIELDS, Campaign, Conflict, User, Visit, utcnow
from fieldapp.review import remote
from fieldapp.review.decisions import claim, decision_transaction, display_name, settle_visit
from fieldapp.review.errors import AlreadyDecided, Invalid, NotFound, SentToTown
from fieldapp.review.values import check_household_values
from sync.households import HouseholdWriter


@dataclass(frozen=True)
class Pick:
    """The supervisor's choice for one conflicting field: a side, or a typed value."""

    source: str
    text: str | None = None


def _already(resolved_by_id: int | None) -> AlreadyDecided:
    return AlreadyDecided("conflict_settled", name=display_name(resolved_by_id))


def _chosen(targets: list[Conflict], choices: Mapping[str, Pick]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for item in targets:
        pick = choices[item.field]
        if pick.source == "base":
            chosen[item.field] = item.base_value
        elif pick.source == "current":
            chosen[item.field] = item.current_value
        elif pick.source == "incoming":
            chosen[item.field] = item.incoming_value
        elif pick.source == "custom":
            chosen[item.field] = pick.text
        else:
            errors[item.field] = [_("请选择保留哪个值")]
    if errors:
        raise Invalid("conflict_pick_missing", errors)
    return chosen


def resolve_conflict(user: User, conflict_id: int, choices: Mapping[str, Pick], *,
                     session: Session | None = None) -> str:
    """Resolve a conflict, and the visit's other open conflicts named in ``choices``.

    ``choices`` maps field ids to a :class:`Pick`; the field of ``conflict_id``
    is required. The chosen values are checked with the form's rules for those
    fields; if any value changes, the household gets a new revision (reason
    ``resolution``) and a change number. Returns the household's id.

    :param session: the caller's open write transaction to run in (default: its own)
    :raises SentToTown: at central, for a town's conflict: the decision went to the town
    """
    sent: list[str] = []
    with decision_transaction(session) as joined:
        household_id = _resolve(joined, user, conflict_id, choices, sent)
    if sent:
        raise SentToTown("sent_to_town", town=sent[0])
    return household_id


def _resolve(session: Session, user: User, conflict_id: int, choices: Mapping[str, Pick],
             sent: list[str]) -> str:
    conflict = session.get(Conflict, conflict_id, populate_existing=True)
    if conflict is None or not in_scope(user, conflict.village_id):
        raise NotFound("conflict_not_found")
    if conflict.status != "open":
        raise _already(conflict.resolved_by_id)
    if conflict.field not in choices:
        raise Invalid("conflict_pick_missing", {conflict.field: [_("请选择")]})
    targets = list(session.scalars(sa.select(Conflict).where(
        Conflict.visit_uuid == conflict.visit_uuid, Conflict.household_id == conflict.household_id,
        Conflict.status == "open", Conflict.field.in_(list(choices)),
    ).order_by(Conflict.id)).all())
    household = load_states(session, [conflict.household_id], lock=True)[conflict.household_id]
    visit = session.get(Visit, conflict.visit_uuid)
    assert visit is not None
    chosen = _chosen(targets, choices)
    typed = {f for f in chosen if choices[f].source == "custom"}
    campaign = session.get(Campaign, visit.campaign_id)
    values, errors = check_household_values(visit.form_version, campaign, household.values, chosen, typed)
    if errors:
        raise Invalid("resolved_breaks_rules", errors)
    node = remote.owner(session, conflict.village_id)
    if node is not None:
        remote.send(session, node, user, "conflict_resolve", conflict.uid,
                    {"conflict_uid": conflict.uid, "value": values[conflict.field],
                     "picks": {f: [p.source, p.text] for f, p in choices.items()}}, conflict.village_id)
        sent.append(node.town.name)
        return conflict.household_id
    now = utcnow()
    for item in targets:
        if not claim(session, Conflict, item.id, Conflict.status, "open", status="resolved",
                     resolved_value=values[item.field], resolved_by_id=user.id, resolved_at=now):
            session.refresh(item)
            raise _already(item.resolved_by_id)
    before = dict(household.values)
    writer = HouseholdWriter(HOUSEHOLD_FIELDS)
    changed = writer.revise(household, values, reason="resolution", user_id=user.id, visit_uuid=visit.uuid)
    if changed:
        households = writer.finish()
        households.number(next_change(session, households.count))
        write_households(session, households, now)
    settle_visit(session, visit.uuid)
    audit.record(
        session, user, "conflict_resolve", "conflict", conflict.id, village_id=conflict.village_id,
        before={"household_rev": household.rev - (1 if changed else 0),
                **{f: before[f] for f in values}},
        after={"household_rev": household.rev, **{f: values[f] for f in values}},
        details={"conflict_ids": [c.id for c in targets], "household_id": household.id,
                 "visit_uuid": visit.uuid,
                 "picks": {f: choices[f].source for f in values}},
    )
    return household.id
