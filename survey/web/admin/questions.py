"""Question statistics (题目统计), cross-tabulation (交叉分析) and free-text answers, for the
filter in the query string within the user's scope (parse -> service -> render)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import render_template
from flask import request
from flask import stream_with_context
from flask.typing import ResponseReturnValue

from survey.reporting import WEIGHTING_NAMES
from survey.reporting import report_requests as reports
from survey.reporting.charts import bars
from survey.reporting.filters import SOURCE_NAMES
from survey.reporting.questions import pages as question_reports
from survey.services import access
from survey.services.choices import region_choices
from survey.services.csv_files import csv_lines
from survey.timeutil import local_time
from survey.web.admin import bp
from survey.web.admin.dashboard import LEVEL_NAMES
from survey.web.admin.helpers import staff
from survey.web.filters import page_arg
from survey.web.read_audit import audited
from survey.web.report_args import report_request
from survey.web.report_args import request_args


def page_context(vf: question_reports.VersionFilter, req: reports.ReportRequest) -> dict[str, Any]:
    """What every report page's filter form and notes need."""
    user = staff()
    return {
        "f": {
            "flt": vf.filter,
            "req": req,
            "choices": reports.choices(vf.filter),
            "regions": region_choices(user, ("city", "district", "street"), blank="全部区域"),
            "levels": list(LEVEL_NAMES.items()),
            "weightings": list(WEIGHTING_NAMES.items()),
            "sources": list(SOURCE_NAMES.items()),
        },
        "args": request_args(req),
        "version": vf.version,
        "defn": vf.definition,
        "weighting_names": WEIGHTING_NAMES,
        "scope": access.scope_root(user),
    }


@bp.get("/questions")
def questions() -> ResponseReturnValue:
    """Every choice question's distribution with intervals and a bar chart."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    report = question_reports.statistics(vf)
    return render_template(
        "admin/questions.html",
        report=report,
        charts={q.key: bars.question_bars(q) for q in report.questions},
        text_questions=question_reports.text_questions(vf.definition),
        **page_context(vf, req),
    )


@bp.get("/questions/chart-<key>.png")
def question_chart_png(key: str) -> ResponseReturnValue:
    """One question's bar chart as a PNG download (matplotlib), for the page's filter."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    body = question_reports.chart_png(vf, key)
    response = Response(body, mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="question-{key[:64]}.png"'
    return response


@bp.get("/questions/text")
def question_texts() -> ResponseReturnValue:
    """Free-text answers of one question: paged and searchable."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    options = question_reports.text_questions(vf.definition)
    key = request.args.get("question", "").strip() or (options[0].key if options else "")
    search = request.args.get("q", "").strip()
    page = question_reports.free_text(vf, key, search, page_arg(request.args)) if key else None
    html = render_template(
        "admin/question_texts.html",
        page=page,
        key=key,
        search=search,
        text_questions=options,
        **page_context(vf, req),
    )
    if page is not None:
        audited(
            "read_text",
            vf.filter,
            len(page.answers),
            question=key,
            search=search,
            page=page.page,
            matching=page.total,
        )
    return html


@bp.get("/questions/text.csv")
def question_texts_csv() -> ResponseReturnValue:
    """Every matching free-text answer as CSV (streamed)."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    key = request.args.get("question", "").strip()
    search = request.args.get("q", "")
    total = question_reports.free_text(vf, key, search, 1).total
    audited("export_text", vf.filter, total, question=key, search=search.strip())
    answers = question_reports.all_free_text(vf, key, search)
    rows = (
        (a.response_id, a.text, a.region, a.channel, local_time(a.submitted_at)) for a in answers
    )
    body = csv_lines(["答卷编号", "回答", "区域", "渠道", "提交时间"], rows)
    response = Response(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="text-{key}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/crosstab")
def crosstab() -> ResponseReturnValue:
    """A question by a grouping: row percentages with intervals and the Rao-Scott test."""
    req = report_request(request.args)
    vf = question_reports.version_filter(staff(), req)
    choice, groupings = question_reports.cross_choices(vf.definition)
    key = request.args.get("question", "").strip() or (choice[0].key if choice else "")
    by = request.args.get("by", "district").strip()
    table = question_reports.crosstab(vf, key, by) if key else None
    svgs = []
    if table is not None and table.rows:
        svgs = [bars.cross_bars(table, i) for i in range(len(table.options))]
    return render_template(
        "admin/crosstab.html",
        table=table,
        key=key,
        by=by,
        choice=choice,
        groupings=groupings,
        charts=svgs,
        **page_context(vf, req),
    )
