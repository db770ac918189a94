"""Collection points: list with statistics, issue one or a batch, revoke, export."""

from __future__ import annotations

from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.errors import SurveyError
from survey.links import questionnaire_url
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.reporting import point_table as stats
from survey.services import access
from survey.services import audit
from survey.services import choices
from survey.services import transaction
from survey.services.choices import channel_choices
from survey.services.choices import region_choices
from survey.services.choices import version_choices
from survey.services.point_admin import issue_batch
from survey.services.point_admin import issue_point
from survey.services.point_admin import reactivate
from survey.services.point_admin import relabel
from survey.services.point_admin import revoke
from survey.web.admin import bp
from survey.web.admin.forms import ActionForm
from survey.web.admin.forms import BatchForm
from survey.web.admin.forms import LabelForm
from survey.web.admin.forms import PointForm
from survey.web.admin.helpers import local_to_utc
from survey.web.admin.helpers import staff
from survey.web.filters import filter_args
from survey.web.filters import int_arg
from survey.web.filters import point_filter
from survey.web.read_audit import audited

COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "编码"),
    ("label", "名称"),
    ("region", "区域"),
    ("channel", "渠道"),
    ("status", "状态"),
    ("scans", "扫码"),
    ("responses", "答卷"),
    ("rate", "完成率"),
    ("last", "最近答卷"),
)


@bp.get("/points")
def points() -> ResponseReturnValue:
    """Sortable, filterable list of points with scans, responses and completion."""
    user = staff()
    flt = point_filter(user)
    sort = request.args.get("sort", "code")
    desc = request.args.get("desc") == "1"
    rows = stats.point_stats(user, flt, sort, desc)
    return render_template(
        "admin/points.html",
        rows=rows,
        total=stats.totals(rows),
        flt=flt,
        args=filter_args(flt),
        sort=sort,
        desc=desc,
        columns=COLUMNS,
        regions=region_choices(user, blank="全部区域"),
        channels=channel_choices(blank="全部渠道"),
        action_form=ActionForm(),
    )


def _fill_point_choices(form: PointForm | BatchForm) -> None:
    user = staff()
    form.version_id.choices = version_choices()
    form.channel_id.choices = channel_choices()
    levels = ("city", "district", "street") if isinstance(form, BatchForm) else None
    form.region_id.choices = region_choices(user, levels)


def _lookup(form: PointForm | BatchForm) -> tuple[QuestionnaireVersion, Channel]:
    return choices.version(form.version_id.data or 0), choices.channel(form.channel_id.data or 0)


@bp.route("/points/new", methods=["GET", "POST"])
def point_new() -> ResponseReturnValue:
    """Issue one collection point."""
    user = staff()
    form = PointForm()
    _fill_point_choices(form)
    if request.method == "GET" and request.args.get("region"):
        form.region_id.data = int_arg(request.args, "region")
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/point_new.html", form=form), status
    region = access.region_in_scope(user, form.region_id.data)
    version, channel = _lookup(form)
    try:
        point = issue_point(
            version,
            region,
            channel,
            form.label.data or "",
            local_to_utc(form.expires_at.data),
            user,
        )
    except SurveyError as exc:
        transaction.rollback()
        return render_template("admin/point_new.html", form=form, error=str(exc)), exc.status
    transaction.commit()
    flash(f"已发放点位 {point.code}", "ok")
    return redirect(url_for("admin.point_detail", point_id=point.id))


@bp.route("/points/batch", methods=["GET", "POST"])
def point_batch() -> ResponseReturnValue:
    """Issue one point per region at a level under a chosen region, for one channel."""
    user = staff()
    form = BatchForm()
    _fill_point_choices(form)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/point_batch.html", form=form), status
    root = access.region_in_scope(user, form.region_id.data)
    version, channel = _lookup(form)
    try:
        created = issue_batch(
            version,
            root,
            form.level.data or "community",
            channel,
            form.label_pattern.data or "",
            local_to_utc(form.expires_at.data),
            user,
            skip_existing=bool(form.skip_existing.data),
        )
    except SurveyError as exc:
        transaction.rollback()
        return render_template("admin/point_batch.html", form=form, error=str(exc)), exc.status
    transaction.commit()
    if not created:
        flash("没有新增点位：所选区域都已有该渠道的有效点位。", "warn")
        return redirect(url_for("admin.points", region=root.id, channel=channel.id))
    flash(f"已批量发放 {len(created)} 个点位。", "ok")
    ids = ",".join(str(p.id) for p in created)
    return redirect(url_for("admin.points", ids=ids))


@bp.get("/points/<int:point_id>")
def point_detail(point_id: int) -> ResponseReturnValue:
    """One point: link, QR code, statistics and recent responses."""
    return _detail_page(access.point_in_scope(staff(), point_id))


def _detail_page(
    point: CollectionPoint, status: int = 200, label_error: str | None = None
) -> ResponseReturnValue:
    row = stats.point_stats(staff(), stats.PointFilter(point_ids=(point.id,)))[0]
    page = render_template(
        "admin/point_detail.html",
        row=row,
        point=point,
        url=questionnaire_url(point.code),
        responses=stats.recent_responses(point, limit=20),
        action_form=ActionForm(),
        label_error=label_error,
    )
    return page, status


@bp.post("/points/<int:point_id>/label")
def point_relabel(point_id: int) -> ResponseReturnValue:
    """Change the label printed under a point's QR code."""
    user = staff()
    point = access.point_in_scope(user, point_id)
    form = LabelForm()
    if not form.validate_on_submit():
        messages = [str(m) for errors in form.errors.values() for m in errors]
        return _detail_page(point, 400, "；".join(messages) or "请输入名称。")
    try:
        relabel(point, form.label.data or "", user)
    except SurveyError as exc:
        transaction.rollback()
        return _detail_page(point, exc.status, str(exc))
    transaction.commit()
    flash(f"已修改点位 {point.code} 的名称", "ok")
    return redirect(url_for("admin.point_detail", point_id=point.id))


@bp.get("/points/<int:point_id>/responses")
def point_responses(point_id: int) -> ResponseReturnValue:
    """The newest responses collected at one point (timing, quality flags, indicators)."""
    point = access.point_in_scope(staff(), point_id)
    responses = stats.recent_responses(point)
    page = render_template("admin/point_responses.html", point=point, responses=responses)
    audited("read_responses", None, len(responses), point=point.code)
    return page


@bp.post("/points/<int:point_id>/revoke")
def point_revoke(point_id: int) -> ResponseReturnValue:
    """Stop a point; its link then tells residents the survey is closed."""
    user = staff()
    point = access.point_in_scope(user, point_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    revoke(point, user)
    transaction.commit()
    flash(f"已停用点位 {point.code}", "ok")
    return redirect(url_for("admin.point_detail", point_id=point.id))


@bp.post("/points/<int:point_id>/reactivate")
def point_reactivate(point_id: int) -> ResponseReturnValue:
    """Accept responses at a revoked point again."""
    user = staff()
    point = access.point_in_scope(user, point_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    reactivate(point, user)
    transaction.commit()
    flash(f"已重新启用点位 {point.code}", "ok")
    return redirect(url_for("admin.point_detail", point_id=point.id))


@bp.get("/points/export.<fmt>")
def points_export(fmt: str) -> ResponseReturnValue:
    """Point statistics as Excel-friendly CSV or as XLSX, same filters as the list."""
    if fmt not in {"csv", "xlsx"}:
        abort(404)
    user = staff()
    flt = point_filter(user)
    rows = stats.point_stats(
        user, flt, request.args.get("sort", "code"), request.args.get("desc") == "1"
    )
    base = current_app.config["BASE_URL"]
    audit.record(
        user, "export_points", "point", None, format=fmt, count=len(rows), **filter_args(flt)
    )
    transaction.commit()
    if fmt == "csv":
        body, mimetype = stats.to_csv(rows, base), "text/csv; charset=utf-8"
    else:
        body = stats.to_xlsx(rows, base)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=points.{fmt}"
    response.headers["Cache-Control"] = "no-store"
    return response
