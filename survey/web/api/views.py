"""JSON API views; every route but the health check needs a signed-in staff member."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey.links import questionnaire_url
from survey.reporting import point_table as stats
from survey.services import access
from survey.services import transaction
from survey.web.api import bp
from survey.web.filters import filter_args
from survey.web.filters import point_filter
from survey.web.read_audit import audited


@bp.before_request
def require_login() -> ResponseReturnValue | None:
    """403 for anonymous callers on every API route but the health check; the API is read-only."""
    if request.endpoint == "api.health":
        return None
    if not current_user.is_authenticated or current_user.role == "interviewer":
        abort(403)
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        abort(405)
    return None


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Liveness and database check for load balancers."""
    transaction.ping()
    return jsonify({"status": "ok"})


def _stats_json(row: stats.PointStats) -> dict[str, Any]:
    p = row.point
    return {
        "id": p.id,
        "code": p.code,
        "url": questionnaire_url(p.code),
        "label": p.label,
        "region": {"id": p.region.id, "code": p.region.code, "name": p.region.name},
        "channel": {"code": p.channel.code, "name": p.channel.name},
        "questionnaire_version_id": p.questionnaire_version_id,
        "active": p.active,
        "expired": p.is_expired(),
        "expires_at": p.expires_at.isoformat() if p.expires_at else None,
        "scans": row.scans,
        "responses": row.responses,
        "completion_rate": row.completion_rate,
        "last_response_at": row.last_response_at.isoformat() if row.last_response_at else None,
    }


@bp.get("/points")
def points() -> ResponseReturnValue:
    """Points in the caller's scope with statistics; same filters and sort as the admin list."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    flt = point_filter(user)
    rows = stats.point_stats(
        user, flt, request.args.get("sort", "code"), request.args.get("desc") == "1"
    )
    body = {"points": [_stats_json(r) for r in rows], "totals": stats.totals(rows)}
    audited("api_read", None, len(rows), endpoint="points", **filter_args(flt))
    return jsonify(body)


@bp.get("/points/<int:point_id>")
def point(point_id: int) -> ResponseReturnValue:
    """One point with statistics; 404 outside the caller's scope."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    found = access.point_in_scope(user, point_id)
    row = stats.point_stats(user, stats.PointFilter(point_ids=(found.id,)))[0]
    body = _stats_json(row)
    audited("api_read", None, 1, endpoint="point", point=found.code)
    return jsonify(body)
