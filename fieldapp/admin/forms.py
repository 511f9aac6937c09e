"""WTForms for the admin pages (every form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from fieldapp.users import MIN_PASSWORD_LENGTH

ROLE_CHOICES = [SelectChoice("worker", _l("网格员")), SelectChoice("supervisor", _l("审核员")),
                SelectChoice("admin", _l("管理员"))]
USERNAME_RULE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{1,49}$"
PASSWORD_MIN = MIN_PASSWORD_LENGTH
PASSWORD_MAX = 200


def _no_control_characters(_form: FlaskForm, field: StringField) -> None:
    """Names are shown in lists and exports: refuse control characters outright."""
    if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
        raise ValidationError(_l("不能包含控制字符"))


class VillageCheckboxes(SelectMultipleField):
    """Villages as a list of check boxes; choices (id, name) are set by the view."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: FlaskForm) -> None:
        valid = {str(choice.value) for choice in self.choices or []}
        for value in self.data or []:
            if str(value) not in valid:
                raise ValidationError(_l("村不存在"))


class UserCreateForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[
        DataRequired(_l("请输入用户名")),
        Regexp(USERNAME_RULE, message=_l("用户名为2–50位字母、数字、下划线、点或减号，以字母或数字开头")),
    ])
    display_name = StringField(_l("姓名"), validators=[
        DataRequired(_l("请输入姓名")), Length(max=50, message=_l("姓名最多50个字")), _no_control_characters,
    ])
    role = SelectField(_l("角色"), choices=ROLE_CHOICES, validators=[DataRequired()])
    villages = VillageCheckboxes(_l("负责的村"), coerce=int)
    password = PasswordField(_l("初始密码"), validators=[
        DataRequired(_l("请输入密码")),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=_l("密码为8–200位")),
    ])
    confirm = PasswordField(_l("再次输入密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


class UserEditForm(FlaskForm):
    display_name = StringField(_l("姓名"), validators=[
        DataRequired(_l("请输入姓名")), Length(max=50, message=_l("姓名最多50个字")), _no_control_characters,
    ])
    role = SelectField(_l("角色"), choices=ROLE_CHOICES, validators=[DataRequired()])
    active = BooleanField(_l("账号启用"))


class VillagesForm(FlaskForm):
    villages = VillageCheckboxes(_l("负责的村"), coerce=int)


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[
        DataRequired(_l("请输入密码")),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=_l("密码为8–200位")),
    ])
    confirm = PasswordField(_l("再次输入新密码"), validators=[EqualTo("password", _l("两次输入的密码不一致"))])


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class CampaignForm(FlaskForm):
    campaign_id = StringField(_l("活动编号"), validators=[
        DataRequired(_l("请输入活动编号")),
        Regexp(r"^[0-9A-Za-z][0-9A-Za-z_\-]{0,39}$", message=_l("活动编号只能包含字母、数字、- 和 _，最多40位")),
    ])
    name = StringField(_l("活动名称"), validators=[
        DataRequired(_l("请输入活动名称")), Length(max=100, message=_l("名称最多100个字")), _no_control_characters,
    ])
    start = DateField(_l("开始日期"), validators=[InputRequired(_l("请输入开始日期"))])
    end = DateField(_l("结束日期"), validators=[InputRequired(_l("请输入结束日期"))])
    monitoring_line = DecimalField(_l("监测范围（元/人/年）"), places=0, default=7600, validators=[
        InputRequired(_l("请输入监测范围")),
        NumberRange(min=1, max=1_000_000, message=_l("监测范围应在1到1000000元之间")),
    ])
    form_version = SelectField(_l("表单版本"), validators=[DataRequired()])
    activate = BooleanField(_l("创建后立即启用"))

    def validate_end(self, field: DateField) -> None:
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("结束日期不能早于开始日期"))


def _degrees(_form: FlaskForm, field: StringField) -> None:
    """A number of degrees, or nothing (its range is the use case's: fieldapp/villages.py)."""
    if field.data and field.data.strip():
        try:
            float(field.data.strip())
        except ValueError:
            raise ValidationError(_l("请输入数字（度），例如 30.2621")) from None


class VillagePositionForm(FlaskForm):
    """A village's 村委会 position; both left empty clears it."""

    lat = StringField(_l("村委会纬度"), validators=[Length(max=30), _degrees])
    lon = StringField(_l("村委会经度"), validators=[Length(max=30), _degrees])

    def position(self) -> tuple[float | None, float | None]:
        def value(text: str | None) -> float | None:
            return float(text.strip()) if text and text.strip() else None
        return value(self.lat.data), value(self.lon.data)


class RosterUploadForm(FlaskForm):
    file = FileField(_l("花名册文件（CSV 或 Excel）"), validators=[
        FileRequired(_l("请选择文件")),
        FileAllowed(["csv", "xlsx"], _l("只接受 .csv 或 .xlsx 文件")),
    ])
    skip_bad_rows = BooleanField(_l("跳过错误行，只导入正确的行"), validators=[Optional()])
