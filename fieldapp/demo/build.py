"""Putting the demo town into the database: places, roster, users, campaign, in one transaction.

The households go in through the real roster import (``import_rows``), so
the demo exercises the same checks and the same bulk writes as a real
roster file. Users and the campaign are made with the same functions as the
``fieldapp user create`` and ``fieldapp campaign create`` commands
(:mod:`fieldapp.users`, :mod:`fieldapp.campaigns`).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp.campaigns import add_campaign
from fieldapp.db import write_transaction
from fieldapp.demo import names
from fieldapp.demo.generator import generate_town
from fieldapp.demo.places import COUNTY, PLACES, TOWN_CODE, TOWN_NAME
from fieldapp.extensions import db
from fieldapp.models import Campaign, Household, Town, User, Village
from fieldapp.roster.reader import RawRow
from fieldapp.roster.service import ImportResult, ProgressFn, import_rows
from fieldapp.users import add_user

CAMPAIGN_ID = "2023-jzpc"
CAMPAIGN_NAME = "2023年防止返贫监测帮扶集中排查"
CAMPAIGN_START = dt.date(2023, 10, 1)
CAMPAIGN_END = dt.date(2023, 11, 30)
MONITORING_LINE = 7600.0
# Demo passwords: known on purpose (the demo serves on 127.0.0.1 only); never for real data.
PASSWORDS = {"worker": "baoan-worker-2023", "supervisor": "baoan-review-2023", "admin": "baoan-admin-2023"}


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    display_name: str
    villages: tuple[str, ...]

    def line(self) -> str:
        scope = _("全部村/社区") if self.role == "supervisor" else "、".join(self.villages) or _("全镇")
        role = {"worker": _("网格员"), "supervisor": _("审核员"), "admin": _("管理员")}[self.role]
        return f"{self.username:<22} {_('密码')} {self.password:<18} {role} {self.display_name}（{scope}）"


def demo_logins(seed: int = 2023) -> list[Login]:
    """The admin, the supervisor and one worker per village, in village order."""
    rng = random.Random(f"logins-{seed}")
    logins = [Login("admin", PASSWORDS["admin"], "admin", "镇乡村振兴办管理员", ()),
              Login("supervisor", PASSWORDS["supervisor"], "supervisor", "镇乡村振兴办审核员",
                    tuple(p.name for p in PLACES))]
    for place in PLACES:
        person = names.person_name(rng, names.surname_weights(place.clans), rng.random() < 0.6)
        logins.append(Login(f"worker_{place.slug}", PASSWORDS["worker"], "worker", person, (place.name,)))
    return logins


def demo_state(session: Session) -> str:
    """``empty`` (nothing at all), ``demo`` (the complete demo town) or ``other``."""
    town = session.scalar(sa.select(Town).where(Town.name == TOWN_NAME, Town.code == TOWN_CODE))
    has_users = session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    if town is None:
        has_any = has_users or session.scalar(sa.select(sa.func.count()).select_from(Town))
        return "other" if has_any else "empty"
    households = session.scalar(sa.select(sa.func.count()).select_from(Household)
                                .where(Household.town_id == town.id)) or 0
    campaign = session.get(Campaign, CAMPAIGN_ID)
    workers = session.scalar(sa.select(sa.func.count()).select_from(User)
                             .where(User.username.in_([login.username for login in demo_logins()]))) or 0
    if households and campaign is not None and workers == len(PLACES) + 2:
        return "demo"
    return "other"


def build_demo(seed: int = 2023, progress: ProgressFn | None = None) -> ImportResult:
    """Create the demo town in an empty database (one transaction; nothing is left half-built)."""
    with write_transaction(db.session) as session:
        town = Town(name=TOWN_NAME, code=TOWN_CODE, county=COUNTY)
        session.add(town)
        session.flush()
        session.add_all(Village(town_id=town.id, name=p.name, code=p.full_code, kind=p.kind) for p in PLACES)
        session.flush()
        households = generate_town(seed)
        rows = [RawRow(number, h.roster_row()) for number, h in enumerate(households, start=2)]
        result = import_rows(rows, progress=progress, session=session, source=f"demo-roster-seed-{seed}",
                             details={"demo_seed": seed}, transaction=False)
        if result.errors:
            raise RuntimeError("demo roster has bad rows: " + "; ".join(e.message for e in result.errors[:5]))
        logins = demo_logins(seed)
        for done, login in enumerate(logins, start=1):
            add_user(session, login.username, login.role, login.password, list(login.villages),
                     login.display_name)
            if progress:
                progress("users", done, len(logins))
        add_campaign(session, CAMPAIGN_ID, CAMPAIGN_NAME, CAMPAIGN_START, CAMPAIGN_END,
                     monitoring_line=MONITORING_LINE, activate=True)
    return result
