"""``/api/v1/problem-list`` and ``/api/v1/problems``: the 问题清单 and the 整改台账 as JSON,
for the same filters and scope as the pages (read-only; comments are masked).

``GET /api/v1/problem-list?questionnaire=&from=&to=&region=&channel=&weighting=&flagged=
&area_level=street|community&sort=gap|residents`` returns the weak spots (every area x item
with its gap, the interval, the BH-adjusted q-value) and the comments by topic;
``GET /api/v1/problems`` the ledger with each done problem's before/after figures;
``GET /api/v1/problems/<id>`` one problem (404 outside the caller's scope).
"""

from __future__ import annotations

from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey.reporting.problem_list import ledger_pages as problem_reports
from survey.reporting.questions import pages as question_reports
from survey.reporting.results import plain
from survey.services import problems
from survey.web.api import bp
from survey.web.read_audit import audited
from survey.web.report_args import report_request


def _version_filter() -> question_reports.VersionFilter:
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return question_reports.version_filter(user, report_request(request.args))


@bp.get("/v1/problem-list")
def problem_list_json() -> ResponseReturnValue:
    """Weak spots and comments by topic."""
    vf = _version_filter()
    level = request.args.get("area_level", "street").strip()
    found = problem_reports.problem_list(vf, level, request.args.get("sort", "gap").strip())
    rows = len(found.weak.rows) + found.topics.comments
    audited("api_read", vf.filter, rows, endpoint="problem-list", level=found.level)
    return jsonify(
        {
            "filter": plain(vf.filter),
            "level": found.level,
            "weak_spots": found.weak.to_dict(),
            "topics": found.topics.to_dict(),
        }
    )


@bp.get("/v1/problems")
def problems_json() -> ResponseReturnValue:
    """The ledger in the caller's scope."""
    vf = _version_filter()
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    entries = problem_reports.ledger(user, vf.filter)
    audited("api_read", vf.filter, len(entries), endpoint="problems")
    return jsonify({"filter": plain(vf.filter), "problems": [e.to_dict() for e in entries]})


@bp.get("/v1/problems/<int:problem_id>")
def problem_json(problem_id: int) -> ResponseReturnValue:
    """One problem with its before/after figures; 404 outside the caller's scope."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    problem = problems.problem_in_scope(user, problem_id)
    vf = _version_filter()
    found = problem_reports.entry(
        problem,
        problem_reports.definition_for(problem.questionnaire_id),
        vf.filter.with_(questionnaire_id=problem.questionnaire_id, version_id=None),
    )
    audited("api_read", vf.filter, 1, endpoint="problem", problem=problem.id)
    return jsonify(found.to_dict())
