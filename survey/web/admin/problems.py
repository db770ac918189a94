"""问题清单 (weak spots and comments by topic) and 整改台账 (the ledger): parse -> service ->
render. Creating and changing problems needs a writing account whose scope holds the area
(the services check it; outside the scope is a 404)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.errors import SurveyError
from survey.models import PROBLEM_KINDS
from survey.models import PROBLEM_STATUSES
from survey.reporting.problem_list import ledger_pages as problem_reports
from survey.reporting.questions import pages as question_reports
from survey.services import problems
from survey.services import transaction
from survey.web.admin import bp
from survey.web.admin.forms import ActionForm
from survey.web.admin.helpers import staff
from survey.web.admin.questions import page_context
from survey.web.filters import int_arg
from survey.web.read_audit import audited
from survey.web.report_args import report_request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AREA_LEVEL_NAMES = {"street": "街道（镇）", "community": "社区（村）"}


def _level() -> str:
    return problem_reports.area_level(request.args.get("area_level", "street").strip())


@bp.get("/problems")
def problem_list() -> ResponseReturnValue:
    """Weak spots (gaps to the city with intervals, BH-corrected) and comments by topic."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    sort = request.args.get("sort", "gap").strip()
    found = problem_reports.problem_list(vf, _level(), sort)
    # the page shows residents' (masked) comments: a bulk read of free text
    audited("read_text", vf.filter, found.topics.comments, page="problem_list", level=found.level)
    return render_template(
        "admin/problem_list.html",
        found=found,
        sort=sort,
        area_levels=AREA_LEVEL_NAMES,
        form=ActionForm(),
        unit_of=problem_reports.suggested_unit,
        **page_context(vf, req),
    )


@bp.get("/ledger")
def ledger() -> ResponseReturnValue:
    """The ledger with each done problem's before/after figures."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    entries = problem_reports.ledger(staff(), vf.filter)
    return render_template(
        "admin/ledger.html",
        entries=entries,
        statuses=PROBLEM_STATUSES,
        kinds=PROBLEM_KINDS,
        effect_text=problem_reports.effect_text,
        form=ActionForm(),
        **page_context(vf, req),
    )


@bp.get("/ledger.xlsx")
def ledger_export() -> ResponseReturnValue:
    """The ledger as XLSX: 序号, 区域, 问题, 依据, 责任单位, 整改时限, 状态 (audit-logged)."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    body = problem_reports.export_ledger(staff(), vf.filter)
    transaction.commit()
    response = Response(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = "attachment; filename=ledger.xlsx"
    response.headers["Cache-Control"] = "no-store"
    return response


def _evidence(form: Any) -> dict[str, Any]:
    """Evidence posted with a new problem: figures and period as text, example comments."""
    return {
        "figures": form.get("figures", "")[:500],
        "period": form.get("period", "")[:100],
        "examples": form.getlist("example")[:5],
    }


@bp.post("/ledger")
def problem_create() -> ResponseReturnValue:
    """Raise a problem from a weak spot or a topic (form of the 问题清单 page)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user = staff()
    form = request.form
    try:
        data = problems.ProblemInput(
            questionnaire_id=int_arg(form, "questionnaire_id") or 0,
            region_id=int_arg(form, "region_id"),
            kind=form.get("kind", ""),
            title=form.get("title", ""),
            unit=form.get("unit", ""),
            deadline=problems.parse_deadline(form.get("deadline")),
            basis=form.get("basis", ""),
            item=form.get("item") or None,
            topic=form.get("topic") or None,
            evidence=_evidence(form),
        )
        problem = problems.create_problem(user, data)
    except SurveyError:
        transaction.rollback()
        raise  # a 4xx page saying what is wrong; nothing written
    transaction.commit()
    flash(f"已加入整改台账：{problem.title}", "ok")
    return redirect(url_for("admin.ledger") + f"#p{problem.id}"), 303


@bp.post("/ledger/<int:problem_id>")
def problem_update(problem_id: int) -> ResponseReturnValue:
    """Change a problem's status, unit or deadline (audit-logged)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    form = request.form
    try:
        problems.update_problem(
            staff(),
            problem_id,
            status=form.get("status") or None,
            unit=form.get("unit"),
            deadline=problems.parse_deadline(form.get("deadline")),
        )
    except SurveyError:
        transaction.rollback()
        raise  # a 4xx page saying what is wrong; nothing written
    transaction.commit()
    flash("已保存。", "ok")
    return redirect(url_for("admin.ledger") + f"#p{problem_id}"), 303
