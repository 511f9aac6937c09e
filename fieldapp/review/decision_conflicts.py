"""Settling a decision conflict: central and the town decided differently on the same
record (docs/replication.md); a person picks whose decision stands.

The town owns the record, so the choice is applied there: at the town directly, at
central by sending it down (``review/remote.py``). Keeping the town's decision changes
nothing else; taking central's applies it now through the ordinary use case, which
only a review decision allows (for the other kinds the page says what to do by hand).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.access import in_scope
from fieldapp.db.changes import next_change
from fieldapp.models import DecisionConflict, User, utcnow
from fieldapp.review import remote, visits
from fieldapp.review.decisions import decision_transaction, display_name
from fieldapp.review.errors import AlreadyDecided, Invalid, NotFound, SentToTown

SIDES = ("town", "county")


def resolve_decision(user: User, decision_id: int, side: str, *, session: Session | None = None) -> DecisionConflict:
    """Keep the town's decision (``side="town"``) or apply central's (``"county"``)."""
    if side not in SIDES:
        raise Invalid("decision_side_missing")
    sent: list[str] = []
    with decision_transaction(session) as joined:
        decision = joined.get(DecisionConflict, decision_id, populate_existing=True)
        if decision is None or not in_scope(user, decision.village_id):
            raise NotFound("decision_conflict_not_found")
        node = remote.owner(joined, decision.village_id)
        if node is not None:
            remote.send(joined, node, user, "decision_resolve", decision.uid,
                        {"decision_uid": decision.uid, "side": side}, decision.village_id)
            sent.append(node.town.name)
        else:
            resolve_decision_in(joined, user, decision, side)
    if sent:
        raise SentToTown("sent_to_town", town=sent[0])
    return decision


def resolve_decision_in(session: Session, user: User, decision: DecisionConflict, side: str) -> None:
    """Settle ``decision`` inside the caller's write transaction."""
    if decision.status != "open":
        raise AlreadyDecided("decision_conflict_settled", name=display_name(decision.resolved_by_id))
    if side == "county":
        if decision.kind != "visit_review":
            raise Invalid("decision_by_hand")
        county = decision.county_decision
        if county["review_status"] == "approved":
            outcome = visits.approve_visits(user, [decision.target], county.get("review_comment"),
                                            session=session, overrule=True)
        else:
            outcome = visits.return_visits(user, [decision.target], county.get("review_comment") or _("县级退回"),
                                           session=session)
        if outcome.skipped:
            raise Invalid("county_decision_skipped", reason=next(iter(outcome.skipped.values())))
    decision.status = "resolved"
    decision.resolution = side
    decision.resolved_by_id = user.id
    decision.resolved_at = utcnow()
    decision.change_seq = next_change(session)
    audit.record(session, user, "decision_resolve", "decision_conflict", decision.id, village_id=decision.village_id,
                 before={"status": "open"}, after={"status": "resolved", "resolution": side},
                 details={"kind": decision.kind, "target": decision.target, "command_uid": decision.command_uid})
