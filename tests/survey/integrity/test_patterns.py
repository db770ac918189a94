"""The cross-response detectors on constructed responses (no database, no app)."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from survey.models import QualityFlag
from survey.services.integrity import patterns
from survey.services.integrity.patterns import Baseline
from survey.services.integrity.patterns import History
from survey.services.integrity.patterns import Norms
from survey.services.integrity.patterns import Row
from survey.services.integrity.patterns import Thresholds

T0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in China
TH = Thresholds()


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def resident(i: int, submitted: float, duration: float = 180.0, **kw: object) -> Row:
    """An honest-looking response: own device, one of a carrier's addresses."""
    fields = {
        "device_hash": f"dev{i}",
        "network_hash": kw.pop("network", "carrier"),
        "agent_hash": kw.pop("agent", "wechat/android"),
    }
    fields.update(kw)  # type: ignore[arg-type]
    return Row(id=i, submitted_at=at(submitted), served_at=at(submitted - duration), **fields)  # type: ignore[arg-type]


def test_preloaded_batch_is_flagged() -> None:
    # 100 forms opened within 5 s, submitted 31 s later within 2 s (the attack).
    rows = [Row(i, at(36 + i * 0.02), at(i * 0.05), f"d{i}", "bot", "script") for i in range(100)]
    found = patterns.preloaded_batches(rows, TH)
    assert len(found) == 1 and found[0].flag is QualityFlag.PRELOADED
    assert found[0].strength == "strong" and len(found[0].ids) == 100
    assert found[0].evidence["count"] == 100 and found[0].evidence["span"] < 3


def test_batch_opened_over_minutes_but_submitted_at_once_is_flagged() -> None:
    rows = [Row(i, at(900 + i * 0.1), at(i * 20), f"d{i}") for i in range(40)]
    found = patterns.preloaded_batches(rows, TH)
    assert found and len(found[0].ids) == 40


def test_a_crowd_scanning_together_is_not_a_batch() -> None:
    # A parents' meeting: 50 scan within a minute, each reads at their own pace.
    rng = random.Random(3)
    rows = []
    for i in range(50):
        served = rng.uniform(0, 60)
        rows.append(Row(i, at(served + rng.lognormvariate(np.log(180), 0.4)), at(served), f"d{i}"))
    assert patterns.preloaded_batches(rows, TH) == []


def test_serial_filling_is_flagged() -> None:
    # One phone, cookies cleared after each form: each opened seconds after the last submit.
    rows, t = [], 0.0
    for i in range(6):
        rows.append(Row(i, at(t + 70), at(t), f"d{i}", "office", "wechat/android"))
        t += 70 + 5
    found = patterns.serial_chains(rows, TH)
    assert len(found) == 1 and found[0].flag is QualityFlag.SERIAL
    assert set(found[0].ids) == set(range(6)) and found[0].evidence["count"] == 6


def test_carrier_neighbours_overlap_and_are_not_serial() -> None:
    rng = random.Random(5)
    rows = [resident(i, rng.uniform(0, 3600), rng.uniform(100, 300)) for i in range(60)]
    assert patterns.serial_chains(rows, TH) == []


def test_shared_network_is_weak() -> None:
    rows = [resident(i, i * 20.0) for i in range(20)]  # 20 devices, one prefix, 7 minutes
    found = patterns.shared_network(rows, TH)
    assert found and found[0].strength == "weak" and found[0].evidence["devices"] >= 15
    spread = [resident(i, i * 600.0) for i in range(20)]  # one every 10 minutes
    assert patterns.shared_network(spread, TH) == []


def test_burst_against_the_point_and_channel_norm() -> None:
    rows = [resident(i, i * 15.0, network=f"n{i}") for i in range(40)]  # 40 in 10 minutes
    quiet = Norms(own_per_hour=2, channel_per_hour=3)
    found = patterns.bursts(rows, quiet, TH)
    assert found and found[0].flag is QualityFlag.BURST and found[0].strength == "weak"
    busy = Norms(own_per_hour=2, channel_per_hour=100)  # a channel that often gets pushes
    assert patterns.bursts(rows, busy, TH) == []


def test_burst_is_strong_when_corroborated() -> None:
    rows = [resident(i, i * 5.0, network="one-prefix", agent="script") for i in range(40)]
    burst = patterns.bursts(rows, Norms(), TH)[0]
    by_id = {r.id: r for r in rows}
    assert patterns.corroborate(burst, by_id, [], None).strength == "strong"
    varied = [resident(i, i * 5.0, network=f"n{i}") for i in range(40)]
    burst = patterns.bursts(varied, Norms(), TH)[0]
    assert patterns.corroborate(burst, {r.id: r for r in varied}, [], None).strength == "weak"
    skewed = patterns.corroborate(burst, {r.id: r for r in varied}, [], "答案分散程度只有全市的0.4")
    assert skewed.strength == "strong" and "0.4" in skewed.evidence["corroboration"]


def city(n: int = 2000, m: int = 12, k: int = 8, seed: int = 1) -> Baseline:
    """Honest answers: a latent opinion per person drives correlated items."""
    codes, scores = honest(n, m, k, seed)
    return Baseline(tuple(f"q{i}" for i in range(m)), codes, scores)


def honest(n: int, m: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    latent = rng.normal(0, 1, size=(n, 1))
    raw = latent + rng.normal(0, 0.9, size=(n, m))
    codes = np.digitize(raw, [-1.0, -0.2, 0.5, 1.2]).astype(np.int64)  # 5 options
    scores = (codes[:, :k] * 25).astype(float)
    return codes, scores


def test_coached_answers_are_uniform() -> None:
    base = city()
    rng = np.random.default_rng(7)
    codes = np.full((40, 12), 4)
    codes[rng.random((40, 12)) < 0.08] = 3  # coached residents forget an item or two
    stats = patterns.answer_stats(list(range(40)), codes, codes[:, :8] * 25.0, base)
    finding = patterns.uniform_finding(stats, TH)
    assert finding is not None and finding.flag is QualityFlag.UNIFORM
    assert len(finding.ids) >= 36 and stats.city_similar_share < 0.1


def test_honest_answers_are_neither_uniform_nor_skewed() -> None:
    base = city()
    for seed in range(20):
        codes, scores = honest(40, 12, 8, 100 + seed)
        stats = patterns.answer_stats(list(range(40)), codes, scores, base)
        assert patterns.uniform_finding(stats, TH) is None
        assert patterns.skew_reason(stats, base, TH) is None


def test_preset_ratios_are_skewed() -> None:
    base = city()
    rng = np.random.default_rng(11)
    # Each question drawn on its own: 70% top option, 25% second, 5% third.
    codes = rng.choice([4, 3, 2], p=[0.7, 0.25, 0.05], size=(40, 12))
    stats = patterns.answer_stats(list(range(40)), codes, codes[:, :8] * 25.0, base)
    reason = patterns.skew_reason(stats, base, TH)
    assert reason is not None
    found = patterns.answer_blocks(list(range(40)), codes, codes[:, :8] * 25.0, 0, base, TH)
    assert found and found[0].flag in (QualityFlag.SKEWED, QualityFlag.UNIFORM)


def test_independent_answers_break_coherence() -> None:
    base = city()
    rng = np.random.default_rng(12)
    # Realistic spread per question, but every question drawn independently.
    codes = rng.choice(5, p=[0.1, 0.2, 0.3, 0.25, 0.15], size=(40, 12))
    stats = patterns.answer_stats(list(range(40)), codes, codes[:, :8] * 25.0, base)
    assert stats.alpha is not None and stats.alpha < 0.3
    assert base.alpha is not None and base.alpha > 0.7
    assert "一致性" in (patterns.skew_reason(stats, base, TH) or "")


def test_blocks_cover_every_new_response() -> None:
    assert patterns.blocks(100, 90, 40) == [(60, 100)]
    assert patterns.blocks(100, 0, 40) == [(0, 40), (20, 60), (40, 80), (60, 100)]
    assert patterns.blocks(10, 5, 40) == [(0, 10)]


def test_satisfaction_jump() -> None:
    rows = [resident(i, i * 60.0, satisfaction=1.0 if i % 20 else 0.5) for i in range(40)]
    found = patterns.satisfaction_jump(rows, History(n=200, mean=0.55), TH)
    assert found and found[0].strength == "weak" and found[0].evidence["history"] == "55%"
    assert patterns.satisfaction_jump(rows, History(n=200, mean=0.9), TH) == []
    assert patterns.satisfaction_jump(rows, History(n=5, mean=0.2), TH) == []


def test_odd_hours() -> None:
    day = [0.0] * 24
    for h in range(7, 23):
        day[h] = 1 / 16
    night = [resident(i, 18 * 3600 + i * 300.0) for i in range(8)]  # 04:00-04:35 China time
    found = patterns.odd_hours(night, day, TH)
    assert found and len(found[0].ids) == 8 and "4时" in found[0].evidence["hours"]
    assert patterns.odd_hours(night[:3], day, TH) == []
    assert patterns.odd_hours(night, [], TH) == []  # too little city history to judge


def test_thresholds_from_config() -> None:
    th = Thresholds.from_config({"INTEGRITY_BATCH_MIN": "5", "INTEGRITY_SKEW_RATIO": 0.5})
    assert th.batch_min == 5 and th.skew_ratio == 0.5 and th.burst_min == TH.burst_min
