"""Reports: SQL ``GROUP BY`` -> sufficient statistics -> ``analysis``.

The only package of the web application that imports ``analysis``. No Flask here: every
function takes a SQLAlchemy ``Session`` or ``Connection``. Start with :func:`dashboard`
(everything on the landing page for a :class:`ReportFilter`), :func:`estimate_table` and
:func:`trend` (the JSON API's parts), and :mod:`survey.reporting.charts` for the charts.
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
from survey.reporting.population import population_counts
from survey.reporting.population import raking_margins
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
    "Dashboard",
    "Estimate",
    "GroupRow",
    "GroupTable",
    "Headline",
    "MetricResult",
    "RankResult",
    "ReportFilter",
    "ReportFilterError",
    "Statistics",
    "TargetResult",
    "TrendPoint",
    "TrendSeries",
    "WeightingInfo",
    "dashboard",
    "estimate_table",
    "excluded_condition",
    "load_statistics",
    "population_counts",
    "raking_margins",
    "stored_targets",
    "trend",
]
