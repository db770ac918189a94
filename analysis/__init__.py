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
# --- end simple intervals, means, targets, ranks, planning ---

__all__ = [
    "AnalysisError",
    "NotEstimableError",
    # design-based names
    # simple-interval names
]
