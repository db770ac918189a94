"""Cross-response detectors: pure functions over one point's responses, no database.

Each detector takes the responses of one collection point (``Row``, sorted by submission
time) and returns ``Finding`` objects: a flag, its strength, the responses it covers and the
evidence that explains it. :mod:`.sweep` loads the rows and writes the findings; the tests
feed constructed rows. Times are compared as POSIX seconds.

* :func:`preloaded_batches` many submissions within seconds whose forms were opened together
  (or so many that no crowd submits that fast): forms loaded in bulk, submitted at once.
* :func:`serial_chains` one network prefix and browser family filling forms one after
  another, each opened right after the previous was submitted (a person with a stack of
  forms, or a script that drops its cookie).
* :func:`shared_network` many devices behind one prefix within minutes (weak: carriers).
* :func:`bursts` far more responses within minutes than the point's own norm and its
  channel's; strong only when corroborated in the same minutes.
* :func:`answer_blocks` near-identical answer vectors (``UNIFORM``) or an answer spread far
  below the city's (``SKEWED``: entropy per question, or satisfaction items that no longer
  hang together as real opinions do) in runs of consecutive responses.
* :func:`satisfaction_jump` a point's recent satisfaction far above its own history.
* :func:`odd_hours` many responses at hours when the city hardly answers.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np

from survey.models import QualityFlag
from survey.services.integrity.catalogue import STRONG_ON_STORE
from survey.timeutil import CST


@dataclass(frozen=True)
class Row:
    """What the detectors know of one response."""

    id: int
    submitted_at: dt.datetime
    served_at: dt.datetime | None = None
    device_hash: str | None = None
    network_hash: str | None = None
    agent_hash: str | None = None
    satisfaction: float | None = None
    flags: int = 0

    @property
    def submitted(self) -> float:
        """Submission time in POSIX seconds."""
        return self.submitted_at.timestamp()

    @property
    def served(self) -> float | None:
        """Served time in POSIX seconds, when known."""
        return self.served_at.timestamp() if self.served_at is not None else None


@dataclass(frozen=True)
class Finding:
    """One occurrence of a pattern: the flag, its strength, the responses, the evidence."""

    flag: QualityFlag
    strength: str
    ids: tuple[int, ...]
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Thresholds:
    """Detector settings (``INTEGRITY_*`` in the app config; defaults in config.DEFAULTS)."""

    lookback_minutes: float = 60
    batch_seconds: float = 10
    batch_min: int = 8
    batch_served_spread: float = 120
    serial_gap_seconds: float = 30
    serial_min: int = 5
    burst_minutes: float = 10
    burst_min: int = 20
    burst_factor: float = 5.0
    network_minutes: float = 10
    network_devices: int = 15
    answer_window: int = 40
    uniform_share: float = 0.6
    uniform_city_factor: float = 3.0
    skew_ratio: float = 0.6
    jump_delta: float = 0.3
    odd_hour_share: float = 0.01
    odd_hour_min: int = 6

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Thresholds:
        """Thresholds from ``INTEGRITY_<NAME>`` settings."""
        values: dict[str, Any] = {}
        for name, default in cls().__dict__.items():
            key = f"INTEGRITY_{name.upper()}"
            if key in config:
                values[name] = type(default)(config[key])
        return cls(**values)

    @property
    def answer_min(self) -> int:
        """Fewest responses an answer statistic is computed on."""
        return max(10, self.answer_window // 2)


def _local(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, CST).strftime("%Y-%m-%d %H:%M:%S")


def _share(value: float) -> str:
    return f"{value * 100:.0f}%"


def _dense_runs(times: Sequence[float], seconds: float, least: int) -> list[tuple[int, int]]:
    """Maximal index ranges [i, j] covered by windows of ``seconds`` holding >= ``least``."""
    runs: list[tuple[int, int]] = []
    start = 0
    for end in range(len(times)):
        while times[end] - times[start] > seconds:
            start += 1
        if end - start + 1 >= least:
            if runs and start <= runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], end)
            else:
                runs.append((start, end))
    return runs


# --- timing ------------------------------------------------------------------------------


def preloaded_batches(rows: Sequence[Row], th: Thresholds) -> list[Finding]:
    """Forms opened together and submitted within seconds of each other (strong).

    A run of at least ``batch_min`` submissions within ``batch_seconds`` is examined: its
    largest subset whose forms were served within ``batch_served_spread`` seconds is flagged
    when it still holds ``batch_min``; a run three times as dense is flagged whole whatever
    the served times (forms opened over a long time, submitted in one go). A crowd told to
    scan together submits over minutes, not seconds: reading times differ.
    """
    ordered = sorted(rows, key=lambda r: (r.submitted, r.id))
    times = [r.submitted for r in ordered]
    found: list[Finding] = []
    for i, j in _dense_runs(times, th.batch_seconds, th.batch_min):
        members = ordered[i : j + 1]
        extreme = _dense_runs(times[i : j + 1], th.batch_seconds, 3 * th.batch_min)
        if extreme:
            chosen = members
        else:
            chosen = _served_together(members, th.batch_served_spread)
            if len(chosen) < th.batch_min:
                continue
        served = [r.served for r in chosen if r.served is not None]
        submitted = [r.submitted for r in chosen]
        found.append(
            Finding(
                QualityFlag.PRELOADED,
                "strong",
                tuple(r.id for r in chosen),
                {
                    "count": len(chosen),
                    "span": round(max(submitted) - min(submitted), 1),
                    "served_span": round(max(served) - min(served), 1) if served else "?",
                    "first": _local(min(submitted)),
                    "last": _local(max(submitted)),
                },
            )
        )
    return found


def _served_together(rows: Sequence[Row], spread: float) -> list[Row]:
    """The largest subset of ``rows`` whose served times lie within ``spread`` seconds."""
    timed = sorted((r for r in rows if r.served is not None), key=lambda r: r.served or 0.0)
    best: list[Row] = []
    start = 0
    for end in range(len(timed)):
        while (timed[end].served or 0.0) - (timed[start].served or 0.0) > spread:
            start += 1
        if end - start + 1 > len(best):
            best = timed[start : end + 1]
    return best


#: Forms of one network and browser opened this close together are tabs of one person.
TAB_SECONDS = 10.0


def serial_chains(rows: Sequence[Row], th: Thresholds) -> list[Finding]:
    """One network prefix and browser family filling forms one after another (strong).

    Per (network, browser) group in order of serving, a chain links a response when its
    form was opened within ``serial_gap_seconds`` after any earlier member was submitted
    (2 s of clock slack before; a *serial* link), or within ``TAB_SECONDS`` of a member's
    opening (another tab). A chain of ``serial_min`` or more with ``serial_min - 1`` serial
    links is flagged: a person filling a stack of forms, in one tab or a few at once.
    Residents behind one carrier address overlap each other at random; a crowd that scans
    together opens forms at once but submits them apart, which makes no serial link.
    """
    groups: dict[tuple[str, str | None], list[Row]] = {}
    for r in rows:
        if r.network_hash is not None and r.served is not None:
            groups.setdefault((r.network_hash, r.agent_hash), []).append(r)
    found: list[Finding] = []
    for members in groups.values():
        members.sort(key=lambda r: (r.served or 0.0, r.id))
        chain: list[Row] = [members[0]]
        submits: list[float] = [members[0].submitted]
        gaps: list[float] = []
        for r in members[1:]:
            served = r.served or 0.0
            low = bisect.bisect_left(submits, served - th.serial_gap_seconds)
            high = bisect.bisect_right(submits, served + 2.0)
            if low < high or served - (chain[-1].served or 0.0) <= TAB_SECONDS:
                if low < high:
                    gaps.append(served - submits[high - 1])
                chain.append(r)
                bisect.insort(submits, r.submitted)
                continue
            _close_chain(chain, gaps, th, found)
            chain, submits, gaps = [r], [r.submitted], []
        _close_chain(chain, gaps, th, found)
    return found


def _close_chain(chain: list[Row], gaps: list[float], th: Thresholds, out: list[Finding]) -> None:
    if len(chain) < th.serial_min or len(gaps) < th.serial_min - 1:
        return
    out.append(
        Finding(
            QualityFlag.SERIAL,
            "strong",
            tuple(r.id for r in chain),
            {
                "count": len(chain),
                "max_gap": round(max(gaps), 1),
                "first": _local(chain[0].submitted),
                "last": _local(chain[-1].submitted),
            },
        )
    )


def shared_network(rows: Sequence[Row], th: Thresholds) -> list[Finding]:
    """Many distinct devices behind one network prefix within minutes (weak, never a block)."""
    seconds = th.network_minutes * 60
    groups: dict[str, list[Row]] = {}
    for r in rows:
        if r.network_hash is not None:
            groups.setdefault(r.network_hash, []).append(r)
    found: list[Finding] = []
    for members in groups.values():
        if len(members) < th.network_devices:
            continue
        members.sort(key=lambda r: (r.submitted, r.id))
        flagged: set[int] = set()
        most = 0
        start = 0
        devices: Counter[str | None] = Counter()
        for end, r in enumerate(members):
            devices[r.device_hash] += 1
            while r.submitted - members[start].submitted > seconds:
                old = members[start].device_hash
                devices[old] -= 1
                if devices[old] == 0:
                    del devices[old]
                start += 1
            if len(devices) >= th.network_devices:
                most = max(most, len(devices))
                flagged.update(m.id for m in members[start : end + 1])
        if flagged:
            found.append(
                Finding(
                    QualityFlag.SHARED_NETWORK,
                    "weak",
                    tuple(sorted(flagged)),
                    {"devices": most, "minutes": th.network_minutes},
                )
            )
    return found


@dataclass(frozen=True)
class Norms:
    """Responses per hour a point usually gets: its own and its channel's (mean + 2 sd)."""

    own_per_hour: float = 0.0
    channel_per_hour: float = 0.0


def bursts(rows: Sequence[Row], norms: Norms, th: Thresholds) -> list[Finding]:
    """Far more responses within ``burst_minutes`` than the point's own norm and its channel's.

    Weak as found; :func:`corroborate` makes a burst strong when the same minutes show
    another anomaly.
    """
    seconds = th.burst_minutes * 60
    per_window = th.burst_minutes / 60
    expected = max(norms.own_per_hour, norms.channel_per_hour, 0.0) * per_window
    least = max(th.burst_min, math.ceil(th.burst_factor * expected))
    ordered = sorted(rows, key=lambda r: (r.submitted, r.id))
    times = [r.submitted for r in ordered]
    found: list[Finding] = []
    for i, j in _dense_runs(times, seconds, least):
        members = ordered[i : j + 1]
        peak = _peak(times[i : j + 1], seconds)
        found.append(
            Finding(
                QualityFlag.BURST,
                "weak",
                tuple(r.id for r in members),
                {
                    "count": peak,
                    "minutes": th.burst_minutes,
                    "own_ratio": _ratio(peak, norms.own_per_hour * per_window),
                    "channel_ratio": _ratio(peak, norms.channel_per_hour * per_window),
                    "first": _local(times[i]),
                    "last": _local(times[j]),
                    "corroboration": "",
                },
            )
        )
    return found


def _peak(times: Sequence[float], seconds: float) -> int:
    best = start = 0
    for end in range(len(times)):
        while times[end] - times[start] > seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def _ratio(count: float, expected: float) -> str:
    return f"{count / expected:.0f}" if expected > 0.05 else "很多"


def strong_ids(
    ids: Iterable[int], rows_by_id: Mapping[int, Row], others: Iterable[Finding]
) -> set[int]:
    """Of ``ids``, those with a strong finding in ``others`` or a strong bit when stored."""
    wanted = set(ids)
    strong = {i for f in others if f.strength == "strong" for i in f.ids if i in wanted}
    bits = int(STRONG_ON_STORE | QualityFlag.EXCLUDED)
    return strong | {i for i in wanted if rows_by_id[i].flags & bits}


def corroborate(
    burst: Finding,
    rows_by_id: Mapping[int, Row],
    others: Iterable[Finding],
    answer_reason: str | None,
) -> Finding:
    """The burst made strong when its minutes show another anomaly, with the reason in words.

    Corroboration: half or more of its responses carry a strong flag (too fast, batch, ...);
    one network prefix and browser family sent half or more of them; or their answers are
    near-identical or skewed (``answer_reason``, from :func:`answer_stats` on the burst).
    """
    ids = set(burst.ids)
    strong = strong_ids(burst.ids, rows_by_id, others)
    reasons = []
    if len(ids & strong) * 2 >= len(ids):
        reasons.append(f"其中{len(ids & strong)}份另有强异常标记")
    pairs = Counter((rows_by_id[i].network_hash, rows_by_id[i].agent_hash) for i in ids)
    (top_net, _), top = pairs.most_common(1)[0]
    if top_net is not None and top * 2 >= len(ids):
        reasons.append(f"其中{top}份来自同一网段、同一浏览器类型")
    if answer_reason:
        reasons.append(answer_reason)
    if not reasons:
        return burst
    evidence = {**burst.evidence, "corroboration": "同时段" + "；".join(reasons) + "。"}
    return Finding(burst.flag, "strong", burst.ids, evidence)


# --- answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The city's answers to a questionnaire version: the yardstick of the answer signals.

    ``codes`` is an (n, m) matrix of answer codes for the m metric questions (-1: not
    answered); ``scores`` an (n, k) matrix of satisfaction scale scores (NaN: not scored).
    """

    keys: tuple[str, ...]
    codes: np.ndarray
    scores: np.ndarray
    entropy: np.ndarray = field(init=False)
    alpha: float | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entropy", np.array([_entropy(col) for col in self.codes.T]))
        object.__setattr__(self, "alpha", cronbach_alpha(self.scores))

    @property
    def size(self) -> int:
        """Responses in the baseline."""
        return int(self.codes.shape[0])


def _entropy(column: np.ndarray, corrected: bool = False) -> float:
    """Entropy (bits) of one question's answers; Miller-Madow corrected when asked."""
    values = column[column >= 0]
    n = values.size
    if n == 0:
        return 0.0
    counts = np.unique(values, return_counts=True)[1]
    p = counts / n
    h = float(-(p * np.log(p)).sum())
    if corrected:
        h += (counts.size - 1) / (2 * n)
    return h / math.log(2)


def cronbach_alpha(scores: np.ndarray, least: int = 15) -> float | None:
    """Cronbach's alpha of the complete rows of ``scores`` (None: too few rows or items)."""
    if scores.ndim != 2 or scores.shape[1] < 3:
        return None
    complete = scores[~np.isnan(scores).any(axis=1)]
    if complete.shape[0] < least:
        return None
    k = complete.shape[1]
    total = complete.sum(axis=1).var(ddof=1)
    if total <= 0:
        return None
    return float(k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / total))


def near_distance(items: int) -> int:
    """Answers two vectors may differ in and still count as near-identical."""
    return max(2, round(items * 0.2))


@dataclass(frozen=True)
class AnswerStats:
    """Answer statistics of a group of responses against the city's."""

    n: int
    similar_ids: tuple[int, ...]
    similar_share: float
    city_similar_share: float
    entropy_ratio: float | None
    entropy: float
    city_entropy: float
    alpha: float | None
    items: int


def answer_stats(
    ids: Sequence[int], codes: np.ndarray, scores: np.ndarray, city: Baseline
) -> AnswerStats:
    """Near-identical share, entropy ratio and coherence of one group of responses.

    The centre is the answer vector with the most others within :func:`near_distance` (a
    medoid, robust to the few items coached residents forget); the city's share near that
    centre is the yardstick. Entropies are Miller-Madow corrected (small groups are not
    penalised for their size); only questions the city answers with some spread count.
    """
    n, m = codes.shape
    dist = near_distance(m)
    diffs = (codes[:, None, :] != codes[None, :, :]).sum(axis=2)
    near = diffs <= dist
    centre = int(near.sum(axis=1).argmax())
    similar = near[centre]
    city_near = ((city.codes != codes[centre]).sum(axis=1) <= dist).mean() if city.size else 0.0
    h_group = np.array([_entropy(col, corrected=True) for col in codes.T])
    spread = city.entropy > 0.3
    h_city = float(city.entropy[spread].sum()) if city.size else 0.0
    ratio = float(h_group[spread].sum()) / h_city if h_city > 0 else None
    return AnswerStats(
        n=n,
        similar_ids=tuple(i for i, s in zip(ids, similar, strict=True) if s),
        similar_share=float(similar.mean()),
        city_similar_share=float(city_near),
        entropy_ratio=ratio,
        entropy=float(h_group[spread].mean()) if spread.any() else 0.0,
        city_entropy=float(city.entropy[spread].mean()) if spread.any() else 0.0,
        alpha=cronbach_alpha(scores),
        items=m,
    )


def uniform_finding(stats: AnswerStats, th: Thresholds) -> Finding | None:
    """``UNIFORM`` when most of the group sits near one answer vector, unlike the city."""
    similar = len(stats.similar_ids)
    if stats.n < th.answer_min or similar < th.answer_min // 2:
        return None
    if stats.similar_share < th.uniform_share:
        return None
    if stats.similar_share < th.uniform_city_factor * stats.city_similar_share:
        return None
    return Finding(
        QualityFlag.UNIFORM,
        "strong",
        stats.similar_ids,
        {
            "n": stats.n,
            "similar": similar,
            "share": _share(stats.similar_share),
            "city_share": _share(stats.city_similar_share),
            "items": stats.items,
            "distance": near_distance(stats.items),
        },
    )


def skew_reason(stats: AnswerStats, city: Baseline, th: Thresholds) -> str | None:
    """Why the group's answers look generated, in words; None when they look like people's."""
    if stats.n < th.answer_min:
        return None
    if stats.entropy_ratio is not None and stats.entropy_ratio < th.skew_ratio:
        return (
            f"答案分散程度只有全市的{stats.entropy_ratio:.2f}"
            f"（平均信息熵{stats.entropy:.2f}比特，全市{stats.city_entropy:.2f}比特）"
        )
    if (
        stats.alpha is not None
        and city.alpha is not None
        and city.alpha >= 0.6
        and stats.alpha < 0.3
        and city.alpha - stats.alpha >= 0.4
    ):
        return f"满意度各题答案互不相关（一致性系数{stats.alpha:.2f}，全市{city.alpha:.2f}）"
    return None


def skewed_finding(ids: Sequence[int], stats: AnswerStats, reason: str) -> Finding:
    """``SKEWED`` over a whole group of responses."""
    return Finding(
        QualityFlag.SKEWED,
        "strong",
        tuple(ids),
        {"n": stats.n, "detail": reason},
    )


def blocks(count: int, first_new: int, size: int) -> list[tuple[int, int]]:
    """Index ranges [start, end) of overlapping runs of ``size`` covering ``first_new``..end."""
    if count == 0:
        return []
    step = max(1, size // 2)
    start = max(0, min(first_new - step, count - size))
    out = []
    while True:
        end = min(start + size, count)
        out.append((start, end))
        if end >= count:
            return out
        start += step


def answer_blocks(
    ids: Sequence[int],
    codes: np.ndarray,
    scores: np.ndarray,
    first_new: int,
    city: Baseline,
    th: Thresholds,
) -> list[Finding]:
    """``UNIFORM`` and ``SKEWED`` findings over runs of consecutive responses at a point."""
    found: list[Finding] = []
    for start, end in blocks(len(ids), first_new, th.answer_window):
        if end - start < th.answer_min:
            continue
        group = list(ids[start:end])
        stats = answer_stats(group, codes[start:end], scores[start:end], city)
        uniform = uniform_finding(stats, th)
        if uniform is not None:
            found.append(uniform)
            continue
        reason = skew_reason(stats, city, th)
        if reason is not None:
            found.append(skewed_finding(group, stats, reason))
    return found


# --- point history -----------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """A point's satisfaction before the rows examined: responses scored and their mean."""

    n: int = 0
    mean: float | None = None


def satisfaction_jump(rows: Sequence[Row], history: History, th: Thresholds) -> list[Finding]:
    """The latest ``answer_window`` scored responses far more satisfied than the point's past.

    Weak: a new push or a good week can move a point; the evidence helps a reviewer decide.
    Requires a two-proportion z above 3 as well as the difference ``jump_delta``.
    """
    scored = [r for r in rows if r.satisfaction is not None][-th.answer_window :]
    if len(scored) < th.answer_min or history.mean is None or history.n < th.answer_window:
        return []
    recent = sum(r.satisfaction or 0.0 for r in scored) / len(scored)
    p0 = history.mean
    pooled = (recent * len(scored) + p0 * history.n) / (len(scored) + history.n)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-6) * (1 / len(scored) + 1 / history.n))
    if recent - p0 < th.jump_delta or (recent - p0) / se < 3:
        return []
    return [
        Finding(
            QualityFlag.SATISFACTION_JUMP,
            "weak",
            tuple(r.id for r in scored),
            {
                "n": len(scored),
                "recent": _share(recent),
                "history_n": history.n,
                "history": _share(p0),
            },
        )
    ]


def odd_hours(rows: Sequence[Row], city_hours: Sequence[float], th: Thresholds) -> list[Finding]:
    """Many responses at local hours when the city hardly answers (weak).

    ``city_hours`` holds the city's share of responses per local hour of the day (24
    values; empty when the city has too little history to say).
    """
    if len(city_hours) != 24:
        return []
    odd = {h for h in range(24) if city_hours[h] < th.odd_hour_share}
    by_day: dict[dt.date, list[Row]] = {}
    for r in rows:
        local = r.submitted_at.astimezone(CST)
        if local.hour in odd:
            by_day.setdefault(local.date(), []).append(r)
    found: list[Finding] = []
    for members in by_day.values():
        if len(members) < th.odd_hour_min:
            continue
        hours = sorted({r.submitted_at.astimezone(CST).hour for r in members})
        found.append(
            Finding(
                QualityFlag.ODD_HOURS,
                "weak",
                tuple(r.id for r in members),
                {
                    "count": len(members),
                    "hours": "、".join(f"{h}时" for h in hours),
                    "city_share": _share(sum(city_hours[h] for h in hours)),
                },
            )
        )
    return found
