"""Pure survey statistics for the 两率一度 engine.

No Flask, no database: pandas/NumPy/SciPy in, DataFrames out. A statistician can use this
package on a CSV without the web application.
"""

from __future__ import annotations

from analysis._errors import AnalysisError
from analysis._errors import NotEstimableError

# --- design-based estimation (design, weighting, domains, contrasts) ---
# isort: split
from analysis._chisq import ChisqResult
from analysis._chisq import svy_chisq
from analysis._contrast import svy_contrast
from analysis._contrast import svy_contrasts
from analysis._design import DEFAULT_LONELY_PSU
from analysis._design import LONELY_PSU_RULES
from analysis._design import AggregateOutcome
from analysis._design import SurveyDesign
from analysis._design import aggregate_units
from analysis._design import design_from_aggregates
from analysis._design import design_from_units
from analysis._estimate import RESULT_COLUMNS
from analysis._estimate import svy_estimate
from analysis._estimate import svy_estimates
from analysis._gaps import GAP_COLUMNS
from analysis._gaps import benjamini_hochberg
from analysis._gaps import svy_gaps
from analysis._intervals_design import DESIGN_METHODS
from analysis._weighting import kish_n_eff
from analysis._weighting import poststratify
from analysis._weighting import rake
from analysis._weighting import trim_weights
from analysis._weighting import weighting_report

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

# --- field work: PPS sample plans, AAPOR outcome rates, interviewer effect ---
# isort: split
from analysis._aapor import DISPOSITIONS
from analysis._aapor import aapor_rates
from analysis._interviewer import interviewer_effect
from analysis._pps import pps_probabilities
from analysis._pps import pps_systematic

# --- end field work ---

# --- small-area estimation (issue 24) ---
# isort: split
from analysis._fay_herriot import FH_COLUMNS
from analysis._fay_herriot import FayHerriotFit
from analysis._fay_herriot import fay_herriot
from analysis._fay_herriot import smoothed_variances
from analysis._small_area import SmallAreaResult
from analysis._small_area import VarianceComponents
from analysis._small_area import small_area_estimates
from analysis._small_area import variance_components

# --- end small-area estimation ---

__all__ = [
    "DEFAULT_LONELY_PSU",
    "DESIGN_METHODS",
    "DISPOSITIONS",
    "FH_COLUMNS",
    "GAP_COLUMNS",
    "LONELY_PSU_RULES",
    "RESULT_COLUMNS",
    "AggregateOutcome",
    "AnalysisError",
    "ChisqResult",
    "FayHerriotFit",
    "NotEstimableError",
    "SmallAreaResult",
    "SurveyDesign",
    "VarianceComponents",
    "aapor_rates",
    "aggregate_units",
    "allocate",
    "benjamini_hochberg",
    "design_from_aggregates",
    "design_from_units",
    "fay_herriot",
    "interviewer_effect",
    "kish_n_eff",
    "mean_ci",
    "mean_summary",
    "poststratify",
    "pps_probabilities",
    "pps_systematic",
    "proportion_ci",
    "rake",
    "rank_intervals",
    "sample_size",
    "small_area_estimates",
    "smoothed_variances",
    "svy_chisq",
    "svy_contrast",
    "svy_contrasts",
    "svy_estimate",
    "svy_estimates",
    "svy_gaps",
    "target_status",
    "trim_weights",
    "variance_components",
    "weighting_report",
]
