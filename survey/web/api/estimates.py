"""``/api/v1``: the dashboard's numbers as JSON, for the same filters and scope as the page.

``GET /api/v1/estimates?questionnaire=&metric=&by=&from=&to=&region=&channel=&weighting=&flagged=``
returns one table (``by``: overall, district, street, community, channel, point, week);
``metric`` limits each row to one metric. ``GET /api/v1/trend`` returns the weekly series.
Every figure carries its interval, n, design effect and, when too few, the reason in words.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey.errors import InvalidInput
from survey.reporting import METRICS
from survey.reporting import report_requests as reports
from survey.web.api import bp
from survey.web.read_audit import audited
from survey.web.report_args import report_request


def _filter() -> Any:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return reports.report_filter(user, report_request(request.args))


def _metric() -> str | None:
    metric = request.args.get("metric", "").strip()
    if metric and metric not in METRICS:
        raise InvalidInput(f"参数 metric 只能是：{'、'.join(METRICS)}。")
    return metric or None


@bp.get("/v1/estimates")
def estimates() -> ResponseReturnValue:
    """One table of estimates with intervals, as the dashboard shows it."""
    metric = _metric()
    flt = _filter()
    table = reports.estimate_table(flt, request.args.get("by", "district").strip())
    body = table.to_dict()
    if metric is not None:
        for row in body["rows"]:
            row["metrics"] = {metric: row["metrics"][metric]}
    audited("api_read", flt, len(body["rows"]), endpoint="estimates", by=body.get("by"))
    return jsonify({"filter": _plain_filter(flt), **body})


@bp.get("/v1/trend")
def trend() -> ResponseReturnValue:
    """The weekly series of every metric (or one) with intervals and target lines."""
    metric = _metric()
    flt = _filter()
    series = reports.trend(flt)
    chosen = [metric] if metric else list(METRICS)
    body = {m: series[m].to_dict() for m in chosen}
    rows = sum(len(s["points"]) for s in body.values())
    audited("api_read", flt, rows, endpoint="trend")
    return jsonify({"filter": _plain_filter(flt), "series": body})


def _plain_filter(flt: Any) -> dict[str, Any]:
    from survey.reporting.results import plain

    out: dict[str, Any] = plain(flt)
    out["source_name"] = flt.source_name
    return out
