"""The roster's optional members sheet (家庭成员): one row per member, keyed by 户编号.

An XLSX roster carries it as a later sheet (found by its header), a CSV roster
as a second file (``fieldapp roster import FILE --members MEMBERS.csv``). The
rules are those of the form's member fields (form 2024.1, ``members``): a
choice is given by its label or its code, 是/否 for the yes/no questions.
Stored with the household (``household_members``, fieldapp/households.py); a
household whose members a visit has recorded keeps them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp.households import MEMBERS_FORM, write_members
from fieldapp.models import Household
from fieldapp.roster.reader import RawRow
from fieldapp.roster.validate import (
    _NAME,
    YES_NO,
    Problem,
    RowError,
    _clean,
    _integer,
    _text,
    show_value,
)
from sync.form import Field, load_form
from sync.idnumber import validate_id
from sync.normalize import normalize_name
from sync.roster_file import MEMBER_SHEET


@dataclass
class MemberProblem(Problem):
    def describe(self) -> str:
        return f"{MEMBER_SHEET.by_key[self.column].display}“{show_value(self.value)}”：{self.reason}"


@dataclass
class MemberRowError(RowError):
    @property
    def message(self) -> str:
        return str(_("家庭成员表")) + super().message


def member_fields() -> dict[str, Field]:
    return {f.id: f for f in load_form(MEMBERS_FORM).by_id["members"].fields}


def check_members(rows: Sequence[RawRow], codes: set[str], today: dt.date | None = None,
                  ) -> tuple[dict[str, list[dict[str, Any]]], list[RowError]]:
    """Each household's member records (by 户编号, in file order) and the bad rows.

    :param codes: the 户编号 of the roster's household rows
    """
    today = today or dt.date.today()
    fields = member_fields()
    members: dict[str, list[dict[str, Any]]] = {}
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for raw in rows:
        problems: list[Problem] = []
        values = raw.values

        def fail(key: str, reason: str, values: dict[str, object] = values, problems: list[Problem] = problems) -> None:
            problems.append(MemberProblem(key, values.get(key), reason))

        code = _clean(values.get("code"))
        if not code:
            fail("code", _("必填，不能为空"))
        elif code not in codes:
            fail("code", _("花名册中没有这个户编号"))
        record: dict[str, Any] = {}
        name = normalize_name(_text(values.get("name")))
        if not (2 <= len(name) <= 20 and _NAME.match(name)):
            fail("name", _("只能包含汉字、“·”或字母，2–20个字"))
        record["name"] = name
        check = validate_id(values.get("id_number"), today)
        if check.error:
            fail("id_number", _(check.error))
        record["id_number"] = check.value
        for key in ("relation", "health", "disability_type", "disability_grade", "skill", "work", "school"):
            text = _clean(values.get(key))
            if not text:
                if key == "relation":
                    fail(key, _("必填，不能为空"))
                continue
            choice = next((c for c in fields[key].choices if text in (c.label, c.code)), None)
            if choice is None:
                fail(key, _("应为：%(labels)s", labels="、".join(c.label for c in fields[key].choices)))
            else:
                record[key] = choice.code
        months = values.get("work_months")
        if _clean(months):
            number = _integer(months)
            if number is None or not 1 <= number <= 12:
                fail("work_months", _("应为1–12的整数"))
            else:
                record["work_months"] = number
        for key in ("medical_insured", "pension_insured", "dibao"):
            text = _clean(values.get(key)).lower()
            if text:
                if text not in YES_NO:
                    fail(key, _("应为“是”或“否”"))
                else:
                    record[key] = YES_NO[text]
        if code and check.value and not check.error:
            first = seen.setdefault((code, check.value), raw.number)
            if first != raw.number:
                fail("id_number", _("与第%(row)s行重复（同一户的成员身份证号应不同）", row=first))
        if problems:
            errors.append(MemberRowError(raw.number, code or None, problems))
        else:
            members.setdefault(code, []).append(record)
    return members, errors


def store_members(session: Session, town_codes: dict[str, set[int]], members: dict[str, list[dict[str, Any]]],
                  now: dt.datetime) -> int:
    """Write the members sheet's records to the households of the file's towns (by 户编号);
    a household whose members a visit recorded keeps them. Returns the households written."""
    wanted = {code: records for code, records in members.items() if code in town_codes}
    if not wanted:
        return 0
    towns = sorted({t for code in wanted for t in town_codes[code]})
    found = session.execute(sa.select(Household.id, Household.code).where(
        Household.town_id.in_(towns), Household.code.in_(list(wanted)), Household.merged_into_id.is_(None))).all()
    # write_members writes only the households whose members change (the same file again writes none)
    written = write_members(session, {row.id: wanted[row.code] for row in found}, now, source="roster",
                            renumber=True, keep_visit_lists=True)
    return len(written)
