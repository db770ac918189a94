"""Report settings of the city admin: population counts (the weighting targets) and the
targets of the three rates. City admin only (the gate in views.py enforces it)."""

from __future__ import annotations

from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.errors import InvalidInput
from survey.errors import SurveyError
from survey.numbers import parse_decimal
from survey.reporting import METRIC_NAMES
from survey.reporting import report_requests as reports
from survey.services import estimate_settings
from survey.services import population
from survey.services import targets
from survey.services import transaction
from survey.web.admin import bp
from survey.web.admin.forms import ActionForm
from survey.web.admin.forms import ImportForm
from survey.web.admin.helpers import staff
from survey.web.read_audit import audited

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _population_page(form: ImportForm, status: int = 200, errors: object = None):  # type: ignore[no-untyped-def]
    rows = population.population_rows()
    total = sum(r.count or 0 for r in rows)
    missing = sum(1 for r in rows if r.count is None)
    page = render_template(
        "admin/population.html", rows=rows, total=total, missing=missing, form=form, errors=errors
    )
    return page, status


@bp.get("/population")
def population_table() -> ResponseReturnValue:
    """Population counts by district, age group and sex, with the import form."""
    return _population_page(ImportForm())


@bp.post("/population")
def population_import() -> ResponseReturnValue:
    """Replace the counts of the districts in an uploaded file (all or nothing)."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _population_page(form, 400)
    upload = form.file.data
    try:
        summary = population.import_population(
            upload.filename or "upload.csv", upload.read(), actor=staff()
        )
    except population.PopulationImportError as exc:
        transaction.rollback()
        return _population_page(form, 400, exc.errors)
    transaction.commit()
    flash(
        f"已导入 {summary.districts} 个区县的 {summary.cells} 个人口格，合计 {summary.total} 人。",
        "ok",
    )
    return redirect(url_for("admin.population_table"))


@bp.get("/population/export.<fmt>")
def population_export(fmt: str) -> ResponseReturnValue:
    """The current counts as the import template (CSV or XLSX)."""
    if fmt not in MIMETYPES:
        abort(404)
    body = population.export_population(fmt)
    audited("export_population", None, len(population.population_rows()), format=fmt)
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename=population.{fmt}"
    response.headers["Cache-Control"] = "no-store"
    return response


def _threshold(metric: str, raw: str) -> float | None:
    """A typed target: a percentage for the rates, a 0-100 score for the score."""
    raw = raw.strip().rstrip("%％").strip()
    if not raw:
        return None
    value = parse_decimal(raw, maximum=100.0)
    if value is None:
        raise InvalidInput(f"{METRIC_NAMES[metric]}的目标值“{raw}”不是 0 到 100 之间的数字。")
    return value if metric == "satisfaction_score" else value / 100


@bp.route("/targets", methods=["GET", "POST"])
def target_settings() -> ResponseReturnValue:
    """Targets of every metric of a questionnaire (empty: no target); audit-logged."""
    user = staff()
    flt = reports.report_filter(
        user, reports.ReportRequest(request.values.get("questionnaire", ""))
    )
    current = targets.get_targets(flt.questionnaire_id)
    error = None
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            for metric in METRIC_NAMES:
                value = _threshold(metric, request.form.get(metric, ""))
                old = current[metric].threshold if metric in current else None
                if value is None and old is not None:
                    targets.clear_target(flt.questionnaire_id, metric, actor=user)
                elif value is not None and value != old:
                    targets.set_target(flt.questionnaire_id, metric, value, actor=user)
        except SurveyError as exc:
            transaction.rollback()
            error = str(exc)
        else:
            transaction.commit()
            flash("已保存目标值。", "ok")
            key = request.form.get("questionnaire", "")
            return redirect(url_for("admin.target_settings", questionnaire=key))
    return _targets_page(flt, current, error=error)


def _targets_page(  # type: ignore[no-untyped-def]
    flt: reports.ReportFilter, current: dict, *, error: str | None = None, min_cell_error: str = ""
):
    status = 400 if error or min_cell_error else 200
    page = render_template(
        "admin/targets.html",
        choices=reports.choices(flt),
        flt=flt,
        current={m: t.threshold for m, t in current.items()},
        metric_names=METRIC_NAMES,
        form=ActionForm(),
        error=error,
        min_cell_n=request.form.get("min_cell_n", "") if min_cell_error else flt.min_cell_n,
        min_cell_stored=estimate_settings.stored(),
        min_cell_error=min_cell_error,
    )
    return page, status


@bp.post("/targets/weighting")
def target_weighting() -> ResponseReturnValue:
    """The minimum post-stratification cell size (city-wide); audit-logged."""
    user = staff()
    if not ActionForm().validate_on_submit():
        abort(400)
    key = request.form.get("questionnaire", "")
    try:
        value = estimate_settings.parse_min_cell_n(request.form.get("min_cell_n", ""))
        estimate_settings.set_min_cell_n(value, actor=user)
    except SurveyError as exc:
        transaction.rollback()
        flt = reports.report_filter(user, reports.ReportRequest(key))
        return _targets_page(
            flt, targets.get_targets(flt.questionnaire_id), min_cell_error=str(exc)
        )
    transaction.commit()
    flash(f"已保存加权设置：加权格最少 {value} 份答卷。", "ok")
    return redirect(url_for("admin.target_settings", questionnaire=key) + "#weighting")
