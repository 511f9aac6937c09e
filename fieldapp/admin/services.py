"""Admin use cases: one function each, one transaction each, each audited.

Every function runs in ``write_transaction`` (BEGIN
IMMEDIATE on SQLite), checks, changes, records an audit entry with the
before/after images and commits. A refusal raises :class:`AdminError` with a
Chinese message and rolls back, so nothing half-done is ever committed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from fieldapp import access, audit, campaigns, scope_changes, users
from fieldapp.db import write_transaction
from fieldapp.extensions import db
from fieldapp.models import Campaign, DeviceToken, LoginAttempt, User, Village, utcnow
from sync.errors import SyncError


class AdminError(SyncError, ValueError):
    """A refused admin action: a kind of the error catalogue; ``str(error)`` is its
    Chinese message for the user."""


def _user_or_error(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise AdminError("user_not_found")
    return user


def user_snapshot(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user (never the password hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "active": user.active, "villages": sorted(v.name for v in user.villages)}


def _villages_by_id(village_ids: list[int]) -> list[Village]:
    if not village_ids:
        return []
    found = list(db.session.scalars(sa.select(Village).where(Village.id.in_(village_ids))))
    if len(found) != len(set(village_ids)):
        raise AdminError("villages_not_found")
    return found


def _active_admins_other_than(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(
            User.role == "admin", User.active.is_(True), User.id != user.id)
    ) or 0


def _revoke_all_tokens(user: User, now: dt.datetime) -> list[int]:
    tokens = list(db.session.scalars(sa.select(DeviceToken).where(
        DeviceToken.user_id == user.id, DeviceToken.revoked_at.is_(None))))
    for token in tokens:
        token.revoked_at = now
    return [t.id for t in tokens]


def create_user(actor: User, username: str, display_name: str, role: str,
                village_ids: list[int], password: str) -> User:
    """Create an account with its village scope (a worker needs at least one village)."""
    with write_transaction(db.session) as session:
        names = [f"{v.town.name}/{v.name}" for v in _villages_by_id(village_ids)]  # names repeat across towns
        try:
            user = users.add_user(session, username, role, password, names, display_name, actor=actor)
        except ValueError as exc:
            raise AdminError("admin_refused", reason=str(exc)) from exc
    return user


def update_user(actor: User, user_id: int, display_name: str, role: str, active: bool) -> User:
    """Change name, role or active flag; a role change or deactivation ends the user's web
    sessions, and deactivating also revokes the user's device tokens."""
    with write_transaction(db.session):
        user = _user_or_error(user_id)
        before = user_snapshot(user)
        if user.id == actor.id and (role != user.role or not active):
            raise AdminError("own_account")
        if user.role == "admin" and (role != "admin" or not active) and _active_admins_other_than(user) == 0:
            raise AdminError("last_admin")
        if role == "worker" and not user.villages:
            raise AdminError("worker_needs_village_first")
        scope_before = access.village_scope(user)
        reshaped = access.resend_on_role_change(user.role, role)
        if role != user.role or not active:
            user.end_sessions()
        user.display_name = display_name
        user.role = role
        user.active = active
        scope_changes.record(db.session, user.id, scope_before, access.village_scope(user), reshaped=reshaped)
        details: dict[str, Any] = {}
        if before["active"] and not active:
            details["revoked_tokens"] = _revoke_all_tokens(user, utcnow())
        audit.record(db.session, actor, "user_update", "user", user.id,
                     before=before, after=user_snapshot(user), details=details or None)
    return user


def assign_villages(actor: User, user_id: int, village_ids: list[int]) -> User:
    """Replace the villages a user is responsible for (a change ends their web sessions)."""
    with write_transaction(db.session):
        user = _user_or_error(user_id)
        before = user_snapshot(user)
        villages = _villages_by_id(village_ids)
        if user.role == "worker" and not villages:
            raise AdminError("worker_needs_village")
        scope_before = access.village_scope(user)
        if {v.id for v in villages} != set(user.village_ids):
            user.end_sessions()
        user.villages = villages
        scope_changes.record(db.session, user.id, scope_before, access.village_scope(user))
        audit.record(db.session, actor, "user_villages", "user", user.id,
                     before={"villages": before["villages"]},
                     after={"villages": sorted(v.name for v in villages)})
    return user


def reset_password(actor: User, user_id: int, password: str) -> User:
    """Set a new password, end the user's web sessions and lift the login throttle
    on that user name.

    Device tokens stay valid: a forgotten password is not a lost phone.
    """
    try:
        users.check_password(password)
    except ValueError as exc:
        raise AdminError("admin_refused", reason=str(exc)) from exc
    with write_transaction(db.session):
        user = _user_or_error(user_id)
        user.set_password(password)
        user.end_sessions()
        db.session.execute(sa.delete(LoginAttempt).where(
            LoginAttempt.username == user.username, LoginAttempt.success.is_(False)))
        audit.record(db.session, actor, "password_reset", "user", user.id,
                     before={"password": "(旧密码)"}, after={"password": "(已重置)"})
    return user


def revoke_token(actor: User, user_id: int, token_id: int) -> DeviceToken:
    """Revoke one device token (a lost phone): the API then answers that phone 401."""
    with write_transaction(db.session):
        token = db.session.get(DeviceToken, token_id)
        if token is None or token.user_id != user_id:
            raise AdminError("token_not_found")
        if token.revoked_at is not None:
            raise AdminError("token_already_revoked")
        token.revoked_at = utcnow()
        audit.record(db.session, actor, "token_revoke", "device_token", token.id,
                     before={"revoked": False}, after={"revoked": True},
                     details={"user_id": user_id, "device_id": token.device_id,
                              "device_name": token.device_name})
    return token


def campaign_snapshot(campaign: Campaign) -> dict[str, Any]:
    return {"name": campaign.name, "start": campaign.start_date.isoformat(),
            "end": campaign.end_date.isoformat(), "monitoring_line": campaign.monitoring_line,
            "form_version": campaign.form_version, "active": campaign.active, "closed": campaign.closed}


def create_campaign(actor: User, campaign_id: str, name: str, start: dt.date, end: dt.date,
                    monitoring_line: float, form_version: str, activate: bool) -> Campaign:
    """Open a new campaign; with ``activate`` it becomes the only active one."""
    try:
        return campaigns.create_campaign(campaign_id, name, start, end, monitoring_line, form_version,
                                         activate, actor=actor)
    except ValueError as exc:
        raise AdminError("admin_refused", reason=str(exc)) from exc


def activate_campaign(actor: User, campaign_id: str) -> Campaign:
    """Make a campaign the active one (reopening it if it was closed)."""
    with write_transaction(db.session):
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise AdminError("campaign_not_found")
        if campaign.active:
            raise AdminError("campaign_already_active")
        before = campaign_snapshot(campaign)
        previous = campaigns.make_active(db.session(), campaign)
        audit.record(db.session, actor, "campaign_activate", "campaign", campaign.id,
                     before=before, after=campaign_snapshot(campaign),
                     details={"deactivated": previous} if previous else None)
    return campaign


def close_campaign(actor: User, campaign_id: str) -> Campaign:
    """Close a campaign: phones can no longer push visits into it."""
    with write_transaction(db.session):
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise AdminError("campaign_not_found")
        if campaign.closed:
            raise AdminError("campaign_already_closed")
        before = campaign_snapshot(campaign)
        campaign.closed = True
        campaign.active = False
        audit.record(db.session, actor, "campaign_close", "campaign", campaign.id,
                     before=before, after=campaign_snapshot(campaign))
    return campaign
