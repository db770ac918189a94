"""Per-response decisions inside an attack: exclude the attack, not its neighbours.

A finding over a run of responses (a skewed block, a corroborated burst) says that a point
was attacked at that time; it does not say which of the responses are the attack's. Honest
residents who answered at the same point in the same minutes would go with them (the
collateral). These pure functions pick, per response, the ones that look like the attack:

* :func:`profile_llr`: how much more likely a response's answers are under the group's own
  answer profile (leave-one-out, per question) than under the city's. The attack dominates
  the group, so its responses score above zero and residents, whose answers look like the
  city's, below.
* :func:`attack_members`: the union of what separates attacker from resident: a strong flag
  of its own (timing, batch, chain, honeypot), the attack's network and browser when one
  pair sent half the run, and the answer profile when the run's answers corroborated it.
* :func:`split`: a finding made strong over the members and weak over the others (a weak
  flag that is only a signal is not shown to reviewers; see ``catalogue.SIGNAL_CODES``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence

import numpy as np

from survey.services.integrity.patterns import Finding
from survey.services.integrity.patterns import Row

#: Additive smoothing of the per-question answer frequencies.
SMOOTHING = 0.5


def profile_llr(codes: np.ndarray, city: np.ndarray) -> np.ndarray:
    """Per row of ``codes`` (n, m; -1 unanswered) the log-likelihood ratio (nats) of its
    answers under the group's answer frequencies without itself against the city's
    (``city``: the baseline's code matrix, same columns and codes)."""
    n, m = codes.shape
    out = np.zeros(n)
    if n < 2:
        return out
    for j in range(m):
        col = codes[:, j]
        ref = city[:, j] if city.size else np.empty(0, dtype=np.int64)
        answered = col >= 0
        ref = ref[ref >= 0]
        if answered.sum() < 2:
            continue
        mine = col[answered]
        kinds = max(np.unique(np.concatenate([mine, ref])).size, 2)
        values, inverse, counts = np.unique(mine, return_inverse=True, return_counts=True)
        group_p = (counts[inverse] - 1 + SMOOTHING) / (mine.size - 1 + SMOOTHING * kinds)
        ref_values, ref_counts = np.unique(ref, return_counts=True)
        lookup = dict(zip(ref_values.tolist(), ref_counts.tolist(), strict=True))
        ref_count = np.array([lookup.get(v, 0) for v in values.tolist()], dtype=float)
        city_p = (ref_count[inverse] + SMOOTHING) / (ref.size + SMOOTHING * kinds)
        out[answered] += np.log(group_p / city_p)
    return out


def profile_members(ids: Sequence[int], codes: np.ndarray, city: np.ndarray) -> set[int]:
    """The responses of ``ids`` whose answers are closer to the group's profile than to the
    city's (log-likelihood ratio above zero)."""
    llr = profile_llr(codes, city)
    return {rid for rid, score in zip(ids, llr, strict=True) if score > 0}


def top_pair(ids: Collection[int], rows: Mapping[int, Row]) -> set[int] | None:
    """The members sharing the most common (network, browser), when they are half or more."""
    pairs = Counter((rows[i].network_hash, rows[i].agent_hash) for i in ids)
    if not pairs:
        return None
    (net, agent), top = pairs.most_common(1)[0]
    if net is None or top * 2 < len(ids):
        return None
    return {i for i in ids if (rows[i].network_hash, rows[i].agent_hash) == (net, agent)}


def attack_members(
    ids: Collection[int],
    strong: Collection[int],
    network: set[int] | None,
    answers: set[int] | None,
) -> set[int]:
    """The members of a run that the evidence points at, response by response."""
    members = set(ids) & set(strong)
    if network is not None:
        members |= network
    if answers is not None:
        members |= answers & set(ids)
    return members


def split(finding: Finding, members: Collection[int]) -> list[Finding]:
    """``finding`` strong over ``members`` and weak over the rest (either may be empty).

    The evidence of both says how many of the run were left out as unlike the attack.
    """
    chosen = tuple(i for i in finding.ids if i in set(members))
    rest = tuple(i for i in finding.ids if i not in set(members))
    evidence = {**finding.evidence, "attack": len(chosen), "others": len(rest)}
    out = []
    if chosen:
        out.append(Finding(finding.flag, "strong", chosen, evidence))
    if rest:
        out.append(Finding(finding.flag, "weak", rest, evidence))
    return out
