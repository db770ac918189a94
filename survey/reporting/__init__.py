"""Reporting: everything that turns stored responses into figures, tables, charts and files.

Cells kept on insert (``report_cells``) -> SQL ``GROUP BY`` -> sufficient statistics ->
``analysis`` -> results -> pages, charts and files. The only package of the web application
that imports ``analysis``. Dependencies run one way: reporting may use ``survey.services``
(access rules, audit, CSV cells, questionnaire definitions), services never import
reporting (``tests/test_layers.py``). No Flask here: functions take a SQLAlchemy ``Session``
or ``Connection``, or run on the request's session (``report_requests`` and the
``pages``/``files`` modules).

Reading order:

1. :mod:`.filters` -- :class:`ReportFilter`, what a report covers, and the exclusion rule.
2. :mod:`.statement` -- the ``GROUP BY`` over ``report_cells`` (or raw responses) that yields
   the sufficient statistics; :mod:`.region_index` and :mod:`.margins` (population margins)
   and :mod:`.weighting` (post-stratification and raking).
3. :mod:`.estimates`, :mod:`.compare`, :mod:`.planner`, :mod:`.context` -- estimates with
   intervals, changes between periods, targets, ranks and how many more responses.
4. :mod:`.report` -- :func:`dashboard`, :func:`estimate_table`, :func:`trend`; their result
   types in :mod:`.results`; channels and points (scans, completion) in
   :mod:`.channel_rows` and the point list in :mod:`.point_table`.
5. :mod:`.report_requests` -- a staff member's request (scope, defaults) -> a filter, run on
   the request's session.
6. :mod:`.questions` -- question statistics, cross-tabulations and free-text answers.
7. :mod:`.charts` -- light SVG for pages, matplotlib for PNG downloads and the briefing.
8. :mod:`.exports` -- tables, XLSX/CSV/JSON files, the Word briefing, raw responses as CSV,
   SPSS and Stata.
"""

from __future__ import annotations

from survey.reporting.context import stored_targets
from survey.reporting.filters import EXCLUDING_FLAGS
from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import METRICS
from survey.reporting.filters import MIN_RESPONSES
from survey.reporting.filters import RATE_METRICS
from survey.reporting.filters import REPORT_LEVELS
from survey.reporting.filters import WEIGHTING_NAMES
from survey.reporting.filters import WEIGHTINGS
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import ReportFilterError
from survey.reporting.filters import excluded_condition
from survey.reporting.margins import population_counts
from survey.reporting.margins import raking_margins
from survey.reporting.questions.results import CrossTable
from survey.reporting.questions.results import QuestionReport
from survey.reporting.questions.stats import question_stats
from survey.reporting.report import TABLE_BY
from survey.reporting.report import dashboard
from survey.reporting.report import estimate_table
from survey.reporting.report import trend
from survey.reporting.results import Change
from survey.reporting.results import ChannelRow
from survey.reporting.results import Completion
from survey.reporting.results import Dashboard
from survey.reporting.results import Estimate
from survey.reporting.results import GroupRow
from survey.reporting.results import GroupTable
from survey.reporting.results import Headline
from survey.reporting.results import MetricResult
from survey.reporting.results import RankResult
from survey.reporting.results import TargetResult
from survey.reporting.results import TrendPoint
from survey.reporting.results import TrendSeries
from survey.reporting.results import WeightingInfo
from survey.reporting.small_area import ModelEstimate
from survey.reporting.small_area import StreetModel
from survey.reporting.small_area import street_small_area
from survey.reporting.statement import Statistics
from survey.reporting.statement import load_statistics

__all__ = [
    "EXCLUDING_FLAGS",
    "METRICS",
    "METRIC_NAMES",
    "MIN_RESPONSES",
    "RATE_METRICS",
    "REPORT_LEVELS",
    "TABLE_BY",
    "WEIGHTINGS",
    "WEIGHTING_NAMES",
    "Change",
    "ChannelRow",
    "Completion",
    "CrossTable",
    "Dashboard",
    "Estimate",
    "GroupRow",
    "GroupTable",
    "Headline",
    "MetricResult",
    "ModelEstimate",
    "QuestionReport",
    "RankResult",
    "ReportFilter",
    "ReportFilterError",
    "Statistics",
    "StreetModel",
    "TargetResult",
    "TrendPoint",
    "TrendSeries",
    "WeightingInfo",
    "dashboard",
    "estimate_table",
    "excluded_condition",
    "load_statistics",
    "population_counts",
    "question_stats",
    "raking_margins",
    "stored_targets",
    "street_small_area",
    "trend",
]
