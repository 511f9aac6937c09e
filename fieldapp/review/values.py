"""Household values during review: checking chosen values with the form's rules, before-images."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldapp.models import HOUSEHOLD_FIELDS, Campaign, Household
from sync.form import FormContext, load_form


def form_context(campaign: Campaign | None) -> FormContext:
    if campaign is None:
        return FormContext()
    return FormContext(monitoring_line=campaign.monitoring_line, start=campaign.start_date,
                       end=campaign.end_date)


def check_household_values(form_version: str, campaign: Campaign | None, current: Mapping[str, Any],
                           chosen: Mapping[str, Any], typed: set[str]
                           ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate household values a supervisor chose, with the form definition's rules.

    :param current: the household's values now (JSON encoding of docs/visit-form.md)
    :param chosen: field id -> the chosen value; fields in ``typed`` hold the
        supervisor's typed text, coerced here the way the HTML form is
    :returns: the normalised chosen values, and errors per field. An error is
        reported for a chosen field, or for another household field that only
        became invalid with the chosen values (``labor_count`` above a smaller
        ``size``); faults the household already had are not blamed on the choice.
    """
    form = load_form(form_version)
    context = form_context(campaign)
    proposed = {f: chosen[f] for f in chosen}
    if typed:
        coerced = form.coerce_strings({f: chosen[f] for f in typed})
        proposed.update({f: coerced[f] for f in typed})
    base = {f: current.get(f) for f in HOUSEHOLD_FIELDS}
    earlier = form.validate(base, context).errors
    result = form.validate({**base, **proposed}, context)
    errors = {
        f: messages for f, messages in result.errors.items()
        if f in HOUSEHOLD_FIELDS and (f in proposed or f not in earlier)
    }
    return {f: result.values.get(f) for f in proposed}, errors


def household_image(household: Household) -> dict[str, Any]:
    """Everything a merge may change on a household, to put it back on undo."""
    return {
        "values": household.field_values(),
        "rev": household.rev,
        "change_seq": household.change_seq,
        "merged_into_id": household.merged_into_id,
        "village_id": household.village_id,
        "head_pinyin": household.head_pinyin,
        "head_initials": household.head_initials,
    }
