"""The access gate of the whole staff area (every route below /admin passes through it)."""

from __future__ import annotations

from flask import abort
from flask import redirect
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey.services import access
from survey.web.admin import bp

PUBLIC_ENDPOINTS = frozenset({"admin.login"})
# Endpoints only a city admin may open (accounts, audit log, population counts, targets).
CITY_ADMIN_PREFIXES = (
    "admin.users",
    "admin.user_",
    "admin.audit",
    "admin.population",
    "admin.target",
)
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
    if current_user.role == "interviewer" and endpoint not in READ_ONLY_POSTS:
        # Interviewers see nothing of the staff area: their page is the field form.
        if endpoint == "admin.index":
            return redirect(url_for("field.home"))
        abort(403)
    if endpoint.startswith(CITY_ADMIN_PREFIXES) and not access.is_city_admin(current_user):
        abort(403)
    if request.method not in {"GET", "HEAD", "OPTIONS"} and endpoint not in READ_ONLY_POSTS:
        access.require_write(current_user)  # viewers are read-only
    return None
