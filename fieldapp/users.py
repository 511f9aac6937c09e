"""User accounts: creating a user with a role and the villages in their scope."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db import write_transaction
from fieldapp.extensions import db
from fieldapp.models import ROLES, Town, User, Village

MIN_PASSWORD_LENGTH = 8


def check_password(password: str) -> None:
    """Refuse a password too short to set; raises ValueError with a Chinese message."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"密码至少{MIN_PASSWORD_LENGTH}位")


def villages_named(session: Session, names: list[str]) -> list[Village]:
    """The villages ``names`` name: ``沼山村``, or ``保安镇/沼山村`` where two towns share the
    name (at central); raises ValueError (Chinese) for one missing or ambiguous."""
    found: list[Village] = []
    missing, doubled = [], []
    for entry in names:
        town, _, name = entry.rpartition("/")
        query = sa.select(Village).where(Village.name == name.strip())
        if town:
            query = query.join(Town, Town.id == Village.town_id).where(Town.name == town.strip())
        matches = list(session.scalars(query))
        if not matches:
            missing.append(entry)
        elif len(matches) > 1:
            doubled.append(entry)
        else:
            found.extend(v for v in matches if v not in found)
    if missing:
        raise ValueError(f"村不存在：{'、'.join(missing)}")
    if doubled:
        raise ValueError(f"多个乡镇都有{'、'.join(doubled)}，请写成 乡镇/村，例如 保安镇/{doubled[0]}")
    return found


def add_user(session: Session, username: str, role: str, password: str, villages: list[str],
             display_name: str | None = None, actor: User | None = None) -> User:
    """Add a user with village scope (village names) inside the caller's write transaction,
    audited; raises ValueError with a Chinese message."""
    if role not in ROLES:
        raise ValueError(f"角色无效：{role}")
    check_password(password)
    if session.scalar(sa.select(User).where(User.username == username)):
        raise ValueError(f"用户名已存在：{username}")
    found = villages_named(session, villages)
    if role == "worker" and not found:
        raise ValueError("网格员至少要分配一个村（--village）")
    user = User(username=username, role=role, display_name=display_name or username)
    user.set_password(password)
    user.villages = found
    session.add(user)
    session.flush()
    audit.record(session, actor, "user_create", "user", user.id,
                 after={"username": username, "role": role, "villages": [v.name for v in found]})
    return user


def create_user(username: str, role: str, password: str, villages: list[str],
                display_name: str | None = None, actor: User | None = None) -> User:
    """Create a user (``fieldapp user create``): :func:`add_user` in a write transaction of its own."""
    with write_transaction(db.session) as session:
        return add_user(session, username, role, password, villages, display_name, actor)
