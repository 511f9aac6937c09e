"""Who may see what: role checks and village scope, used by every blueprint.

The scope is the villages a user sees (docs/domain.md, "Scope"). On a town server: a
worker's and a supervisor's assigned villages, every village for an admin. At central
(a server with nodes, ``fieldapp.tier``) the scope of a supervisor or an
admin is by town: one with villages sees every village of those villages' towns (a
town's 审核员 or 管理员: villages the town sends later included); one without villages
is a county role and sees every town.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from flask import abort, g
from flask_login import current_user
from flask_login import login_required as _login_required
from sqlalchemy.orm import QueryableAttribute

from fieldapp.db import AnySession
from fieldapp.extensions import db
from fieldapp.models import Household, User, Village
from fieldapp.tier import at_central

F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    """Flask-Login's ``login_required`` (logged in, else redirect to /login), typed:
    Flask-Login ships no types."""
    return cast(F, _login_required(view))


class Scoped(Protocol):
    """Whoever a scope is worked out for: a logged-in :class:`User` or an API token's user."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def village_ids(self) -> list[int]: ...


def roles_required(*roles: str) -> Callable[[F], F]:
    """Logged in (else redirect to /login) and one of ``roles`` (else 403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# Roles that hold full ID numbers and phones in bulk: a grid worker, whose visit form
# carries the head's full ID for the households of their villages (prefilled, checked
# at the door), and an admin (who may export full values). A supervisor sees full
# values one household at a time on the review pages; lists, exports and pulls are masked.
FULL_VALUE_ROLES = frozenset({"worker", "admin"})


def holds_full_values(role: str) -> bool:
    """Whether ``role`` receives full ID numbers and phones in bulk (a pull, an export)."""
    return role in FULL_VALUE_ROLES


def resend_on_role_change(before: str, after: str) -> bool:
    """Whether a role change must send every household in scope to the phone again:
    full values the new role may not hold are replaced by masked ones, and a worker
    gets the full values their visit form needs (other widenings keep the masked copies)."""
    if holds_full_values(before):
        return not holds_full_values(after)
    return after == "worker"


TOWN_ROLES = frozenset({"supervisor", "admin"})


def village_scope(user: Scoped) -> list[int] | None:
    """Village ids the user may see; None means all (an admin; at central a county role)."""
    if at_central() and user.role in TOWN_ROLES:
        return _town_scope(user.village_ids)
    if user.role == "admin":
        return None
    return user.village_ids


def _town_scope(village_ids: list[int]) -> list[int] | None:
    """At central: every village of the towns of ``village_ids``; None (every town) for none."""
    if not village_ids:
        return None
    key = tuple(sorted(village_ids))
    cache: dict[tuple[int, ...], list[int]] = g.setdefault("fieldapp_town_scopes", {})
    if key not in cache:
        towns = sa.select(Village.town_id).where(Village.id.in_(key))
        cache[key] = list(db.session.scalars(sa.select(Village.id).where(Village.town_id.in_(towns))
                                             .order_by(Village.id)))
    return cache[key]


def whole_server(user: Scoped) -> bool:
    """Whether ``user`` is an admin of the whole server: any admin on a town server, a
    county admin (no villages) at central. The admin area and the audit log are theirs
    only; at central a town's admin has the review, dedup and report pages of the town."""
    return user.role == "admin" and village_scope(user) is None


def in_scope(user: Scoped, village_id: int | None) -> bool:
    scope = village_scope(user)
    return scope is None or village_id in scope


def scope_filter(user: Scoped, column: sa.ColumnElement[Any] | QueryableAttribute[Any]) -> sa.ColumnElement[bool]:
    """A WHERE clause limiting ``column`` (a village id column) to the user's scope."""
    scope = village_scope(user)
    if scope is None:
        return sa.true()
    return column.in_(scope) if scope else sa.false()


def household_or_404(session: AnySession, user: User, household_id: str) -> Household:
    """The household if it exists and is in scope; out of scope looks like not found."""
    household = session.get(Household, household_id)
    if household is None or not in_scope(user, household.village_id):
        abort(404)
    return household
