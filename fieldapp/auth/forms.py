from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名")), Length(max=50),
                                                    Regexp(NO_CONTROL, message=_l("用户名含有不可见的控制字符"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码")), Length(max=200),
                                                      Regexp(NO_CONTROL, message=_l("密码含有不可见的控制字符"))])


class LogoutForm(FlaskForm):
    """Only the CSRF token: logout is a POST."""
