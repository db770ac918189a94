"""Push channels are not clusters: each response at a push point is its own PSU.

A place (notice board, school, market) is a cluster: the people who answer there share it.
A push point (a WeChat article, an SMS, 手机报) is a link opened by thousands of unrelated
people across its district, so its responses are sampled as individuals within their district
stratum — R's ``svydesign(ids = ~psu, strata = ~district)`` with ``psu`` the response for
push points and the point for places.

The report statement returns sums per (point, cell), not responses. For the design only the
count, sum and sum of squares of each metric per PSU matter, so a row of ``n`` push responses
is expanded into ``n`` one-response rows, each its own cluster, that have the row's sums
exactly: a 0/1 metric as ``sum`` ones and ``n_obs - sum`` zeros (the logit interval stays),
any other metric as ``mean ± sd`` (alternating; 0 for an odd one out), whose sum and sum of
squares are the row's. Every estimate, standard error, design effect and calibration is then
the one R gives on the responses themselves. The cost grows with push responses (they are
the PSUs), not with all responses.
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


def push_channel_ids(bind: Session | Connection) -> frozenset[int]:
    """Ids of the channels whose kind is ``push``."""
    rows = bind.execute(select(Channel.id).where(Channel.kind == "push")).scalars().all()
    return frozenset(int(i) for i in rows)


def _unit_index(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0..n-1 within each row of ``counts``, for all rows at once."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _binary(frame: pd.DataFrame, metric: str) -> bool:
    total = frame[f"{metric}_sum"].to_numpy(dtype=np.float64)
    squares = frame[f"{metric}_sum2"].to_numpy(dtype=np.float64)
    return bool(np.all(total == squares) and np.all(total == np.round(total)))


def _values(
    rows: pd.DataFrame, metric: str, k: npt.NDArray[np.int64], binary: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Per expanded unit: the metric's value (0 where missing) and 1/0 for answered."""
    n_obs = rows[f"{metric}_n"].to_numpy(dtype=np.int64)
    total = rows[f"{metric}_sum"].to_numpy(dtype=np.float64)
    answered = (k < n_obs).astype(np.int64)
    if binary:
        return np.where(k < total, 1.0, 0.0) * answered, answered
    squares = rows[f"{metric}_sum2"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_obs > 0, total / np.maximum(n_obs, 1), 0.0)
        spread = np.maximum(squares - total * mean, 0.0)
        paired = n_obs - (n_obs % 2)  # units 0..paired-1 alternate +sd, -sd
        sd = np.where(paired > 0, np.sqrt(spread / np.maximum(paired, 1)), 0.0)
    sign = np.where(k % 2 == 0, 1.0, -1.0) * (k < paired)
    return (mean + sign * sd) * answered, answered


def expand_push_rows(frame: pd.DataFrame, push_channels: Collection[int]) -> pd.DataFrame:
    """``frame`` (report rows) with each push-channel row split into one row per response,
    each its own cluster; place rows unchanged. Sums per metric are kept exactly."""
    if frame.empty or not push_channels:
        return frame
    is_push = frame["channel_id"].isin(list(push_channels)).to_numpy()
    if not is_push.any():
        return frame
    push = frame[is_push]
    counts = push["n"].to_numpy(dtype=np.int64)
    rows = push.loc[push.index.repeat(counts)].reset_index(drop=True)
    k = _unit_index(counts)
    rows["n"] = np.int64(1)
    for metric in METRICS:
        binary = _binary(push, metric)
        value, answered = _values(rows, metric, k, binary)
        rows[f"{metric}_n"] = answered
        rows[f"{metric}_sum"] = value
        rows[f"{metric}_sum2"] = value * value
    rows["cluster"] = PUSH_CLUSTER_BASE - np.arange(len(rows), dtype=np.int64)
    out = pd.concat([frame[~is_push], rows], ignore_index=True)
    return out
