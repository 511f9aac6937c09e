"""Review forms (Flask-WTF, CSRF on). Conflict and merge forms are built per page,
since their fields are the household fields actually in question."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from fieldapp.models import Conflict, Household
from sync.form import FormDefinition

PICK_LABELS = (SelectChoice("base", _l("原值")), SelectChoice("current", _l("当前值")),
               SelectChoice("incoming", _l("本次走访值")), SelectChoice("custom", _l("改为")))


class ReviewForm(FlaskForm):
    """Approve or return one or many visits; ``uuids`` come from checkboxes or a hidden field."""

    uuids = SelectMultipleField(_l("走访记录"), validate_choice=False)
    comment = TextAreaField(_l("审核意见"), validators=[Optional(), Length(max=500)])
    return_kind = RadioField(_l("退回后"), default="correct", validators=[Optional()], choices=[
        SelectChoice("correct", _l("修改后重新提交")), SelectChoice("resign", _l("仅需重签（保留全部回答）"))])
    action = StringField(validators=[InputRequired(), AnyOf(["approve", "return"])])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.action.data == "return" and not (self.comment.data or "").strip():
            self.comment.errors = [_l("退回时请填写退回意见")]
            return False
        if not self.uuids.data:
            self.uuids.errors = [_l("请至少选择一条走访记录")]
            return False
        return True


class ConfirmForm(FlaskForm):
    """Only the CSRF token: dismiss a candidate, undo a merge."""


def _custom_field(definition: FormDefinition, field_id: str) -> Field:
    f = definition.by_id[field_id]
    if f.type == "choice":
        options = [SelectChoice("", _l("（清空）"))] + [SelectChoice(c.code, c.label) for c in f.choices]
        return SelectField(f.label, choices=options, validate_choice=True)
    if f.type == "yesno":
        return SelectField(f.label, choices=[SelectChoice("", _l("（清空）")), SelectChoice("true", _l("是")),
                                                    SelectChoice("false", _l("否"))])
    return StringField(f.label, validators=[Optional(), Length(max=max(f.max_len, 40))])


class ResolveForm(FlaskForm):
    """Fields added by :func:`make_resolve_form`: ``pick_<field>`` and ``custom_<field>``."""

    def picks(self) -> dict[str, tuple[str, str | None]]:
        out: dict[str, tuple[str, str | None]] = {}
        for name, field in self._fields.items():
            if name.startswith("pick_"):
                field_id = name[len("pick_"):]
                out[field_id] = (field.data, self[f"custom_{field_id}"].data)
        return out


def make_resolve_form(definition: FormDefinition, conflicts: Sequence[Conflict],
                      formdata: Any = None) -> ResolveForm:
    class _Form(ResolveForm):
        pass

    for conflict in conflicts:
        setattr(_Form, f"pick_{conflict.field}", RadioField(
            definition.by_id[conflict.field].label if conflict.field in definition.by_id else conflict.field,
            choices=list(PICK_LABELS), validators=[InputRequired(_l("请选择保留哪个值"))]))
        setattr(_Form, f"custom_{conflict.field}", _custom_field(definition, conflict.field))
    return _Form(formdata=formdata) if formdata is not None else _Form()


class MergeForm(FlaskForm):
    """Fields added by :func:`make_merge_form`: ``survivor`` and ``keep_<field>``."""

    def choices_by_field(self) -> dict[str, str]:
        return {name[len("keep_"):]: field.data for name, field in self._fields.items()
                if name.startswith("keep_") and field.data}


def make_merge_form(definition: FormDefinition, a: Household, b: Household,
                    differing: Sequence[str], formdata: Any = None) -> MergeForm:
    class _Form(MergeForm):
        pass

    sides = [SelectChoice(a.id, _l("甲户")), SelectChoice(b.id, _l("乙户"))]
    _Form.survivor = RadioField(_l("保留哪一户（另一户并入）"), choices=sides,
                                validators=[InputRequired(_l("请选择保留哪一户"))])
    for field_id in differing:
        label = definition.by_id[field_id].label if field_id in definition.by_id else field_id
        setattr(_Form, f"keep_{field_id}", RadioField(label, choices=sides, validators=[Optional()]))
    return _Form(formdata=formdata) if formdata is not None else _Form()
