"""The sync use cases as Python functions: the API calls them, and so do other
parts of the app (the demo generator, ``fieldapp import-backup``).

``push_batch`` and ``pull`` return exactly the HTTP response bodies of
docs/sync-protocol.md and raise :class:`sync.errors.SyncError` for the error
responses. Both need an application context (they use ``db.session``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import QueryableAttribute, Session

from fieldapp import access, audit, households
from fieldapp.campaigns import active_campaign, active_select
from fieldapp.db import changes, write_transaction
from fieldapp.extensions import db
from fieldapp.ingest_slot import ONE_INGEST_AT_A_TIME
from fieldapp.models import Campaign, Household, ScopeRemoval, User, Village, Visit
from fieldapp.sync_store import SqlStore
from fieldapp.tokens import TokenUser
from sync.errors import SyncError
from sync.form import DEFAULT_VERSION, FormDefinition, load_form
from sync.idnumber import mask_id, mask_phone
from sync.ingest import ingest
from sync.protocol import (
    HOUSEHOLDS,
    START,
    VISITS,
    Cursor,
    cut_page,
    parse_cursor,
    parse_limit,
    parse_push,
)
from sync.store import Actor, VillageRef

log = logging.getLogger(__name__)

PUSH_ATTEMPTS = 3
# PostgreSQL: deadlock_detected, serialization_failure, lock_not_available.
_RETRY_SQLSTATES = {"40P01", "40001", "55P03"}


def actor_for(user: User | TokenUser) -> Actor:
    """The engine's view of a user: id, role and village scope."""
    scope = access.village_scope(user)
    return Actor(
        user_id=user.id, role=user.role,
        village_ids=None if scope is None else frozenset(scope),
        villages=tuple(VillageRef(v.id, v.name, v.town_id) for v in user.villages),
    )


def push_batch(user: User | TokenUser, payload: dict[str, Any], *, today: dt.date | None = None,
               device_id: str | None = None) -> dict[str, Any]:
    """Apply one push batch (docs/sync-protocol.md) and return the response body.

    The batch is one transaction. A concurrent push of the same ``batch_id``
    or visit uuid, or a PostgreSQL deadlock/serialization failure, makes the
    transaction fail; it is rolled back and retried, and the retry then sees
    what the other push committed (a replay or ``already_received``).

    :param user: the pushing user (scope is theirs)
    :param payload: the decoded JSON body
    :param today: the date in China for validating ``visited_on`` (tests pin it)
    :param device_id: the device the pushing token was issued to: the batch and its
        visits are stored under it, whatever ``device_id`` the body names
    :raises SyncError: 413 too_large, 422 invalid_request, 409 batch_id_conflict or
        batch_conflict, 503 busy
    """
    request = parse_push(payload, max_records=int(current_app.config["PUSH_MAX_RECORDS"]))
    if device_id is not None and request.device_id != device_id:
        log.warning("push %s by user %s names device %s; stored under the token's device %s",
                    request.batch_id, user.id, request.device_id, device_id)
        request = dataclasses.replace(request, device_id=device_id)
    actor = actor_for(user)
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        try:
            with ONE_INGEST_AT_A_TIME:
                return ingest(SqlStore(db.session(), user), actor, request, today=today)
        except (IntegrityError, OperationalError, DBAPIError) as exc:
            db.session.rollback()
            if not _retryable(exc) or attempt == PUSH_ATTEMPTS:
                if isinstance(exc, OperationalError):
                    log.warning("push %s gave up after %d attempts: %s", request.batch_id, attempt, exc)
                    raise SyncError("busy") from exc
                raise
            log.info("push %s: retrying after %s", request.batch_id, type(exc).__name__)
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def pull(user: User | TokenUser, since: str | None, limit: str | int | None = None, *,
         token_id: int | None = None, device_id: str | None = None) -> dict[str, Any]:
    """The households, removals and visit statuses changed after ``since`` (with the
    answers of a returned visit).

    ID numbers and phones are masked unless the user's role holds full values
    (:func:`fieldapp.access.holds_full_values`); a page that hands out households
    is audited (who, from which device, how many, masked or not).

    :param user: the pulling user; only their scope (and their own visits) is returned
    :param since: the cursor from the previous page, or ``None``/``""`` for everything
    :param limit: page size, 1..2000 (default 500)
    :param token_id: the row id of the token pulling (for the audit log)
    :param device_id: the device the token was issued to (for the audit log)
    :raises SyncError: 400 bad_cursor, 422 invalid_request (limit)
    """
    page_size = parse_limit(limit)
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("pull called with pending changes")
    try:
        # The page is read up to the counter's value, not past it: a writer holds
        # the counter row from taking its numbers until it commits, so every change
        # numbered up to ``current`` is committed and seen by the later statements,
        # even under PostgreSQL's READ COMMITTED where each statement has its own
        # snapshot. A change numbered later is left for the next pull (a row moved
        # past ``current`` meanwhile comes then, in its newer state), so the cursor
        # handed out never skips one, and no second transaction is needed.
        counter = session.execute(_counter_and_form(session.get_bind().dialect.name), {"user_id": user.id}).one()
        current = int(counter.value or 0)
        after = parse_cursor(since, current)
        household_rows = session.execute(
            sa.select(*_PULL_COLUMNS, Village.name.label("village_name"), _VISITED.label("visited"))
            .join(Village, Village.id == Household.village_id)
            .where(access.scope_filter(user, Household.village_id), Household.change_seq <= current,
                   _after(after, HOUSEHOLDS, Household.change_seq, Household.id))
            .order_by(Household.change_seq, Household.id)
            .limit(page_size + 1)
        ).all()
        visit_rows = session.execute(
            sa.select(Visit.change_seq, Visit.uuid, Visit.review_status, Visit.review_comment,
                      Visit.return_kind, Visit.household_id)
            .where(Visit.worker_id == user.id, Visit.change_seq <= current,
                   _after(after, VISITS, Visit.change_seq, Visit.uuid))
            .order_by(Visit.change_seq, Visit.uuid)
            .limit(page_size + 1)
        ).all()
        streams: list[list[tuple[Cursor, Any]]] = [
            [(Cursor(row.change_seq, HOUSEHOLDS, row.id), row) for row in household_rows],
            [(Cursor(row.change_seq, VISITS, row.uuid), row) for row in visit_rows]]
        (kept_households, kept_visits), last, more = cut_page(streams, page_size)
        live = [row for row in kept_households if row.merged_into_id is None]
        removed = [row.id for row in kept_households if row.merged_into_id is not None and after != START]
        if after != START and (counter.scope_removed or 0) > after.seq:
            removed += _taken_away(user, after.seq, current, exclude=set(removed))
        form = load_form(counter.form_version or DEFAULT_VERSION)
        fields = [f.id for f in form.household_fields]
        full = access.holds_full_values(user.role)
        answers = _returned_answers(session, [v.uuid for v in kept_visits if v.review_status == "returned"])
        # A form with members: each household's members as the phone prefills them.
        members = households.load_members(session, [row.id for row in live]) if "members" in form.by_id else None
        # Every change up to ``current`` was there to be read, so when nothing
        # more is left the client may jump to ``current``.
        cursor = last if more and last is not None else Cursor(max(current, after.seq, 0))
        body = {
            "cursor": str(cursor),
            "more": more,
            "households": [_household_json(row, fields, bool(row.visited), members) if full
                           else _masked(_household_json(row, fields, bool(row.visited), members), form)
                           for row in live],
            "removed": removed,
            "visits": [_visit_json(v, answers.get(v.uuid)) for v in kept_visits],
        }
    finally:
        session.rollback()
    if live:
        with write_transaction(session):
            audit.insert(session, user, "sync_pull", "device_token", token_id,
                         details={"households": len(live), "full_values": full, "since": since or None,
                                  "device_id": device_id})
    return body


def _returned_answers(session: Session, uuids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored answers of the page's returned visits (the pull's ``visits`` are the
    caller's own), so that a phone that did not record a visit, or lost it, can open
    the correction filled in. One query, and only for returned visits: an accepted or
    approved visit's answers never travel back."""
    if not uuids:
        return {}
    rows = session.execute(sa.select(Visit.uuid, Visit.data).where(Visit.uuid.in_(uuids)))
    return {uuid: data for uuid, data in rows}


def _visit_json(v: sa.Row[Any], data: dict[str, Any] | None) -> dict[str, Any]:
    returned = v.review_status == "returned"
    return {"uuid": v.uuid, "status": v.review_status, "review_comment": v.review_comment,
            "household_id": v.household_id, "return_kind": (v.return_kind or "correct") if returned else None,
            "data": data if returned else None}


def _after(cursor: Cursor, stream: int, seq: QueryableAttribute[Any], key: QueryableAttribute[Any]) -> sa.ColumnElement[bool]:
    """Rows of ``stream`` whose position ``(seq, stream, key)`` is after ``cursor``."""
    if cursor == START:
        return sa.true()
    if stream < cursor.stream:
        return seq > cursor.seq
    if stream > cursor.stream:
        return seq >= cursor.seq
    return sa.or_(seq > cursor.seq, sa.and_(seq == cursor.seq, key > cursor.key))


# Whether a household counts as visited: a visit in the active campaign that is not
# returned or superseded. A column of the page's query, not a query of its own.
_VISITED = sa.exists().where(
    Visit.household_id == Household.id, Visit.campaign_id == active_select(Campaign.id).scalar_subquery(),
    Visit.review_status.not_in(("returned", "superseded")),
)
@lru_cache(maxsize=2)
def _counter_and_form(dialect: str) -> sa.Select[Any]:
    """The pull sequence's bound, the active form and the user's latest scope removal,
    in one round trip."""
    return sa.select(
        changes.current_query(dialect).scalar_subquery().label("value"),
        active_select(Campaign.form_version).scalar_subquery().label("form_version"),
        sa.select(sa.func.max(ScopeRemoval.change_seq)).where(ScopeRemoval.user_id == sa.bindparam("user_id"))
        .scalar_subquery().label("scope_removed"),
    )

def _taken_away(user: User | TokenUser, after: int, current: int, exclude: set[str]) -> list[str]:
    """The households of villages taken out of the user's scope after ``after`` (up to
    ``current``) and not given back since: the phone is to drop them."""
    scope = access.village_scope(user)
    if scope is None:
        return []
    villages = set(db.session.scalars(
        sa.select(ScopeRemoval.village_id).where(ScopeRemoval.user_id == user.id,
                                                 ScopeRemoval.change_seq > after,
                                                 ScopeRemoval.change_seq <= current))) - set(scope)
    if not villages:
        return []
    ids = db.session.scalars(sa.select(Household.id).where(Household.village_id.in_(sorted(villages)))
                             .order_by(Household.id))
    return [household_id for household_id in ids if household_id not in exclude]


_MASKS = {"id18": mask_id, "phone": mask_phone}
# Plain columns, not ORM objects: a pull returns up to 2,000 households, and
# building an identity-mapped object for each cost more than the query.
_PULL_COLUMNS = [getattr(Household, name) for name in (
    "id", "code", "village_id", "group", "hamlet", "head_name", "head_pinyin", "head_initials",
    "head_id", "phone", "size", "labor_count", "category", "monitor_type", "risk_eliminated",
    "source", "rev", "merged_into_id", "change_seq")]


def _masked(household: dict[str, Any], form: FormDefinition) -> dict[str, Any]:
    """``household`` with its ID numbers and phones masked, top level and attributes."""
    for f in form.household_fields:
        mask = _MASKS.get(f.type)
        if mask is not None:
            household["attributes"][f.id] = mask(household["attributes"].get(f.id)) or None
            if f.id in household:
                household[f.id] = household["attributes"][f.id]
    for record in household["attributes"].get("members") or ():
        record["id_number"] = mask_id(record.get("id_number")) or None
    household["masked"] = True
    return household


def _household_json(h: sa.Row[Any], fields: list[str], visited: bool,
                    members: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {name: getattr(h, name, None) for name in fields}
    if members is not None:
        attributes["members"] = members.get(h.id, [])
    return {
        "id": h.id, "code": h.code, "village": h.village_name, "village_id": h.village_id,
        "group": h.group, "hamlet": h.hamlet, "head_name": h.head_name,
        "head_pinyin": h.head_pinyin, "head_initials": h.head_initials, "head_id": h.head_id,
        "phone": h.phone, "size": h.size, "labor_count": h.labor_count, "category": h.category,
        "monitor_type": h.monitor_type, "risk_eliminated": h.risk_eliminated, "source": h.source,
        "rev": h.rev, "attributes": attributes,
        "visited": visited, "masked": False,
    }


def form_document() -> dict[str, Any]:
    """``GET /api/v1/form``: the active campaign and its form definition."""
    campaign = active_campaign(db.session)
    if campaign is None:
        raise SyncError("no_active_campaign")
    return {
        "campaign": {
            "id": campaign.id, "name": campaign.name, "start_date": campaign.start_date.isoformat(),
            "end_date": campaign.end_date.isoformat(), "form_version": campaign.form_version,
            "monitoring_line": campaign.monitoring_line, "closed": campaign.closed,
        },
        "form": load_form(campaign.form_version).to_json(),
        "photos": {"per_visit": int(current_app.config["PHOTOS_PER_VISIT"]),
                   "max_bytes": int(current_app.config["PHOTO_MAX_BYTES"])},
    }
