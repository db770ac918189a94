"""The report functions the views and the JSON API call: dashboard, tables, trend."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import Final

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from survey.reporting.channel_rows import channel_names
from survey.reporting.channel_rows import channel_rows
from survey.reporting.channel_rows import point_infos
from survey.reporting.channel_rows import point_rows
from survey.reporting.channel_rows import scans_by_point
from survey.reporting.compare import ranks_for
from survey.reporting.compare import target_results
from survey.reporting.context import ReportContext
from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import METRICS
from survey.reporting.filters import MIN_RESPONSES
from survey.reporting.filters import ReportFilter
from survey.reporting.planner import report_planner
from survey.reporting.results import ChannelRow
from survey.reporting.results import Dashboard
from survey.reporting.results import Estimate
from survey.reporting.results import GroupRow
from survey.reporting.results import GroupTable
from survey.reporting.results import Headline
from survey.reporting.results import MetricResult
from survey.reporting.results import TrendPoint
from survey.reporting.results import TrendSeries
from survey.reporting.results import plain
from survey.reporting.small_area import street_model
from survey.reporting.statement import uses_cells

#: Values of ``by`` for :func:`estimate_table` (and the API's ``by=``).
TABLE_BY: Final[tuple[str, ...]] = (
    "overall",
    "district",
    "street",
    "community",
    "channel",
    "point",
    "week",
)


def _context(
    bind: Session | Connection,
    flt: ReportFilter,
    targets: dict[str, float] | None,
    min_n: int,
    level: float,
) -> ReportContext:
    if uses_cells(flt):  # a few thousand cells: the planner's defaults do well
        return ReportContext.build(bind, flt, targets=targets, min_n=min_n, level=level)
    with report_planner(bind):
        return ReportContext.build(bind, flt, targets=targets, min_n=min_n, level=level)


def dashboard(
    bind: Session | Connection,
    flt: ReportFilter,
    *,
    targets: dict[str, float] | None = None,
    min_n: int = MIN_RESPONSES,
    level: float = 0.95,
    group_changes: bool = False,
) -> Dashboard:
    """Everything on the dashboard for ``flt``, from one ``GROUP BY`` over responses.

    ``targets`` (metric -> threshold) default to the stored targets of the questionnaire;
    groups with fewer than ``min_n`` responses are flagged ``too_few`` (样本不足).
    ``group_changes`` adds each table row's change since the previous period (four more
    contrasts; the headline always has its change).
    """
    ctx = _context(bind, flt, targets, min_n, level)
    channels, points = _channel_and_point_rows(ctx)
    return Dashboard(
        headline=headline(ctx),
        table=group_table(ctx, with_changes=group_changes),
        trend=trend_series(ctx),
        channels=channels,
        points=points,
        weighting=ctx.weighting_info,
        rows_read=ctx.stats.rows_read,
        filter=plain(flt),
        model=street_model(ctx) if flt.level == "street" else None,
    )


def estimate_table(
    bind: Session | Connection,
    flt: ReportFilter,
    by: str = "district",
    *,
    targets: dict[str, float] | None = None,
    min_n: int = MIN_RESPONSES,
    level: float = 0.95,
) -> GroupTable:
    """The figures of one dashboard part by ``by`` (one of :data:`TABLE_BY`), as the page
    shows them: ``overall`` is the headline as a one-row table, a region level is the group
    table at that level, ``channel``/``point``/``week`` the channel, point and trend figures."""
    if by not in TABLE_BY:
        raise ValueError(f"unknown grouping {by!r}; choose one of {', '.join(TABLE_BY)}")
    if by in ("district", "street", "community"):
        flt = flt.with_(level=by)
    ctx = _context(bind, flt, targets, min_n, level)
    table = _table_by(ctx, by)
    model = street_model(ctx) if by == "street" else None
    return replace(table, weighting=ctx.weighting_info, model=model)


def _table_by(ctx: ReportContext, by: str) -> GroupTable:
    if by == "overall":
        head = headline(ctx)
        row = GroupRow(None, "全部", head.responses, head.flagged, head.metrics)
        return GroupTable("overall", [row])
    if by in ("channel", "point"):
        channels, points = _channel_and_point_rows(ctx)
        return GroupTable(by, [_as_group_row(r) for r in (channels if by == "channel" else points)])
    if by == "week":
        series = trend_series(ctx)
        weeks = [p.week for p in next(iter(series.values())).points]
        rows = [
            GroupRow(
                week,
                week.isoformat(),
                series[METRICS[0]].points[i].estimate.n,
                0,
                {m: MetricResult(series[m].points[i].estimate) for m in METRICS},
            )
            for i, week in enumerate(weeks)
        ]
        return GroupTable("week", rows)
    return group_table(ctx)


def trend(
    bind: Session | Connection,
    flt: ReportFilter,
    *,
    targets: dict[str, float] | None = None,
    min_n: int = MIN_RESPONSES,
    level: float = 0.95,
) -> dict[str, TrendSeries]:
    """The weekly series of every metric over the filter's period, with intervals."""
    return trend_series(_context(bind, flt, targets, min_n, level))


def headline(ctx: ReportContext) -> Headline:
    """The figures of the whole report area, with change and target status."""
    changes = ctx.changes(None)
    estimates = {m: ctx.estimates(m, None)[None] for m in METRICS}
    with_target = [m for m in METRICS if m in ctx.targets]
    found = target_results(
        [(estimates[m], ctx.targets[m]) for m in with_target], min_n=ctx.min_n, level=ctx.level
    )
    targets = dict(zip(with_target, found, strict=True))
    metrics = {
        m: MetricResult(estimates[m], target=targets.get(m), change=changes[m].get(None))
        for m in METRICS
    }
    flt = ctx.flt
    previous = flt.previous()
    return Headline(
        responses=int(ctx.current_frame["n"].sum()),
        flagged=int(ctx.current_flagged["flagged"].sum()),
        flagged_included=flt.include_flagged,
        metrics=metrics,
        period=(flt.date_from, flt.date_to),
        previous_period=(previous.date_from, previous.date_to) if previous else None,
    )


def group_table(ctx: ReportContext, *, with_changes: bool = True) -> GroupTable:
    """Figures by region at the filter's level, with targets, ranks and (optionally)
    changes since the previous period."""
    keys = ctx.level_keys()
    changes = ctx.changes("group") if with_changes else {m: {} for m in METRICS}
    estimates: dict[str, dict[Hashable, Estimate]] = {}
    for metric in METRICS:
        found = ctx.estimates(metric, "group")
        estimates[metric] = {k: found.get(k) or Estimate.empty(metric) for k in keys}
    pairs = [(m, k) for m in METRICS if m in ctx.targets for k in keys]
    found_targets = target_results(
        [(estimates[m][k], ctx.targets[m]) for m, k in pairs], min_n=ctx.min_n, level=ctx.level
    )
    targets = dict(zip(pairs, found_targets, strict=True))
    per_metric: dict[str, dict[Hashable, MetricResult]] = {}
    for metric in METRICS:
        ranks = ranks_for(estimates[metric], level=ctx.level)
        per_metric[metric] = {
            k: MetricResult(
                estimates[metric][k],
                targets.get((metric, k)),
                ranks.get(k),
                changes[metric].get(k),
            )
            for k in keys
        }
    responses = ctx.current_frame.groupby("group")["n"].sum()
    flagged = ctx.current_flagged.groupby("group")["flagged"].sum()
    kish = ctx.kish_by("group")
    rows = [
        GroupRow(
            key=k,
            label=ctx.regions.group_label(k, ctx.flt.level),
            code=ctx.regions.code_of(k),
            responses=int(responses.get(k, 0)),
            flagged=int(flagged.get(k, 0)),
            metrics={m: per_metric[m][k] for m in METRICS},
            kish_n_eff=kish.get(k),
        )
        for k in keys
    ]
    return GroupTable(ctx.flt.level, rows)


def trend_series(ctx: ReportContext) -> dict[str, TrendSeries]:
    """One weekly series per metric, with the target line."""
    weeks = ctx.weeks()
    out = {}
    for metric in METRICS:
        found = ctx.estimates(metric, "week_start")
        points = [TrendPoint(w, found.get(w) or Estimate.empty(metric)) for w in weeks]
        out[metric] = TrendSeries(metric, METRIC_NAMES[metric], points, ctx.targets.get(metric))
    return out


def _channel_and_point_rows(ctx: ReportContext) -> tuple[list[ChannelRow], list[ChannelRow]]:
    frame = ctx.current_frame
    scans = scans_by_point(ctx.bind, ctx.flt, ctx.regions)
    ids = {int(p) for p in frame["point_id"].dropna().unique()} | set(scans)
    infos = point_infos(ctx.bind, sorted(ids))
    names = channel_names(ctx.bind)
    flagged = ctx.current_flagged
    by_channel = ctx.all_estimates("channel_id")
    channels = channel_rows(
        frame, flagged, scans, infos, names, by_channel, ctx.flt.include_flagged
    )
    by_point = ctx.point_estimates()
    points = point_rows(
        frame, flagged, scans, infos, names, ctx.regions, by_point, ctx.flt.include_flagged
    )
    return channels, points


def _as_group_row(row: ChannelRow) -> GroupRow:
    return GroupRow(
        key=row.key,
        label=row.label,
        code=row.code,
        responses=row.included,
        flagged=row.flagged,
        metrics={m: MetricResult(e) for m, e in row.metrics.items()},
    )
