"""The landing page of the staff area: the three rates with intervals, trends, targets,
ranks, channels and points, for the filter in the query string (within the user's scope)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue

from survey.reporting import METRIC_NAMES
from survey.reporting import METRICS
from survey.reporting import MIN_RESPONSES
from survey.reporting import RATE_METRICS
from survey.reporting import WEIGHTING_NAMES
from survey.reporting import ChannelRow
from survey.reporting import ReportFilter
from survey.reporting import report_requests as reports
from survey.reporting.charts import svg as svg_charts
from survey.reporting.filters import SOURCE_NAMES
from survey.services import access
from survey.services.choices import region_choices
from survey.web.admin import bp
from survey.web.admin.helpers import staff
from survey.web.report_args import report_request
from survey.web.report_args import request_args

LEVEL_NAMES = {"district": "区县", "street": "街道/镇", "community": "社区/村"}
POINT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "编码"),
    ("label", "点位"),
    ("region", "区域"),
    ("channel", "渠道"),
    ("scans", "扫码"),
    ("responses", "答卷"),
    ("rate", "完成率"),
)


def _sorted_points(rows: list[ChannelRow], key: str, desc: bool) -> list[ChannelRow]:
    """Points sorted by a column; rows without a value (no scans) always last."""
    getters: dict[str, Any] = {
        "code": lambda r: r.code,
        "label": lambda r: r.label,
        "region": lambda r: r.region,
        "channel": lambda r: r.channel,
        "scans": lambda r: r.completion.scans,
        "responses": lambda r: r.included,
        "rate": lambda r: r.completion.rate,
    }
    get = getters.get(key, getters["code"])
    present = sorted((r for r in rows if get(r) is not None), key=get, reverse=desc)
    return present + [r for r in rows if get(r) is None]


def _period_text(flt: ReportFilter) -> str:
    start = flt.date_from.isoformat() if flt.date_from else "最早"
    end = flt.date_to.isoformat() if flt.date_to else "最新"
    basis = "按答卷所在周" if flt.date_basis == "week" else "按提交日期"
    return f"{start} 至 {end}（{basis}）"


@bp.get("/")
def index() -> ResponseReturnValue:
    """The dashboard of the three rates (the staff area's landing page)."""
    user = staff()
    req = report_request(request.args)
    # A first visit (no period in the address) shows the last complete weeks; a period
    # cleared in the form (empty from/to) means every week.
    default_period = "from" not in request.args and "to" not in request.args
    if default_period:
        req = reports.default_period(user, req)
    flt = reports.report_filter(user, req)
    board = reports.dashboard(flt)
    psort = request.args.get("psort", "responses")
    pdesc = request.args.get("pdesc", "1") == "1"
    return render_template(
        "admin/dashboard.html",
        board=board,
        flt=flt,
        req=req,
        args=request_args(req),
        choices=reports.choices(flt),
        regions=region_choices(user, ("city", "district", "street"), blank="全部区域"),
        levels=list(LEVEL_NAMES.items()),
        level_name=LEVEL_NAMES[flt.level],
        weightings=list(WEIGHTING_NAMES.items()),
        sources=list(SOURCE_NAMES.items()),
        weighting_names=WEIGHTING_NAMES,
        metrics=METRICS,
        rates=RATE_METRICS,
        metric_names=METRIC_NAMES,
        charts={m: svg_charts.trend_svg(board.trend[m]) for m in METRICS},
        points=_sorted_points(board.points, psort, pdesc),
        point_columns=POINT_COLUMNS,
        psort=psort,
        pdesc=pdesc,
        period_text=_period_text(flt),
        default_period=default_period,
        default_weeks=reports.DEFAULT_WEEKS,
        min_n=MIN_RESPONSES,
        scope=access.scope_root(user),
    )


@bp.get("/charts/trend-<metric>.<fmt>")
def trend_chart(metric: str, fmt: str) -> ResponseReturnValue:
    """One trend chart as a PNG (or SVG) download, for the same filter as the page."""
    if fmt not in ("png", "svg") or metric not in METRICS:
        abort(404)
    flt = reports.report_filter(staff(), report_request(request.args))
    body = reports.trend_chart(flt, metric, fmt)
    mimetype = "image/png" if fmt == "png" else "image/svg+xml"
    response = Response(body, mimetype=mimetype)
    name = f"trend-{metric}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
