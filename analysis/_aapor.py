"""Outcome rates of the AAPOR *Standard Definitions*: RR1, RR3 and COOP1.

Cases are counted by final disposition:

======  ===============================================  ===========
symbol  disposition                                      AAPOR code
======  ===============================================  ===========
I       complete interview                               1.1
P       partial interview                                1.2
R       refusal and break-off                            2.1
NC      non-contact                                      2.2
O       other (eligible, no interview)                   2.3
U       eligibility unknown (UH + UO)                    3.x
NE      not eligible                                     4.x
======  ===============================================  ===========

* ``RR1 = I / ((I + P) + (R + NC + O) + U)``: every case of unknown eligibility counts as
  eligible, the minimum response rate.
* ``RR3 = I / ((I + P) + (R + NC + O) + e U)``, where ``e`` is the estimated share of the
  unknown-eligibility cases that are eligible. Unless it is given, ``e`` is the share
  eligible among the cases whose eligibility was determined,
  ``e = (I + P + R + NC + O) / (I + P + R + NC + O + NE)`` (the proportional allocation the
  Standard Definitions mention as one defensible basis); the ``e`` used is returned.
* ``COOP1 = I / ((I + P) + R + O)``: completes among the eligible cases contacted.

Every rate comes with its denominator (``n``) and a Wilson 95% interval computed on that
denominator (for RR3 a weighted count, so the interval is approximate). Vectorised over
any number of groups: one row of counts per group in, one row of rates per group out.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from analysis._errors import AnalysisError
from analysis._proportions import z_value

__all__ = ["DISPOSITIONS", "aapor_rates"]

#: Count columns :func:`aapor_rates` reads, with the AAPOR code of each disposition.
DISPOSITIONS: Final[dict[str, str]] = {
    "complete": "1.1",
    "partial": "1.2",
    "refusal": "2.1",
    "non_contact": "2.2",
    "other": "2.3",
    "unknown": "3.0",
    "not_eligible": "4.0",
}


def _wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    ok = n > 0
    return np.where(ok, centre - half, np.nan), np.where(ok, centre + half, np.nan)


def _counts(counts: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for col in DISPOSITIONS:
        values = counts[col] if col in counts.columns else pd.Series(0, index=counts.index)
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            raise AnalysisError(f"counts of {col!r} must be numbers of 0 or more")
        out[col] = arr
    return out


def aapor_rates(
    counts: pd.DataFrame, *, e: float | None = None, level: float = 0.95
) -> pd.DataFrame:
    """RR1, RR3 and COOP1 per row of ``counts`` (columns named as :data:`DISPOSITIONS`;
    a missing column counts 0).

    ``e``: share of the unknown-eligibility cases taken as eligible for RR3 (default: the
    share eligible among the cases with known eligibility; 1 when none is known). Returns,
    per row, ``{rate}``, ``{rate}_n`` (denominator), ``{rate}_low``, ``{rate}_high`` for
    each rate and ``e`` (the value used). A rate with a zero denominator is NaN.
    """
    if e is not None and not 0.0 <= e <= 1.0:
        raise AnalysisError("e must lie between 0 and 1")
    c = _counts(counts)
    interviews = c["complete"] + c["partial"]
    eligible_no_interview = c["refusal"] + c["non_contact"] + c["other"]
    known = interviews + eligible_no_interview
    with np.errstate(divide="ignore", invalid="ignore"):
        share = known / (known + c["not_eligible"])
    fixed = np.full(len(counts), e if e is not None else np.nan, dtype=float)
    e_used = np.nan_to_num(share, nan=1.0) if e is None else fixed
    denominators = {
        "rr1": known + c["unknown"],
        "rr3": known + e_used * c["unknown"],
        "coop1": interviews + c["refusal"] + c["other"],
    }
    z = z_value(level)
    out = pd.DataFrame(index=counts.index)
    for name, n in denominators.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            out[name] = np.where(n > 0, c["complete"] / n, np.nan)
        out[f"{name}_n"] = n
        out[f"{name}_low"], out[f"{name}_high"] = _wilson(c["complete"], n, z)
    out["e"] = e_used
    return out
