"""JSON API views."""

from __future__ import annotations

from flask import abort
from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import text

from survey.api import bp
from survey.extensions import db


@bp.before_request
def require_login() -> ResponseReturnValue | None:
    """403 for anonymous callers on every API route but the health check."""
    if request.endpoint == "api.health":
        return None
    if not current_user.is_authenticated:
        abort(403)
    return None


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Liveness and database check for load balancers."""
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
