"""Staff views."""

from __future__ import annotations

from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey.admin import bp


@bp.before_request
def require_login() -> ResponseReturnValue | None:
    """Gate for the whole admin area: a forgotten decorator cannot open a page."""
    if request.endpoint in {"admin.login"}:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=request.full_path))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign-in page (placeholder until the staff issue lands)."""
    return "请登录", 200


@bp.get("/")
def index() -> ResponseReturnValue:
    """Staff home."""
    return "管理后台", 200
