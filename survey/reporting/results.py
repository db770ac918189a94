"""Result objects of the reports: frozen dataclasses, each with ``to_dict()`` for JSON.

Every figure carries its uncertainty: an :class:`Estimate` has the estimate, its standard
error, the interval, n, the design effect and, when the figure must not be shown as a bare
number, ``too_few`` with a Chinese ``reason`` (e.g. 样本不足（n=12）).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

TARGET_LABELS: dict[str, str] = {"met": "达标", "not met": "未达标", "undecided": "待定"}


def plain(value: Any) -> Any:
    """JSON-ready form: NaN -> None, dates -> ISO text, dataclasses and mappings recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class _ToDict:
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary of every field."""
        out = plain(self)
        assert isinstance(out, dict)
        return out


@dataclass(frozen=True)
class Figure(_ToDict):
    """What every figure shown to staff carries: the estimate, its standard error, the
    interval and n (:class:`Estimate` for direct estimates, the small-area model's
    ``ModelEstimate``)."""

    metric: str
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


@dataclass(frozen=True)
class Estimate(Figure):
    """One metric for one group: a rate in [0, 1] or the 0-100 score.

    ``method`` is the interval: ``logit`` for a 0/1 rate, ``mean`` (t interval, clipped to
    [0, 1] for a rate) for a rate averaged over several items or for the score; ``point``
    marks the within-point interval of a collection point (its responses as a simple random
    sample, unweighted). ``deff`` is the design effect (None where undefined), ``n_eff`` the
    effective sample size n / deff; ``note`` is the statistics package's note, in English.
    """

    n_missing: int = 0
    deff: float | None = None
    n_eff: float | None = None
    df: int | None = None
    method: str = "mean"
    too_few: bool = True
    reason: str = ""
    note: str = ""
    #: How the interval was formed when it is not the usual way, in Chinese (e.g.
    #: 区间按全市自由度计算: the group's own degrees of freedom are 0); shown beside the figure.
    interval_note: str = ""

    @classmethod
    def empty(cls, metric: str, reason: str = "无有效答卷") -> Estimate:
        """A group without responses."""
        return cls(metric, None, None, None, None, 0, too_few=True, reason=reason)


@dataclass(frozen=True)
class Change(_ToDict):
    """Change of a metric since the previous period of equal length (``svy_contrast``)."""

    metric: str
    previous: float | None
    current: float | None
    n_previous: int
    n_current: int
    difference: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool
    reason: str = ""


@dataclass(frozen=True)
class TargetResult(_ToDict):
    """Status against the stored target: 达标 / 未达标 / 待定, and responses still needed."""

    metric: str
    threshold: float
    status: str
    label: str
    more_needed: int | None
    note: str = ""


@dataclass(frozen=True)
class RankResult(_ToDict):
    """Rank of a group (1 = best) with its 95% rank interval among ``of`` ranked groups."""

    rank: int
    rank_low: int
    rank_high: int
    of: int
    p_best: float


@dataclass(frozen=True)
class MetricResult(_ToDict):
    """An estimate with what the dashboard shows next to it."""

    estimate: Estimate
    target: TargetResult | None = None
    rank: RankResult | None = None
    change: Change | None = None


@dataclass(frozen=True)
class CellMerge(_ToDict):
    """Post-stratification cells merged in one period because they had too few respondents.

    ``period`` is 本期 or 上期 (the previous period, used for changes), ``dates`` its first
    and last day, ``cells`` the merged cells in words, ``n`` their respondents together.
    """

    period: str
    dates: tuple[dt.date | None, dt.date | None]
    cells: tuple[str, ...]
    n: int
    text: str = ""

    @classmethod
    def of(
        cls,
        period: str,
        dates: tuple[dt.date | None, dt.date | None],
        cells: tuple[str, ...],
        n: int,
    ) -> CellMerge:
        """A merge with its line in Chinese."""
        start, end = (d.isoformat() if d else "…" for d in dates)
        text = f"{period}（{start} 至 {end}）合并：{'、'.join(cells)}（共 {n} 份）"
        return cls(period, dates, cells, n, text)


@dataclass(frozen=True)
class WeightingInfo(_ToDict):
    """How a report was weighted, shown next to its figures.

    ``requested``/``applied`` differ when the weighting could not be done (``message`` says
    why). ``dropped`` responses could not be weighted (no age group, sex or district, or a
    cell without population) and are left out of the weighted figures. ``collapsed`` lists
    merged post-stratification cells; ``cells`` is the full calibration report.
    """

    requested: str
    applied: str
    kish_n_eff: float | None = None
    dropped: int = 0
    collapsed: tuple[str, ...] = ()
    cells: tuple[dict[str, Any], ...] = ()
    message: str = ""
    #: Every merge of every period used in a figure (the previous one too, for changes).
    merges: tuple[CellMerge, ...] = ()
    #: The minimum cell size in force, and the sentence saying which weighting was used
    #: and why (raking offered when post-stratification merged cells).
    min_cell_n: int = 0
    advice: str = ""

    @classmethod
    def plain(
        cls,
        requested: str,
        *,
        applied: str | None = None,
        kish: float | None = None,
        message: str = "",
    ) -> WeightingInfo:
        """An uncalibrated design (by choice or as a fallback)."""
        return cls(
            requested=requested,
            applied=applied if applied is not None else requested,
            kish_n_eff=kish,
            message=message,
        )


@dataclass(frozen=True)
class GroupRow(_ToDict):
    """One row of a table: a region at the chosen level, a channel, a point or a week."""

    key: Any
    label: str
    responses: int
    flagged: int
    metrics: dict[str, MetricResult]
    code: str = ""
    kish_n_eff: float | None = None


@dataclass(frozen=True)
class Completion(_ToDict):
    """Scans and responses of a channel or point; ``rate`` is None without scans or when
    responses exceed scans (``note`` says so instead of printing more than 100%)."""

    scans: int
    responses: int
    rate: float | None
    note: str = ""


@dataclass(frozen=True)
class ChannelRow(_ToDict):
    """A channel or a collection point with its completion and figures."""

    key: int
    label: str
    completion: Completion
    included: int
    flagged: int
    metrics: dict[str, Estimate]
    code: str = ""
    region: str = ""
    channel: str = ""


@dataclass(frozen=True)
class Headline(_ToDict):
    """The three rates (and the score) for the whole report area."""

    responses: int
    flagged: int
    flagged_included: bool
    metrics: dict[str, MetricResult]
    period: tuple[dt.date | None, dt.date | None]
    previous_period: tuple[dt.date | None, dt.date | None] | None


@dataclass(frozen=True)
class GroupTable(_ToDict):
    """Figures by group (region level, channel, point or week)."""

    by: str
    rows: list[GroupRow]
    #: How the figures were weighted (merges of every period included).
    weighting: WeightingInfo | None = None
    #: For a table by street: the small-area model column (survey.reporting.small_area).
    model: Any = None


@dataclass(frozen=True)
class TrendPoint(_ToDict):
    """One week of a trend."""

    week: dt.date
    estimate: Estimate


@dataclass(frozen=True)
class TrendSeries(_ToDict):
    """The weekly series of one metric with its target line."""

    metric: str
    name: str
    points: list[TrendPoint]
    target: float | None = None


@dataclass(frozen=True)
class Dashboard(_ToDict):
    """Everything on the dashboard, computed from one ``GROUP BY``."""

    headline: Headline
    table: GroupTable
    trend: dict[str, TrendSeries]
    channels: list[ChannelRow]
    points: list[ChannelRow]
    weighting: WeightingInfo
    rows_read: int
    filter: dict[str, Any] = field(default_factory=dict)
    #: At street level: the small-area model column (survey.reporting.small_area).
    model: Any = None
