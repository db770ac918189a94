"""Pure survey statistics for the 两率一度 engine.

No Flask, no database: pandas/NumPy/SciPy in, DataFrames out. A statistician can use this
package on a CSV without the web application.
"""

from __future__ import annotations

from analysis._errors import AnalysisError
from analysis._errors import NotEstimableError

# --- design-based estimation (design, weighting, domains, contrasts) ---
# --- end design-based estimation ---

# --- simple intervals, means, targets, ranks, planning ---
# isort: split
from analysis._means import mean_ci
from analysis._means import mean_summary
from analysis._proportions import proportion_ci
from analysis._ranks import rank_intervals
from analysis._sample_size import allocate
from analysis._sample_size import sample_size
from analysis._targets import target_status

# --- end simple intervals, means, targets, ranks, planning ---

__all__ = [
    "AnalysisError",
    "NotEstimableError",
    # design-based names
    # simple-interval names
    "allocate",
    "mean_ci",
    "mean_summary",
    "proportion_ci",
    "rank_intervals",
    "sample_size",
    "target_status",
]
