"""The street model column (``survey.reporting.small_area``) against its inputs rebuilt here.

From the generated unit rows, independently of the report's code: the street of every
response, the nested ANOVA of responses within clusters within streets (unit-level sums of
squares), the previous period's street means (unweighted: the unweighted report), and the
dashboard's direct street estimates. ``analysis.fay_herriot`` on those inputs must give the
model column to 1e-9; the fit itself is tested against R in tests/analysis/test_fay_herriot.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.testing import assert_allclose

from analysis import fay_herriot
from survey.extensions import db
from survey.reporting import dashboard
from survey.reporting.small_area import street_small_area
from tests.survey.reporting.conftest import EXCLUDED
from tests.survey.reporting.conftest import PERIOD_START
from tests.survey.reporting.conftest import Generated
from tests.survey.reporting.test_report import period_filter


def _anova(units: pd.DataFrame, metric: str) -> tuple[float, float, pd.Series]:
    """Within-cluster and between-cluster variance (unit level), and sum_j (n_ij/n_i)^2."""
    seen = units[units[metric].notna()]
    cluster_mean = seen.groupby("cluster")[metric].transform("mean")
    street_mean = seen.groupby("street")[metric].transform("mean")
    ssw = float(((seen[metric] - cluster_mean) ** 2).sum())
    ssb = float(((cluster_mean - street_mean) ** 2).sum())
    sizes = seen.groupby(["street", "cluster"]).size()
    street_n = sizes.groupby(level="street").transform("sum")
    clusters, streets = len(sizes), seen["street"].nunique()
    msw = ssw / (len(seen) - clusters)
    n0 = (len(seen) - float((sizes**2 / street_n).sum())) / (clusters - streets)
    between = max((ssb / (clusters - streets) - msw) / n0, 0.0)
    return msw, between, ((sizes / street_n) ** 2).groupby(level="street").sum()


def test_model_column_equals_the_model_on_independently_built_inputs(
    generated: Generated,
) -> None:
    regions = generated.regions
    flt = period_filter(generated, level="street")
    with generated.app.app_context():
        model = street_small_area(db.session, flt)
        board = dashboard(db.session, flt)
    units = generated.units[generated.units["flags"] & EXCLUDED == 0].copy()

    def street_of(region_id: int) -> int:
        found = [a for a in regions[region_id].ancestor_ids() if regions[a].level == "street"]
        return found[0] if found else -1

    units["street"] = units["region_id"].map(street_of)
    units = units[units["street"] > 0]
    current = units[units["week_start"] >= PERIOD_START]
    previous = units[units["week_start"] < PERIOD_START]
    streets = sorted(model.labels)
    direct = {r.key: r.metrics for r in board.table.rows}
    for metric in ("awareness", "satisfaction_score"):
        within, between, share = _anova(current, metric)
        est = [direct[k][metric].estimate for k in streets]
        n = np.array([e.n for e in est], dtype=float)
        y = np.array([e.estimate if e.n else np.nan for e in est])
        psi = within / n + between * share.reindex(streets).to_numpy()
        prev = previous.groupby("street")[metric].mean().reindex(streets).to_numpy()
        assert not np.isnan(prev).any()
        fit = model.models[metric]
        assert fit.covariates == ("截距", "上期估计", "区县效应")
        district = pd.Series([regions[k].parent_id for k in streets])
        dummies = pd.get_dummies(district, drop_first=True, dtype=float).to_numpy()
        x = np.column_stack([np.ones(len(streets)), prev, dummies])
        bounds = (0.0, 100.0) if metric == "satisfaction_score" else (0.0, 1.0)
        want = fay_herriot(y, psi, x, bounds=bounds).areas
        got = [model.estimates[metric][k] for k in streets]
        assert_allclose([g.estimate for g in got], want["estimate"], rtol=1e-9)
        assert_allclose([g.ci_low for g in got], want["lower"], rtol=1e-9)
        assert_allclose([g.se for g in got], want["se"], rtol=1e-9)
        assert [g.synthetic for g in got] == want["synthetic"].tolist()
        assert [model.direct[metric][k].estimate for k in streets] == [e.estimate for e in est]
