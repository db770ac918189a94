"""Interviewer pages: assignments, the offline form of a plan, its service worker and sync.

Only interviewers pass (``require_interviewer``); staff see plans in the 模拟测评 pages of
the staff area. The form is the resident questionnaire itself (the same templates and, on
sync, the same screening and rules of ``survey.web.public.forms``), rendered with the
plan's questionnaire version and kept on the device by ``/field/sw.js``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from survey.errors import InvalidInput
from survey.models.contact_attempt import DISPOSITIONS
from survey.models.contact_attempt import INTERVIEW_DISPOSITIONS
from survey.models.sample_plan import FIELD_MODES
from survey.services import field_sync
from survey.services import interviewers
from survey.services import transaction
from survey.web.field import bp
from survey.web.field.checks import check_answers
from survey.web.field.checks import plan_form as form_of_plan

SERVICE_WORKER = Path(__file__).resolve().parent.parent.parent / "static" / "field" / "sw.js"


@bp.before_request
def require_interviewer() -> ResponseReturnValue | None:
    """Sign-in for pages (JSON routes answer 403), then the interviewer role."""
    if request.endpoint == "field.service_worker":
        return None
    if not current_user.is_authenticated:
        if request.method == "GET" and request.endpoint in {"field.home", "field.plan_form"}:
            return redirect(url_for("admin.login", next=request.full_path))
        return jsonify(error="请先登录。"), 403
    interviewers.require_interviewer(current_user)
    return None


@bp.get("/")
def home() -> ResponseReturnValue:
    """The interviewer's plans and communities."""
    items = interviewers.assignments_of(current_user)
    return render_template("field/home.html", items=items, modes=FIELD_MODES)


@bp.get("/plans/<int:plan_id>")
def plan_form(plan_id: int) -> ResponseReturnValue:
    """The offline questionnaire of one plan with the interviewer's communities."""
    items = interviewers.assignments_of(current_user, plan_id)
    if not items:
        return render_template("field/home.html", items=[], modes=FIELD_MODES), 404
    defn, form_cls = form_of_plan(items[0].unit_id)
    outcomes = {k: v for k, v in DISPOSITIONS.items() if k not in INTERVIEW_DISPOSITIONS}
    return render_template(
        "field/form.html",
        plan_id=plan_id,
        items=items,
        defn=defn,
        form=form_cls(),
        modes=FIELD_MODES,
        outcomes=outcomes,
    )


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, served from /field/ so that its scope is the field pages."""
    response = Response(SERVICE_WORKER.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/field/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/token")
def token() -> ResponseReturnValue:
    """A fresh CSRF token for the sync (the cached page may be days old)."""
    response = jsonify(csrf=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/sync")
def sync() -> ResponseReturnValue:
    """Store queued records once each; answer which UUIDs are stored now and which were
    stored before. All or nothing: 400 for a bad record, 403 outside the assignments."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("同步内容不是有效的 JSON。")
    records = field_sync.parse_records(body.get("records"))
    units = field_sync.contexts(current_user, [r.unit_id for r in records])
    for record in records:
        if record.is_interview:
            check_answers(record, units[record.unit_id])
    result = field_sync.store(current_user, records, units)
    transaction.commit()
    current_app.logger.debug(
        "field sync: %d stored, %d already", len(result.stored), len(result.already)
    )
    return jsonify(
        stored=result.stored,
        already=result.already,
        responses=result.responses,
        attempts=result.attempts,
    )


@bp.post("/known")
def known() -> ResponseReturnValue:
    """Which of the posted UUIDs the server already has from this interviewer."""
    body = request.get_json(silent=True)
    uuids = body.get("uuids") if isinstance(body, dict) else None
    if not isinstance(uuids, list):
        raise InvalidInput("请提供 uuids 列表。")
    return jsonify(known=field_sync.known_uuids(current_user, uuids))
