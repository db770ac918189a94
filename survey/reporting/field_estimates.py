"""Estimates of a mock assessment from its own design, and the QR figures beside them.

Design of a plan's interviews: strata = the plan's districts, PSU = the drawn community,
base weight = 1 / p with ``p = pi_i * m_i / M_i`` (the community's PPS inclusion probability
times the share of its measure of size that is interviewed: ``m_i`` interviews planned out
of ``M_i``), then post-stratified to the population of the plan's districts by age group ×
sex. This is R's ``svydesign(ids=~community, strata=~district, probs=~p)`` followed by
``postStratify(~age_group+sex)``; ``tests/survey/reporting/reference_field/`` holds the R
script and its output, matched to 1e-8.

The QR figures for the same period and region use the dashboard's design (collection point
= cluster, district = stratum, post-stratified by district × age group × sex). The two
samples are independent, so the difference QR − sampled has the standard error
``sqrt(se_qr^2 + se_field^2)`` and a normal 95% interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis import SurveyDesign
from analysis import design_from_units
from analysis import poststratify
from analysis import svy_estimates
from analysis import weighting_report

#: The metrics estimated (as the dashboard: three rates and the 0-100 score).
FIELD_METRICS: tuple[str, ...] = (
    "awareness",
    "participation",
    "satisfaction",
    "satisfaction_score",
)
#: Post-stratification cells with fewer interviews are merged with a neighbour (as the
#: dashboard); 0 merges only empty cells, as close to R as a sample allows.
DEFAULT_MIN_CELL_N = 5
Z95 = 1.959963984540054


def field_design(
    frame: pd.DataFrame, population: pd.DataFrame, *, min_cell_n: float = DEFAULT_MIN_CELL_N
) -> SurveyDesign:
    """The plan's design from unit rows (``district``, ``community``, ``p``, ``age_group``,
    ``sex``, metrics) post-stratified to ``population`` (``age_group``, ``sex``, ``N``)."""
    data = frame.assign(weight=1.0 / frame["p"].astype(float)).reset_index(drop=True)
    design = design_from_units(data, strata="district", psu="community", weights="weight")
    return poststratify(design, population, count="N", min_cell_n=min_cell_n)


def field_estimates(
    frame: pd.DataFrame,
    population: pd.DataFrame,
    *,
    by: str | None = None,
    min_cell_n: float = DEFAULT_MIN_CELL_N,
    metrics: Sequence[str] = FIELD_METRICS,
) -> dict[str, pd.DataFrame]:
    """Design-based estimates of each metric (overall, or per ``by``)."""
    design = field_design(frame, population, min_cell_n=min_cell_n)
    return svy_estimates(design, list(metrics), by=by, method="mean")


def merged_cells(design: SurveyDesign) -> int:
    """How many post-stratification cells were merged with a neighbour."""
    report = weighting_report(design)
    if report.empty or "cell" not in report:
        return 0
    return int(len(report) - report["cell"].nunique())


def qr_estimates(
    frame: pd.DataFrame, population: pd.DataFrame, *, by: str | None = None
) -> dict[str, pd.DataFrame]:
    """QR responses (``district``, ``point``, ``age_group``, ``sex``, metrics): point =
    cluster, district = stratum, post-stratified by district × age group × sex."""
    data = frame.assign(weight=1.0).reset_index(drop=True)
    design = design_from_units(data, strata="district", psu="point", weights="weight")
    design = poststratify(design, population, count="N")
    return svy_estimates(design, list(FIELD_METRICS), by=by, method="mean")


def difference(qr: pd.DataFrame, field: pd.DataFrame) -> pd.DataFrame:
    """QR − sampled per row (aligned on the index), with its SE and 95% interval: a t
    interval on the smaller of the two estimates' degrees of freedom (normal when both are
    unbounded), so a district with few sampled communities gets the wide interval it has."""
    cols = ["estimate", "se", "df"]
    joined = pd.concat(
        [
            qr.reindex(columns=cols).add_suffix("_qr"),
            field.reindex(columns=cols).add_suffix("_field"),
        ],
        axis=1,
    )
    diff = joined["estimate_qr"] - joined["estimate_field"]
    se = np.sqrt(joined["se_qr"] ** 2 + joined["se_field"] ** 2)
    df = np.fmin(joined["df_qr"].astype(float), joined["df_field"].astype(float))
    q = np.where(np.isfinite(df) & (df > 0), stats.t.ppf(0.975, np.where(df > 0, df, 1)), Z95)
    return pd.DataFrame(
        {"difference": diff, "se": se, "df": df, "ci_low": diff - q * se, "ci_high": diff + q * se}
    )
