"""模拟测评 (mock assessments): plans, interviewers, the plan's figures, printed sheets."""

from __future__ import annotations

import datetime as dt
import io

from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.errors import InvalidInput
from survey.errors import SurveyError
from survey.models.contact_attempt import DISPOSITIONS
from survey.models.sample_plan import FIELD_MODES
from survey.reporting.mock_assessment import mock_report
from survey.reporting.mock_sheets import plan_sheets
from survey.reporting.mock_sheets import plan_xlsx
from survey.reporting.sample_draw import create_plan
from survey.services import interviewers
from survey.services import sample_plans
from survey.services import transaction
from survey.services.integrity.review import review
from survey.services.questionnaires import list_versions
from survey.services.sample_plans import PlanRequest
from survey.web.admin import bp
from survey.web.admin.helpers import staff


def _page(error: str = "", status: int = 200) -> ResponseReturnValue:
    user = staff()
    return (
        render_template(
            "admin/mock.html",
            plans=sample_plans.plans_visible(user),
            people=interviewers.interviewers_visible(user),
            regions=sample_plans.region_choices(user),
            versions=list_versions(),
            modes=FIELD_MODES,
            error=error,
            today=dt.date.today(),
        ),
        status,
    )


@bp.get("/mock")
def mock() -> ResponseReturnValue:
    """Plans, interviewer accounts and the forms to create them."""
    return _page()


def _int(name: str, default: int | None = None) -> int:
    raw = (request.form.get(name) or "").strip()
    if not raw and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"“{name}”须为整数。") from None


def _date(name: str) -> dt.date:
    try:
        return dt.date.fromisoformat((request.form.get(name) or "").strip())
    except ValueError:
        raise InvalidInput("日期格式应为 YYYY-MM-DD。") from None


@bp.post("/mock/plans")
def mock_plan_create() -> ResponseReturnValue:
    """Draw and store a plan (all or nothing: a bad field re-renders with its message)."""
    try:
        req = PlanRequest(
            name=request.form.get("name", ""),
            version_id=_int("version"),
            region_id=_int("region"),
            starts_on=_date("starts_on"),
            ends_on=_date("ends_on"),
            seed=_int("seed"),
            units_per_district=_int("units", 2),
            interviews_per_unit=_int("per_unit", 20),
            sizes=sample_plans.parse_sizes(request.form.get("sizes", "")),
            mode=request.form.get("mode", "door_to_door"),
        )
        plan = create_plan(staff(), req)
    except SurveyError as exc:
        transaction.rollback()
        return _page(str(exc), exc.status)
    transaction.commit()
    return redirect(url_for("admin.mock_plan", plan_id=plan.id), 303)


@bp.post("/mock/interviewers")
def mock_interviewer_create() -> ResponseReturnValue:
    """A new interviewer account in the officer's region."""
    try:
        interviewers.create_interviewer(
            staff(),
            request.form.get("username", ""),
            request.form.get("password", ""),
            _int("region"),
            request.form.get("display_name", ""),
        )
    except SurveyError as exc:
        transaction.rollback()
        return _page(str(exc), exc.status)
    transaction.commit()
    return redirect(url_for("admin.mock"), 303)


@bp.get("/mock/plans/<int:plan_id>")
def mock_plan(plan_id: int) -> ResponseReturnValue:
    """The plan's figures: rates from its design, QR beside them, progress and quality."""
    plan = sample_plans.plan_in_scope(staff(), plan_id)
    return render_template(
        "admin/mock_plan.html",
        report=mock_report(plan),
        people=interviewers.interviewers_visible(staff()),
        modes=FIELD_MODES,
        dispositions=DISPOSITIONS,
    )


@bp.post("/mock/plans/<int:plan_id>/assign")
def mock_plan_assign(plan_id: int) -> ResponseReturnValue:
    """Assign an interviewer to a drawn community with a target."""
    plan = sample_plans.plan_in_scope(staff(), plan_id)
    interviewers.assign(staff(), plan, _int("unit"), _int("interviewer"), _int("target"))
    transaction.commit()
    return redirect(url_for("admin.mock_plan", plan_id=plan.id) + "#units", 303)


@bp.post("/mock/plans/<int:plan_id>/review")
def mock_plan_review(plan_id: int) -> ResponseReturnValue:
    """Confirm or clear curbstoning flags (the QR flags' review, audit-logged)."""
    plan = sample_plans.plan_in_scope(staff(), plan_id)
    ids = [int(v) for v in request.form.getlist("flag") if v.isdigit()]
    review(staff(), ids, request.form.get("decision", ""))
    transaction.commit()
    return redirect(url_for("admin.mock_plan", plan_id=plan.id) + "#flags", 303)


@bp.get("/mock/plans/<int:plan_id>/sheets")
def mock_plan_sheets(plan_id: int) -> ResponseReturnValue:
    """One A4 assignment sheet per interviewer (print from the browser)."""
    plan = sample_plans.plan_in_scope(staff(), plan_id)
    return render_template(
        "admin/mock_sheets.html", plan=plan, sheets=plan_sheets(plan), modes=FIELD_MODES
    )


@bp.get("/mock/plans/<int:plan_id>/plan.xlsx")
def mock_plan_xlsx(plan_id: int) -> ResponseReturnValue:
    """The plan as a workbook: drawn communities, quotas, assignments."""
    plan = sample_plans.plan_in_scope(staff(), plan_id)
    return send_file(
        io.BytesIO(plan_xlsx(plan)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"sample-plan-{plan.id}.xlsx",
    )
