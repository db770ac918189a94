"""Small-area estimates for streets (小区域估计): a Fay–Herriot model per metric.

The direct street estimates are the dashboard's own (weighted as the report asks). The model
borrows strength across streets through covariates: district effects, the street's
previous-period estimate and its population structure (share aged 60+ and share of men, from
street population counts where they exist). Sampling variances are smoothed from the city's
nested variance components (responses within collection points, points within streets; a push
response is its own point), scaled by the weighting design effect. Streets with no responses
get the synthetic (regression) estimate, marked as such. The model estimate is a second
column beside the direct one; it never replaces it.

Public entry points: :func:`street_model` (from a :class:`ReportContext`) and
:func:`street_small_area` (from a session and a filter; what the problem list calls).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from analysis import AnalysisError
from analysis import VarianceComponents
from analysis import small_area_estimates
from analysis import svy_estimates
from analysis import variance_components
from survey.reporting.context import ReportContext
from survey.reporting.filters import METRIC_NAMES
from survey.reporting.filters import METRICS
from survey.reporting.filters import MIN_RESPONSES
from survey.reporting.filters import RATE_METRICS
from survey.reporting.filters import ReportFilter
from survey.reporting.margins import population_counts
from survey.reporting.push import PSUS
from survey.reporting.results import Estimate
from survey.reporting.results import Figure
from survey.reporting.results import _ToDict

#: Page note (two sentences) shown under a table with the model column.
MODEL_NOTE = (
    "模型估计（小区域）借助区县差异、上期估计和人口结构，把样本少的街道向同类街道的水平"
    "适度收缩，这类街道的误差范围通常因此变窄；样本越多，模型估计越接近街道自己的直接估计。"
    "它只是直接估计旁的参考，不替代直接估计；标“合成”的街道本期没有答卷，数值完全来自模型。"
)
COLUMN_NAME = "模型估计（小区域）"
SYNTHETIC_LABEL = "合成"
COVARIATE_NAMES = {
    "(intercept)": "截距",
    "previous": "上期估计",
    "old_share": "60岁以上人口占比",
    "male_share": "男性人口占比",
}


@dataclass(frozen=True)
class MetricModel(_ToDict):
    """The fitted model of one metric: what it used and what it had to leave out."""

    metric: str
    streets: int
    streets_fitted: int
    sigma2_u: float | None
    covariates: tuple[str, ...]
    dropped: tuple[str, ...]
    message: str = ""


@dataclass(frozen=True)
class ModelEstimate(Figure):
    """The model (EBLUP) estimate of one street and metric, with its interval.

    ``se`` is the root of the Prasad–Rao MSE; ``synthetic`` marks a street without responses
    (the estimate is the regression value); ``gamma`` is the weight of the street's own
    direct estimate (0 for synthetic).
    """

    synthetic: bool
    gamma: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class StreetModel(_ToDict):
    """Model estimates by metric and street key, the direct estimates beside them, and
    the fit of each metric."""

    estimates: dict[str, dict[int, ModelEstimate]]
    direct: dict[str, dict[int, Estimate]]
    models: dict[str, MetricModel]
    note: str = MODEL_NOTE
    labels: dict[int, str] = field(default_factory=dict)
    #: What each metric's model used (or why it could not be fitted), in Chinese.
    summary: str = ""


def model_summary(models: dict[str, MetricModel]) -> str:
    """One clause per metric: streets fitted and covariates used, or why there is no model."""
    parts = []
    for metric, fit in models.items():
        name = METRIC_NAMES[metric]
        if fit.message:
            parts.append(f"{name}：{fit.message}")
            continue
        used = "、".join(fit.covariates)
        text = f"{name}：用 {fit.streets_fitted} 个有答卷的街道建模，协变量 {used}"
        if fit.dropped:
            text += f"（{'；'.join(fit.dropped)}）"
        parts.append(text)
    return "。".join(parts) + "。" if parts else ""


def _frac(population: pd.DataFrame, mask: pd.Series) -> pd.Series:
    total = population.groupby("region_id")["count"].sum()
    part = population[mask].groupby("region_id")["count"].sum()
    return (part.reindex(total.index, fill_value=0) / total.where(total > 0)).astype(float)


def _lower_age(code: str) -> int:
    found = re.match(r"\d+", str(code))
    return int(found.group()) if found else -1


def population_structure(bind: Session | Connection, street_ids: list[int]) -> pd.DataFrame:
    """Share aged 60+ and share of men per street with population counts (others absent)."""
    counts = population_counts(bind, street_ids)  # the same cells the weighting reads
    if counts.empty:
        return pd.DataFrame(columns=["old_share", "male_share"])
    pop = counts.rename(columns={"stratum": "region_id", "N": "count"})
    old = pop["age_group"].map(_lower_age) >= 60
    return pd.DataFrame(
        {"old_share": _frac(pop, old), "male_share": _frac(pop, pop["sex"] == "male")}
    )


def _previous_by_street(ctx: ReportContext) -> dict[str, dict[int, float]]:
    """The previous period's direct estimate of every metric per street (empty without a
    previous period)."""
    joint = ctx.joint
    if joint is None or joint.design is None:
        return {m: {} for m in METRICS}
    data = joint.design.data
    if set(data["period"].unique().tolist()) != {0, 1}:
        return {m: {} for m in METRICS}
    frames = svy_estimates(joint.design, list(METRICS), ["period", "group"], method="mean")
    out: dict[str, dict[int, float]] = {}
    for metric, frame in frames.items():
        prev = frame[(frame["period"] == 0) & (frame["n"] > 0)]
        out[metric] = dict(
            zip(prev["group"].astype(int), prev["estimate"].astype(float), strict=True)
        )
    return out


def _components(ctx: ReportContext, metric: str) -> VarianceComponents | None:
    """Within-point and between-point variance of ``metric`` from the design's rows (a push
    response is its own point: a push row stands for ``psus`` identical one-response points,
    ``survey.reporting.push``); None when they cannot be estimated."""
    frame = ctx.design_frame
    frame = frame[frame["group"] > 0]
    columns = [f"{metric}_n", f"{metric}_sum", f"{metric}_sum2"]
    grouped = frame.groupby(["group", "cluster"], sort=True)
    sums = grouped[columns].sum()
    # a push row is its own cluster; a place cluster (several rows) is one PSU
    psus = grouped[PSUS].max() if PSUS in frame.columns else None
    keys = sums.index.get_level_values("group").to_numpy()
    try:
        return variance_components(
            keys, sums[f"{metric}_n"], sums[f"{metric}_sum"], sums[f"{metric}_sum2"], psus
        )
    except AnalysisError:
        return None


def _weighting_deff(ctx: ReportContext) -> float:
    """Kish's design effect of the weights (1 unweighted): responses / effective n."""
    design = ctx.current.design
    kish = ctx.current.info.kish_n_eff
    if design is None or not kish:
        return 1.0
    return max(float(design.n_rows) / float(kish), 1.0)


def _areas(
    ctx: ReportContext,
    keys: list[int],
    direct: dict[int, Estimate],
    previous: dict[int, float],
    structure: pd.DataFrame,
    concentration: pd.Series,
) -> pd.DataFrame:
    """One row per street: direct estimate, n, district and covariates."""
    return pd.DataFrame(
        {
            "direct": [direct[k].estimate if direct[k].n > 0 else np.nan for k in keys],
            "n": [direct[k].n for k in keys],
            "district": [str(ctx.regions.ancestor_at(k, "district")) for k in keys],
            "previous": [previous.get(k, np.nan) for k in keys],
            "old_share": structure["old_share"].reindex(keys).to_numpy(dtype=float),
            "male_share": structure["male_share"].reindex(keys).to_numpy(dtype=float),
            "concentration": concentration.reindex(keys).fillna(1.0).to_numpy(dtype=float),
        },
        index=pd.Index(keys, name="street"),
    )


def _unfit(metric: str, areas: pd.DataFrame, message: str) -> MetricModel:
    return MetricModel(metric, len(areas), 0, None, (), (), message)


def _covariate_text(names: tuple[str, ...]) -> tuple[str, ...]:
    """Chinese names of the model's columns (district dummies become one 区县效应)."""
    out = [COVARIATE_NAMES.get(n, n) for n in names if not n.startswith("group=")]
    if any(n.startswith("group=") for n in names):
        out.append("区县效应")
    return tuple(out)


def _dropped_text(dropped: tuple[str, ...], regions_name: dict[str, str]) -> tuple[str, ...]:
    out = []
    for line in dropped:
        name, _, why = line.partition(": ")
        if name.startswith("group="):
            label = f"{regions_name.get(name[6:], name[6:])}的区县效应"
        else:
            label = COVARIATE_NAMES.get(name, name)
        text = {"no values": "没有数据（如无街道人口数）", "no variation": "各街道相同"}.get(
            why, "有答卷的街道太少"
        )
        out.append(f"{label}：{text}，未用")
    return tuple(out)


def fit_metric(
    metric: str, areas: pd.DataFrame, parts: VarianceComponents | None, deff: float, level: float
) -> tuple[dict[int, ModelEstimate], MetricModel, tuple[str, ...]]:
    """The model estimates of one metric per street, the fit, and the raw dropped list."""
    seen = int((areas["n"] > 0).sum())
    if parts is None:
        return {}, _unfit(metric, areas, "街道内答卷没有差异，无法估计抽样方差"), ()
    try:
        result = small_area_estimates(
            areas,
            covariates=("previous", "old_share", "male_share"),
            unit_variance=parts.within,
            deff=deff,
            cluster_variance=parts.between,
            concentration="concentration",
            level=level,
            bounds=(0.0, 1.0) if metric in RATE_METRICS else (0.0, 100.0),
        )
    except AnalysisError as exc:
        return {}, _unfit(metric, areas, f"有答卷的街道太少（{seen} 个），无法建模：{exc}"), ()
    table = result.fit.areas
    found = {
        int(k): ModelEstimate(
            metric=metric,
            estimate=float(row.estimate),
            se=float(row.se),
            ci_low=float(row.lower),
            ci_high=float(row.upper),
            n=int(areas.at[k, "n"]),
            synthetic=bool(row.synthetic),
            gamma=float(row.gamma),
        )
        for k, row in zip(table.index, table.itertuples(index=False), strict=True)
    }
    model = MetricModel(
        metric, len(areas), result.fit.areas_fitted, result.fit.sigma2_u, result.covariates, ()
    )
    return found, model, result.dropped


def street_model(ctx: ReportContext) -> StreetModel:
    """Model estimates of every metric for the streets of ``ctx`` (a report at street level).

    Streets are the report's listed regions at street level (a district-level point's group,
    keyed negative, is left out). Direct estimates are ``ctx``'s own.
    """
    if ctx.flt.level != "street":
        raise ValueError("the small-area model needs a report at street level")
    keys = [k for k in ctx.level_keys() if k > 0]
    direct = {
        m: {k: ctx.estimates(m, "group").get(k) or Estimate.empty(m) for k in keys} for m in METRICS
    }
    previous = _previous_by_street(ctx)
    structure = population_structure(ctx.bind, keys)
    deff = _weighting_deff(ctx)
    names = {str(r.id): r.name for r in ctx.regions.by_id.values() if r.level == "district"}
    estimates: dict[str, dict[int, ModelEstimate]] = {}
    models: dict[str, MetricModel] = {}
    for metric in METRICS:
        parts = _components(ctx, metric)
        share = parts.concentration if parts is not None else pd.Series(dtype=float)
        areas = _areas(ctx, keys, direct[metric], previous[metric], structure, share)
        found, model, dropped = fit_metric(metric, areas, parts, deff, ctx.level)
        reason = model.message
        estimates[metric] = {
            k: found.get(k) or ModelEstimate(metric, None, None, None, None, 0, False, None, reason)
            for k in keys
        }
        covariates = _covariate_text(model.covariates)
        models[metric] = replace(
            model, covariates=covariates, dropped=_dropped_text(dropped, names)
        )
    labels = {k: ctx.regions.group_label(k, "street") for k in keys}
    return StreetModel(
        estimates=estimates,
        direct=direct,
        models=models,
        labels=labels,
        summary=model_summary(models),
    )


def street_small_area(
    bind: Session | Connection,
    flt: ReportFilter,
    *,
    min_n: int = MIN_RESPONSES,
    level: float = 0.95,
) -> StreetModel:
    """The small-area model of the streets in ``flt``'s area (its level is set to street),
    with the direct estimates beside the model ones: for callers outside the dashboard (the
    problem list's weak spots use the model estimate where a street is thin)."""
    street = flt.with_(level="street")
    ctx = ReportContext.build(bind, street, targets={}, min_n=min_n, level=level)
    return street_model(ctx)
