"""Flask-WTF forms of the staff area; every form carries a CSRF token."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import BooleanField
from wtforms import DateTimeLocalField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.validators import ValidationError

from survey.date_range import RANGE_TEXT
from survey.date_range import in_range
from survey.models import ROLES
from survey.models.user import ROLE_NAMES
from survey.services.names import REGION_CODE_PATTERN
from survey.services.names import REGION_CODE_RULE
from survey.services.names import control_characters
from survey.services.users import MIN_PASSWORD_LENGTH
from survey.services.users import USERNAME_PATTERN

ROLE_CHOICES = [(r, ROLE_NAMES[r]) for r in ROLES]


def no_control_characters(_form: FlaskForm, field: StringField) -> None:
    """WTForms validator: names and labels are one line of text, no control characters."""
    bad = control_characters(field.data or "")
    if bad:
        raise ValidationError(f"不能包含控制字符（如换行、制表符）：{', '.join(bad[:5])}")


def within_calendar(_form: FlaskForm, field: DateTimeLocalField) -> None:
    """WTForms validator: a typed date lies in 2000-01-01..2100-12-31 (see date_range)."""
    if field.data is not None and not in_range(field.data):
        raise ValidationError(f"日期超出支持的范围（{RANGE_TEXT}）")


LEVEL_CHOICES = [("district", "区/县"), ("street", "街道/镇"), ("community", "社区/村")]


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(
        "用户名", validators=[DataRequired("请输入用户名"), Length(max=64), no_control_characters]
    )
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=200)])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes state (logout, revoke, ...): only the CSRF token."""


class RegionForm(FlaskForm):
    """Add a region under a parent."""

    parent_id = SelectField("上级区域", coerce=int, validators=[DataRequired("请选择上级区域")])
    code = StringField(
        "编码",
        validators=[
            DataRequired("请输入编码"),
            Length(max=20),
            Regexp(REGION_CODE_PATTERN, message=REGION_CODE_RULE),
        ],
    )
    name = StringField(
        "名称", validators=[DataRequired("请输入名称"), Length(max=100), no_control_characters]
    )


class RenameForm(FlaskForm):
    """Rename a region."""

    name = StringField(
        "新名称", validators=[DataRequired("请输入名称"), Length(max=100), no_control_characters]
    )


class LabelForm(FlaskForm):
    """Change a collection point's label (the line printed under its QR code)."""

    label = StringField(
        "点位名称", validators=[DataRequired("请输入名称"), Length(max=200), no_control_characters]
    )


class ImportForm(FlaskForm):
    """Upload a CSV or XLSX region file."""

    file = FileField(
        "区域文件",
        validators=[
            FileRequired("请选择文件"),
            FileAllowed(["csv", "xlsx", "txt"], "只支持 CSV 或 XLSX 文件"),
        ],
    )


class PointForm(FlaskForm):
    """Issue one collection point."""

    version_id = SelectField("问卷", coerce=int, validators=[DataRequired("请选择问卷")])
    region_id = SelectField("区域", coerce=int, validators=[DataRequired("请选择区域")])
    channel_id = SelectField("渠道", coerce=int, validators=[DataRequired("请选择渠道")])
    label = StringField("点位名称", validators=[Length(max=200), no_control_characters])
    expires_at = DateTimeLocalField(
        "到期时间（可选）", format="%Y-%m-%dT%H:%M", validators=[Optional(), within_calendar]
    )


class BatchForm(FlaskForm):
    """Issue one point per region at a level under a chosen region."""

    version_id = SelectField("问卷", coerce=int, validators=[DataRequired("请选择问卷")])
    region_id = SelectField("在哪个区域下", coerce=int, validators=[DataRequired("请选择区域")])
    level = SelectField("为每个", default="community")
    channel_id = SelectField("渠道", coerce=int, validators=[DataRequired("请选择渠道")])
    label_pattern = StringField(
        "名称模板", default="{region}{channel}", validators=[Length(max=200), no_control_characters]
    )
    expires_at = DateTimeLocalField(
        "到期时间（可选）", format="%Y-%m-%dT%H:%M", validators=[Optional(), within_calendar]
    )
    skip_existing = BooleanField("跳过已有同渠道有效点位的区域", default=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set after construction: WTForms 3.3 deprecates tuple choices in field declarations.
        self.level.choices = LEVEL_CHOICES


class UserForm(FlaskForm):
    """Create a staff account."""

    username = StringField(
        "用户名",
        validators=[
            DataRequired("请输入用户名"),
            Length(max=64),
            Regexp(USERNAME_PATTERN, message="用户名只能包含字母、数字和 _ . @ -"),
        ],
    )
    display_name = StringField("姓名", validators=[Length(max=100), no_control_characters])
    role = SelectField("角色", default="viewer")
    region_id = SelectField("负责区域", coerce=int, default=0)
    password = PasswordField(
        "初始密码",
        validators=[DataRequired("请输入密码"), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = ROLE_CHOICES


class EditUserForm(FlaskForm):
    """Change an account's role, scope, name or active flag."""

    display_name = StringField("姓名", validators=[Length(max=100), no_control_characters])
    role = SelectField("角色")
    region_id = SelectField("负责区域", coerce=int, default=0)
    active = BooleanField("启用")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = ROLE_CHOICES


class PasswordForm(FlaskForm):
    """Set a new password."""

    password = PasswordField(
        "新密码",
        validators=[DataRequired("请输入密码"), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )
    confirm = PasswordField("再次输入", validators=[EqualTo("password", "两次输入的密码不一致")])


class ReviewForm(FlaskForm):
    """Confirm or clear the flags ticked on a page (their ids come as ``flag`` fields)."""

    decision = HiddenField()
    next = HiddenField()


class WindowForm(FlaskForm):
    """A point's collection window: dates and daily hours, each optional."""

    starts_at = DateTimeLocalField(
        "开始时间（可选）", format="%Y-%m-%dT%H:%M", validators=[Optional(), within_calendar]
    )
    ends_at = DateTimeLocalField(
        "结束时间（可选）", format="%Y-%m-%dT%H:%M", validators=[Optional(), within_calendar]
    )
    hours = StringField(
        "每日时段（可选，如 08:00-20:00）",
        validators=[
            Optional(),
            Length(max=20),
            Regexp(
                r"^\s*\d{1,2}:\d{2}\s*[-–—~]\s*\d{1,2}:\d{2}\s*$", message="格式应为 HH:MM-HH:MM"
            ),
        ],
    )
