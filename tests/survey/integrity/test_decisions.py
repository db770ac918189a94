"""Per-response decisions inside an attack (issue 21, item 2): hand-worked and simulated."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from survey.models import QualityFlag
from survey.services.integrity import decisions
from survey.services.integrity import patterns
from survey.services.integrity.patterns import Finding
from survey.services.integrity.patterns import Row
from survey.services.integrity.patterns import Thresholds

T0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


def test_profile_llr_by_hand() -> None:
    # One question, two options; the group answers 0, 0, 1, the city 0, 1, 1, 1.
    # Smoothing 0.5 over 2 options. Row 0 (answer 0), leave-one-out group frequency
    # (2 - 1 + 0.5) / (3 - 1 + 1) = 0.5, city (1 + 0.5) / (4 + 1) = 0.3: ln(0.5 / 0.3).
    # Row 2 (answer 1): group (1 - 1 + 0.5) / 3 = 1/6, city (3 + 0.5) / 5 = 0.7.
    codes = np.array([[0], [0], [1]])
    city = np.array([[0], [1], [1], [1]])
    llr = decisions.profile_llr(codes, city)
    assert llr[0] == llr[1]
    assert math.isclose(llr[0], math.log(0.5 / 0.3))
    assert math.isclose(llr[2], math.log((1 / 6) / 0.7))


def test_unanswered_items_and_new_options_count_nothing_or_smoothed() -> None:
    codes = np.array([[-1, 2], [-1, 2], [-1, 0]])
    city = np.array([[0, 0], [1, 0]])
    llr = decisions.profile_llr(codes, city)
    # Column 0 unanswered: nothing. Column 1: value 2 never seen in the city; options {0, 2}.
    # Row 0: group (2 - 1 + 0.5) / (2 + 1) = 0.5; city (0 + 0.5) / (2 + 1) = 1/6.
    assert math.isclose(llr[0], math.log(0.5 / (1 / 6)))


def _city(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    latent = rng.normal(0, 1, size=(n, 1))
    return np.digitize(latent + rng.normal(0, 0.9, size=(n, m)), [-1.0, -0.2, 0.5, 1.2])


def test_the_attack_is_picked_out_of_its_run() -> None:
    rng = np.random.default_rng(3)
    city = _city(1500, 15, rng)
    bots = rng.choice([4, 3, 2], p=[0.7, 0.25, 0.05], size=(40, 15))
    residents = _city(10, 15, rng)
    codes = np.vstack([bots, residents])
    ids = list(range(50))
    members = decisions.profile_members(ids, codes, city)
    caught = len(members & set(range(40)))
    spared = 10 - len(members & set(range(40, 50)))
    assert caught >= 36 and spared >= 8, (caught, spared)


def test_attack_members_unite_the_evidence() -> None:
    ids = list(range(10))
    assert decisions.attack_members(ids, {1, 2, 99}, None, None) == {1, 2}
    assert decisions.attack_members(ids, set(), {3, 4}, {5, 42}) == {3, 4, 5}


def _row(i: int, network: str, agent: str = "a") -> Row:
    at = T0 + dt.timedelta(seconds=i)
    return Row(i, at, at - dt.timedelta(seconds=60), f"d{i}", network, agent)


def test_top_pair_needs_half_the_run() -> None:
    rows = {i: _row(i, "one" if i < 6 else f"n{i}") for i in range(10)}
    assert decisions.top_pair(list(rows), rows) == set(range(6))
    rows = {i: _row(i, "one" if i < 4 else f"n{i}") for i in range(10)}
    assert decisions.top_pair(list(rows), rows) is None


def test_split_keeps_the_others_weak_and_counts_them() -> None:
    finding = Finding(QualityFlag.BURST, "strong", (1, 2, 3, 4), {"count": 4})
    strong, weak = decisions.split(finding, {2, 4})
    assert (strong.strength, strong.ids) == ("strong", (2, 4))
    assert (weak.strength, weak.ids) == ("weak", (1, 3))
    assert strong.evidence["attack"] == 2 and strong.evidence["others"] == 2
    assert decisions.split(finding, set())[0].strength == "weak"


def test_serial_chain_across_tabs() -> None:
    """One phone, three tabs opened seconds apart, the next round after the last submit."""
    th = Thresholds()
    rows, t, n = [], 0.0, 0
    for _ in range(4):
        ends = []
        for tab in range(3):
            served = t + tab * 2.0
            submitted = served + 70 + tab * 10
            at = T0 + dt.timedelta(seconds=submitted)
            rows.append(Row(n, at, T0 + dt.timedelta(seconds=served), f"d{n}", "net", "wx"))
            ends.append(submitted)
            n += 1
        t = max(ends) + 5
    found = patterns.serial_chains(rows, th)
    assert found and len(found[0].ids) == 12


def test_residents_behind_one_carrier_prefix_are_rarely_a_chain() -> None:
    """Arrivals at random behind one prefix and browser (one every 2 or 5 minutes on
    average, 3-minute forms, 60 residents, 200 runs each): under 0.5% of them in a chain
    (the rule linking to the previous submission only gave 0.1%; tabs cost a little)."""
    th = Thresholds()
    for mean in (120.0, 300.0):
        flagged = 0
        for seed in range(200):
            rng = np.random.default_rng(seed)
            served = np.cumsum(rng.exponential(mean, size=60))
            rows = [
                Row(
                    i,
                    T0 + dt.timedelta(seconds=float(s + rng.lognormal(math.log(180), 0.4))),
                    T0 + dt.timedelta(seconds=float(s)),
                    f"d{i}",
                    "carrier",
                    "wx",
                )
                for i, s in enumerate(served)
            ]
            flagged += sum(len(f.ids) for f in patterns.serial_chains(rows, th))
        assert flagged / (200 * 60) < 0.005, (mean, flagged)
