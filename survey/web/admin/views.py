"""The access gate of the whole staff area and the overview page."""

from __future__ import annotations

from flask import abort
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey.services import access
from survey.services.point_stats import overview
from survey.web.admin import bp
from survey.web.admin.helpers import staff

PUBLIC_ENDPOINTS = frozenset({"admin.login"})
# Endpoints only a city admin may open (accounts and the audit log).
CITY_ADMIN_PREFIXES = ("admin.users", "admin.user_", "admin.audit")
# POST endpoints a read-only account may still use.
READ_ONLY_POSTS = frozenset({"admin.login", "admin.logout"})


@bp.before_request
def require_login() -> ResponseReturnValue | None:
    """Gate for the whole admin area: a forgotten decorator cannot open a page."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=request.full_path))
    endpoint = request.endpoint or ""
    if endpoint.startswith(CITY_ADMIN_PREFIXES) and not access.is_city_admin(current_user):
        abort(403)
    if request.method not in {"GET", "HEAD", "OPTIONS"} and endpoint not in READ_ONLY_POSTS:
        access.require_write(current_user)  # viewers are read-only
    return None


@bp.get("/")
def index() -> ResponseReturnValue:
    """Overview: totals and one line per district in the user's scope."""
    user = staff()
    total, by_district = overview(user)
    return render_template(
        "admin/index.html", total=total, by_district=by_district, scope=access.scope_root(user)
    )
