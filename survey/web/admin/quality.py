"""The quality page: points ranked by suspicion, their evidence and timeline, flags by code,
reviews (confirm or clear, write access only), the sweep on demand, the responses export."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.errors import SurveyError
from survey.services import access
from survey.services import audit
from survey.services import transaction
from survey.services.integrity import catalogue
from survey.services.integrity import is_excluded
from survey.services.integrity import quality as quality_service
from survey.services.integrity.background import wake_sweep
from survey.services.integrity.review import decide
from survey.services.integrity.sweep import request_sweep
from survey.services.integrity.windows import parse_hours
from survey.services.integrity.windows import set_window
from survey.services.integrity.windows import window_of
from survey.web.admin import bp
from survey.web.admin.forms import ActionForm
from survey.web.admin.forms import ReviewForm
from survey.web.admin.forms import WindowForm
from survey.web.admin.helpers import local_to_utc
from survey.web.admin.helpers import safe_next
from survey.web.admin.helpers import staff
from survey.web.admin.review_text import STATUS_CHOICES
from survey.web.admin.review_text import review_message
from survey.web.filters import int_arg
from survey.web.filters import number_arg
from survey.web.filters import page_arg
from survey.web.filters import parse_id

PAGE_SIZE = 100
DAY_CHOICES = (1, 7, 30, 90)


def _days() -> int:
    """The ``days`` argument: one of ``DAY_CHOICES`` (7 when absent or another number),
    400 when it is not a number (``²``, ``1e3``, 20 digits)."""
    days = number_arg(request.args, "days", maximum=10**6, default=7)
    return days if days in DAY_CHOICES else 7


@bp.app_template_filter("flag_names")
def flag_names_filter(flags: int) -> str:
    """Jinja: the Chinese names of the visible flags on a response (signals left out; a
    burst shows when it excludes)."""
    return "、".join(catalogue.visible_names(flags))


@bp.app_template_filter("excluded")
def excluded_filter(flags: int) -> bool:
    """Jinja: True when the response is left out of estimates."""
    return is_excluded(flags)


@bp.get("/quality")
def quality() -> ResponseReturnValue:
    """Points ranked by suspicion, with their evidence, and the totals of the scope."""
    user = staff()
    days = _days()
    return render_template(
        "admin/quality.html",
        summary=quality_service.summary(user, days),
        ranked=quality_service.ranked_points(user, days),
        days=days,
        day_choices=DAY_CHOICES,
        name_of=catalogue.name_of,
        action_form=ActionForm(),
    )


@bp.get("/quality/points/<int:point_id>")
def quality_point(point_id: int) -> ResponseReturnValue:
    """One point's evidence: its timeline of responses per hour and its flags."""
    user = staff()
    point = access.point_in_scope(user, point_id)
    code, status = _code_status()
    flags = quality_service.flag_list(
        user, code=code, status=status, point_id=point.id, limit=PAGE_SIZE
    )
    window = window_of(point)
    form = WindowForm(
        starts_at=_local(window.starts_at) if window else None,
        ends_at=_local(window.ends_at) if window else None,
        hours=window.describe_hours() if window else "",
    )
    return render_template(
        "admin/quality_point.html",
        point=point,
        timeline=quality_service.timeline(point),
        flags=flags,
        code=code,
        status=status,
        codes=quality_service.codes_in_use(),
        statuses=STATUS_CHOICES,
        review_form=ReviewForm(),
        window=window,
        window_form=form,
        next_url=request.full_path,
    )


@bp.get("/quality/flags")
def quality_flags() -> ResponseReturnValue:
    """Flags in scope, filterable by code, review status and point, newest first."""
    user = staff()
    code, status = _code_status()
    point_id = int_arg(request.args, "point")
    point = access.point_in_scope(user, point_id) if point_id else None
    page_number = page_arg(request.args)
    flags = quality_service.flag_list(
        user,
        code=code,
        status=status,
        point_id=point.id if point else None,
        limit=PAGE_SIZE + 1,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    return render_template(
        "admin/quality_flags.html",
        flags=flags[:PAGE_SIZE],
        has_more=len(flags) > PAGE_SIZE,
        page=page_number,
        code=code,
        status=status,
        point=point,
        codes=quality_service.codes_in_use(),
        statuses=STATUS_CHOICES,
        review_form=ReviewForm(),
        next_url=request.full_path,
    )


def _code_status() -> tuple[str, str]:
    code = request.args.get("code", "")
    status = request.args.get("status", "")
    if code and code not in catalogue.BY_CODE:
        abort(400)
    if status and status not in STATUS_CHOICES:
        abort(400)
    return code, status


@bp.post("/quality/review")
def quality_review() -> ResponseReturnValue:
    """Confirm or clear the ticked flags (audit-logged), then go back to the page."""
    user = staff()
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    ids = request.form.getlist("flag")
    if len(ids) > 1000:
        abort(400)
    target = safe_next(form.next.data, url_for("admin.quality"))
    try:
        outcome = decide(user, [parse_id(i) for i in ids], form.decision.data or "")
    except SurveyError as exc:
        transaction.rollback()
        if exc.status not in (400, 403):
            raise
        flash(str(exc), "error")
        return redirect(target)
    transaction.commit()
    flash(review_message(form.decision.data or "", outcome), "ok")
    return redirect(target)


@bp.post("/quality/sweep")
def quality_sweep() -> ResponseReturnValue:
    """Ask the background sweep to run now and return at once (progress shows on the page)."""
    user = staff()
    if not ActionForm().validate_on_submit():
        abort(400)
    request_sweep()
    audit.record(user, "integrity_sweep_requested", "", None)
    transaction.commit()
    if wake_sweep(current_app._get_current_object()):  # type: ignore[attr-defined]
        flash("已通知后台开始扫描新答卷；本页显示进度，请稍后刷新。", "ok")
    else:
        flash(
            "本服务进程没有运行后台扫描（INTEGRITY_SWEEP_SECONDS 为 0 或不在 gunicorn 下）："
            "请由定时任务运行 survey integrity sweep。已记录本次请求。",
            "warn",
        )
    return redirect(url_for("admin.quality"))


@bp.post("/quality/points/<int:point_id>/window")
def quality_window(point_id: int) -> ResponseReturnValue:
    """Set or clear a point's collection window (audit-logged)."""
    user = staff()
    point = access.point_in_scope(user, point_id)
    form = WindowForm()
    target = url_for("admin.quality_point", point_id=point.id)
    if not form.validate_on_submit():
        flash("；".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(target)
    try:
        daily = parse_hours(form.hours.data) if (form.hours.data or "").strip() else None
        set_window(
            user, point, local_to_utc(form.starts_at.data), local_to_utc(form.ends_at.data), daily
        )
    except SurveyError as exc:
        transaction.rollback()
        flash(str(exc), "error")
        return redirect(target)
    transaction.commit()
    flash(f"已保存点位 {point.code} 的采集时段。", "ok")
    return redirect(target)


def _local(moment: Any) -> Any:
    from survey.timeutil import CST

    return moment.astimezone(CST).replace(tzinfo=None) if moment else None
