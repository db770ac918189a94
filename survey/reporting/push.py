"""Push channels are not clusters: each response at a push point is its own PSU.

A place (notice board, school, market) is a cluster: the people who answer there share it.
A push point (a WeChat article, an SMS, 手机报) is a link opened by thousands of unrelated
people across its district, so its responses are sampled as individuals within their district
stratum — R's ``svydesign(ids = ~psu, strata = ~district)`` with ``psu`` the response for
push points and the point for places.

The report statement returns sums per (point, cell), not responses. For the design only the
count, sum and sum of squares of each metric per PSU matter, so a row of ``n`` push responses
stands for ``n`` one-response PSUs that have the row's sums exactly: unit ``k`` (0..n-1) has
answered a metric when ``k < n_obs``; a 0/1 metric is 1 for ``k < sum`` (``sum`` ones and
``n_obs - sum`` zeros, so the logit interval stays), any other metric is ``mean ± sd``
alternating by the parity of ``k`` for ``k < paired`` (``n_obs`` rounded down to even) and
``mean`` for an odd one out, whose sum and sum of squares are the row's.

Those ``n`` units are not written out. Their values only change at the breakpoints ``n_obs``
and ``sum`` (0/1 metrics) or ``paired`` (other metrics), and between two breakpoints only with
the parity of ``k``; so a row has at most ``2 * (2 * len(METRICS) + 1)`` kinds of unit. Each
kind becomes one row with its ``count`` of units: ``n = count``, the sums ``count`` times the
unit's values, and ``psus = count``, the number of identical PSUs it stands for
(``analysis.design_from_aggregates(psus=)``), with a cluster code of its own. A row of ``m``
identical one-response PSUs gives, in every estimate, standard error, design effect, df and
calibration, exactly what the ``m`` written-out responses give (the analysis treats it as
``m`` PSUs of ``1/m`` of its totals), so every figure is still the one R gives on the
responses themselves, while the memory grows with the report's cells, not its responses.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Channel
from survey.reporting.filters import METRICS

#: Cluster codes of push responses start below this (points are positive ids, rows without a
#: point use minus their region id).
PUSH_CLUSTER_BASE = -(10**12)
#: Column with the number of identical PSUs a design row stands for (1 on place rows).
PSUS = "psus"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def push_channel_ids(bind: Session | Connection) -> frozenset[int]:
    """Ids of the channels whose kind is ``push``."""
    rows = bind.execute(select(Channel.id).where(Channel.kind == "push")).scalars().all()
    return frozenset(int(i) for i in rows)


def _binary(frame: pd.DataFrame, metric: str) -> bool:
    total = frame[f"{metric}_sum"].to_numpy(dtype=np.float64)
    squares = frame[f"{metric}_sum2"].to_numpy(dtype=np.float64)
    return bool(np.all(total == squares) and np.all(total == np.round(total)))


def _paired(n_obs: IntArray) -> IntArray:
    """Units ``0..paired-1`` alternate ``+sd, -sd``; an odd one out gets the mean."""
    return n_obs - (n_obs % 2)


def _breakpoints(push: pd.DataFrame, binary: dict[str, bool]) -> IntArray:
    """Per push row, the sorted unit indices (0 and ``n`` included) where a unit's values
    may change: per metric ``n_obs`` and the ones (0/1 metric) or ``paired`` (other)."""
    n = push["n"].to_numpy(dtype=np.int64)
    points = [np.zeros_like(n), n]
    for metric in METRICS:
        n_obs = push[f"{metric}_n"].to_numpy(dtype=np.int64)
        points.append(n_obs)
        if binary[metric]:
            ones = np.ceil(push[f"{metric}_sum"].to_numpy(dtype=np.float64))
            points.append(ones.astype(np.int64))
        else:
            points.append(_paired(n_obs))
    return np.sort(np.clip(np.column_stack(points), 0, n[:, None]), axis=1)


def _unit_kinds(points: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Every (segment between two breakpoints, parity) of every row: the row, the first
    unit ``k`` of that kind and the number of units of that kind (0 for an empty one).
    Kinds come in (even, odd) pairs, row by row and segment by segment."""
    start, end = points[:, :-1], points[:, 1:]
    even = (end + 1) // 2 - (start + 1) // 2
    odd = end // 2 - start // 2
    first_even = start + start % 2
    count = np.stack([even, odd], axis=-1).reshape(-1)
    first = np.stack([first_even, start + 1 - start % 2], axis=-1).reshape(-1)
    row = np.repeat(np.arange(points.shape[0], dtype=np.int64), 2 * start.shape[1])
    return row, first, count


def _unit_values(
    push: pd.DataFrame, metric: str, binary: bool, row: IntArray, k: IntArray
) -> tuple[FloatArray, IntArray]:
    """The metric's value (0 where missing) and 1/0 for answered of unit ``k`` of push row
    ``row`` (see the module docstring)."""
    n_obs = push[f"{metric}_n"].to_numpy(dtype=np.int64)
    total = push[f"{metric}_sum"].to_numpy(dtype=np.float64)
    answered = (k < n_obs[row]).astype(np.int64)
    if binary:
        return np.where(k < total[row], 1.0, 0.0) * answered, answered
    squares = push[f"{metric}_sum2"].to_numpy(dtype=np.float64)
    paired = _paired(n_obs)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_obs > 0, total / np.maximum(n_obs, 1), 0.0)
        spread = np.maximum(squares - total * mean, 0.0)
        sd = np.where(paired > 0, np.sqrt(spread / np.maximum(paired, 1)), 0.0)
    sign = np.where(k % 2 == 0, 1.0, -1.0) * (k < paired[row])
    return (mean[row] + sign * sd[row]) * answered, answered


def _merge_parities(count: IntArray, found: dict[str, tuple[FloatArray, IntArray]]) -> IntArray:
    """Counts with the odd units of a segment moved to its even kind where both kinds have
    the same value and answered flag in every metric (the parity matters only where a
    metric alternates ``± sd``; an empty kind's first unit may lie past its segment, so
    both are compared)."""
    same = np.ones(count.size // 2, dtype=bool)
    for value, answered in found.values():
        same &= (value[0::2] == value[1::2]) & (answered[0::2] == answered[1::2])
    merged = count.copy()
    merged[0::2] += np.where(same, count[1::2], 0)
    merged[1::2] = np.where(same, 0, count[1::2])
    return merged


def _compact(push: pd.DataFrame) -> pd.DataFrame:
    """One row per kind of unit of every push row, with its count as multiplicity."""
    binary = {metric: _binary(push, metric) for metric in METRICS}
    row, k, count = _unit_kinds(_breakpoints(push, binary))
    found = {m: _unit_values(push, m, binary[m], row, k) for m in METRICS}
    count = _merge_parities(count, found)
    keep = np.flatnonzero(count > 0)
    count = count[keep]
    rows = push.iloc[row[keep]].reset_index(drop=True)
    rows["n"] = count
    for metric, (value, answered) in found.items():
        value = value[keep]
        rows[f"{metric}_n"] = count * answered[keep]
        rows[f"{metric}_sum"] = count * value
        rows[f"{metric}_sum2"] = count * (value * value)
    rows[PSUS] = count
    rows["cluster"] = PUSH_CLUSTER_BASE - np.arange(len(rows), dtype=np.int64)
    return rows


def expand_push_rows(frame: pd.DataFrame, push_channels: Collection[int]) -> pd.DataFrame:
    """``frame`` (report rows) as the design reads it: each push-channel row split into one
    row per kind of response, each row its own cluster standing for ``psus`` identical
    one-response PSUs; place rows unchanged (``psus`` 1). Sums per metric are kept exactly.
    Without push rows the frame is returned as it is (no ``psus`` column)."""
    if frame.empty or not push_channels:
        return frame
    is_push = frame["channel_id"].isin(list(push_channels)).to_numpy()
    if not is_push.any():
        return frame
    rows = _compact(frame[is_push])
    place = frame[~is_push].assign(**{PSUS: np.int64(1)})
    return pd.concat([place, rows], ignore_index=True)
