"""Sign-in and sign-out."""

from __future__ import annotations

from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user

from survey.services import audit
from survey.services import transaction
from survey.services.users import authenticate
from survey.services.users import sign_out
from survey.web.admin import bp
from survey.web.admin.forms import LoginForm
from survey.web.admin.helpers import safe_next
from survey.web.admin.helpers import staff


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign-in page; failures are throttled (survey.services.login_throttle)."""
    form = LoginForm()
    default = url_for("admin.index")
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), default)
        if current_user.is_authenticated:
            return redirect(form.next.data)
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("admin/login.html", form=form), status
    result = authenticate(form.username.data or "", form.password.data or "", _client_address())
    if result.user is None:
        transaction.commit()  # keep the failure count
        if result.locked:
            minutes = max(1, (result.retry_after + 59) // 60)
            error = f"登录失败次数过多，账号或网络已被暂时锁定，请 {minutes} 分钟后再试。"
            response = render_template("admin/login.html", form=form, error=error)
            return response, 429, {"Retry-After": str(result.retry_after)}
        return render_template("admin/login.html", form=form, error="用户名或密码不正确。"), 401
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(result.user)
    audit.record(result.user, "login", "user", result.user.id)
    transaction.commit()
    return redirect(safe_next(form.next.data, default))


def _client_address() -> str:
    """The client address as seen by this app (a proxy must set X-Forwarded-For via ProxyFix)."""
    return request.remote_addr or "unknown"


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out everywhere (POST with CSRF token: a link on another site cannot sign anyone
    out); a copied session cookie stops working too."""
    sign_out(staff())  # every session of this account ends, not only this cookie
    transaction.commit()
    logout_user()
    session.clear()
    return redirect(url_for("admin.login"))
