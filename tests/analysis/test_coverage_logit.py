"""Seeded simulation: nominal 95% logit intervals under a cluster design cover 93-97%.

All replicates are estimated in one call: replicate r gets its own strata and clusters
in a stacked design and is one domain (``by="replicate"``). A domain's variance only
involves the clusters it occupies and its df counts its own clusters and strata, so every
domain estimate is exactly the estimate of that replicate's own design.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

import analysis as A

REPLICATES = 2000
STRATA = 5
CLUSTERS_PER_STRATUM = 6  # 30 clusters, 25 df per replicate
CLUSTER_SIZE = 20
MU, SIGMA = 1.6, 0.6  # awareness around 0.8 with a sizeable intra-cluster correlation


def true_proportion() -> float:
    """E[expit(MU + SIGMA Z)] by Gauss-Hermite quadrature (the superpopulation value)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float(np.sum(weights * special.expit(MU + SIGMA * nodes)) / np.sqrt(2 * np.pi))


def simulate(seed: int = 20260522) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_clusters = STRATA * CLUSTERS_PER_STRATUM
    cluster = np.arange(REPLICATES * n_clusters)
    effect = rng.normal(0.0, SIGMA, cluster.size)
    # weights differ between clusters but do not depend on the outcome
    cluster_weight = rng.uniform(20.0, 80.0, cluster.size)
    rows = np.repeat(cluster, CLUSTER_SIZE)
    y = (rng.random(rows.size) < special.expit(MU + effect[rows])).astype(np.float64)
    return pd.DataFrame(
        {
            "replicate": rows // n_clusters,
            "stratum": rows // CLUSTERS_PER_STRATUM,
            "cluster": rows,
            "weight": cluster_weight[rows],
            "aware": y,
        }
    )


def test_logit_interval_coverage_under_cluster_design() -> None:
    data = simulate()
    design = A.design_from_units(data, strata="stratum", psu="cluster", weights="weight")
    res = A.svy_estimate(design, "aware", "replicate", method="logit")
    assert len(res) == REPLICATES
    assert (res["df"] == STRATA * CLUSTERS_PER_STRATUM - STRATA).all()
    assert (res["note"] == "").all()
    assert float(res["deff"].median()) > 1.5  # the clustering matters
    truth = true_proportion()
    covered = (res["ci_low"] <= truth) & (truth <= res["ci_high"])
    coverage = float(covered.mean())
    assert 0.93 <= coverage <= 0.97, coverage
    # the intervals are not trivially wide
    assert float((res["ci_high"] - res["ci_low"]).median()) < 0.2
