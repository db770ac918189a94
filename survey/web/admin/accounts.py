"""Staff accounts (city admins only; the gate in views.py enforces it)."""

from __future__ import annotations

from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user

from survey.errors import SurveyError
from survey.models import User
from survey.services import transaction
from survey.services.choices import region as region_by_id
from survey.services.choices import region_choices
from survey.services.login_throttle import locked_accounts
from survey.services.login_throttle import unlock
from survey.services.users import create_user
from survey.services.users import list_users
from survey.services.users import set_password
from survey.services.users import update_user
from survey.services.users import user_or_none
from survey.web.admin import bp
from survey.web.admin.forms import ActionForm
from survey.web.admin.forms import EditUserForm
from survey.web.admin.forms import PasswordForm
from survey.web.admin.forms import UserForm
from survey.web.admin.helpers import staff


def _page(form: UserForm | None = None, status: int = 200, error: str | None = None):  # type: ignore[no-untyped-def]
    form = form or UserForm()
    form.region_id.choices = region_choices(staff(), blank="（全市）")
    page = render_template(
        "admin/users.html", users=list_users(), locked=locked_accounts(), form=form, error=error
    )
    return page, status


@bp.get("/users")
def users() -> ResponseReturnValue:
    """All staff accounts and a form to add one."""
    return _page()


@bp.post("/users")
def user_create() -> ResponseReturnValue:
    """Create an account."""
    form = UserForm()
    form.region_id.choices = region_choices(staff(), blank="（全市）")
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        user = create_user(
            form.username.data or "",
            form.password.data or "",
            form.role.data or "viewer",
            region_by_id(form.region_id.data or 0),
            form.display_name.data or "",
            actor=staff(),
        )
    except SurveyError as exc:
        transaction.rollback()
        return _page(form, 400, str(exc))
    transaction.commit()
    flash(f"已创建账号 {user.username}", "ok")
    return redirect(url_for("admin.users"))


def _user_or_404(user_id: int) -> User:
    user = user_or_none(user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int) -> ResponseReturnValue:
    """Change role, scope, name or active flag; a separate form sets the password."""
    user = _user_or_404(user_id)
    form = EditUserForm(obj=user if not EditUserForm().is_submitted() else None)
    form.region_id.choices = region_choices(staff(), blank="（全市）")
    if not form.is_submitted():
        form.region_id.data = user.region_id or 0
    error = None
    if form.validate_on_submit():
        try:
            update_user(
                user,
                form.role.data or "viewer",
                region_by_id(form.region_id.data or 0),
                bool(form.active.data),
                form.display_name.data or "",
                actor=staff(),
            )
        except SurveyError as exc:
            transaction.rollback()
            error = str(exc)
        else:
            transaction.commit()
            _keep_own_session(user)
            flash(f"已保存账号 {user.username}", "ok")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "admin/user_edit.html",
            user=user,
            form=form,
            password_form=PasswordForm(),
            error=error,
        ),
        status,
    )


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int) -> ResponseReturnValue:
    """Set a new password for an account."""
    user = _user_or_404(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            set_password(user, form.password.data or "", actor=staff())
        except SurveyError as exc:
            transaction.rollback()
            flash(str(exc), "error")
        else:
            transaction.commit()
            _keep_own_session(user)
            flash(f"已重设 {user.username} 的密码", "ok")
            return redirect(url_for("admin.users"))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    edit = EditUserForm(obj=user)
    edit.region_id.choices = region_choices(staff(), blank="（全市）")
    edit.region_id.data = user.region_id or 0
    return (
        render_template("admin/user_edit.html", user=user, form=edit, password_form=form),
        400,
    )


def _keep_own_session(user: User) -> None:
    """Changing one's own account ended every session of it; keep this one (fresh token)."""
    if user.id == staff().id and user.active:
        login_user(user)


@bp.post("/users/<int:user_id>/unlock")
def user_unlock(user_id: int) -> ResponseReturnValue:
    """Lift every sign-in lock of an account (audit-logged)."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    unlock(user, staff())
    transaction.commit()
    flash(f"已解锁账号 {user.username}", "ok")
    return redirect(url_for("admin.users") + "#locked")
