"""The WTForms class and HTML form generated from the form definition.

There is one definition (``sync/forms/<version>.yaml``). This module turns it
into a Flask-WTF form class whose ``validate`` runs CSRF and then the very
same validator the API uses (``FormDefinition.validate``), so the web form,
the API and the phone give identical Chinese messages.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import Field as WTField
from wtforms import HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput, TelInput

from sync.form import DEFAULT_VERSION, Field, FormContext, FormDefinition, Validation, load_form


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VisitFormBase(FlaskForm):
    """Base of the generated classes: CSRF, then the definition's validator."""

    definition: FormDefinition
    form_context: FormContext = FormContext()
    validation: Validation | None = None

    def validate(self, extra_validators: Any = None) -> bool:
        csrf_ok = super().validate(extra_validators)
        raw = {}
        for f in self.definition.input_fields:
            field = getattr(self, f.id)
            raw[f.id] = field.data
        data = self.definition.coerce_strings(_MultiDict(raw))
        self.validation = self.definition.validate(data, self.form_context)
        for key, messages in self.validation.errors.items():
            # a member's error (members.0.id_number) is shown on the members field
            field_id, _, item = key.partition(".")
            if item:
                index, _, sub = item.partition(".")
                repeat = self.definition.by_id.get(field_id)
                label = next((s.label for s in repeat.fields if s.id == sub), sub) if repeat else sub
                messages = [gettext("第%(n)s人 %(label)s：%(message)s", n=int(index) + 1, label=label, message=m)
                            if index.isdigit() else m for m in messages]
            field = getattr(self, field_id, None)
            if field is not None:
                field.errors = list(field.errors) + messages
        return csrf_ok and self.validation.ok


class _MultiDict(dict[str, Any]):
    def getlist(self, key: str) -> list[Any]:
        value = self.get(key)
        return list(value) if isinstance(value, list | tuple) else ([] if value is None else [value])


def _wtfield(f: Field) -> WTField | None:
    kw: dict[str, Any] = {"label": f.label, "description": f.label_en,
                          "render_kw": {"data-type": f.type}}
    if f.type == "computed":
        return None
    if f.type in {"text", "group"}:
        if f.get("multiline"):
            return TextAreaField(**{**kw, "render_kw": {**kw["render_kw"], "maxlength": f.max_len}})
        return StringField(**{**kw, "render_kw": {**kw["render_kw"], "maxlength": f.max_len}})
    if f.type == "id18":
        return StringField(**{**kw, "render_kw": {**kw["render_kw"], "maxlength": 18, "autocomplete": "off"}})
    if f.type == "phone":
        return StringField(widget=TelInput(), **kw)
    if f.type in {"int", "money"}:
        step = "1" if f.type == "int" else "0.01"
        return StringField(widget=NumberInput(step=step, min=f.get("min")), **{
            **kw, "render_kw": {**kw["render_kw"], "inputmode": "decimal" if f.type == "money" else "numeric"}})
    if f.type == "date":
        return StringField(widget=DateInput(), **kw)
    if f.type == "yesno":
        return RadioField(choices=[SelectChoice("true", "是"), SelectChoice("false", "否")], validate_choice=False, **kw)
    if f.type == "choice":
        return RadioField(choices=[SelectChoice(c.code, c.label) for c in f.choices], validate_choice=False, **kw)
    if f.type == "multi":
        return MultiCheckboxField(choices=[SelectChoice(c.code, c.label) for c in f.choices], validate_choice=False, **kw)
    if f.type == "image":
        return HiddenField(**kw)
    if f.type == "repeat":
        # The web form takes the members as JSON (the phone has the table editor).
        return TextAreaField(**{**kw, "render_kw": {**kw["render_kw"], "rows": 6}})
    raise ValueError(f"unknown field type {f.type!r} in form definition")


@cache
def visit_form_class(version: str = DEFAULT_VERSION) -> type[VisitFormBase]:
    """The WTForms class for ``version`` (cached: one class per version)."""
    definition = load_form(version)
    attributes: dict[str, Any] = {"definition": definition}
    for f in definition.fields:
        field = _wtfield(f)
        if field is not None:
            attributes[f.id] = field
    return type(f"VisitForm_{version.replace('.', '_')}", (VisitFormBase,), attributes)
