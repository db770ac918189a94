"""Drawing a sample plan: the frame from ``survey.services.sample_plans``, systematic PPS
from ``analysis`` (the plan's recorded seed), the drawn units stored back by the service."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis import AnalysisError
from analysis import pps_systematic
from survey.errors import InvalidInput
from survey.models import SamplePlan
from survey.models import User
from survey.services import sample_plans
from survey.services.sample_plans import DrawnUnit
from survey.services.sample_plans import FrameUnit
from survey.services.sample_plans import PlanRequest


def draw(units: Sequence[FrameUnit], per_district: int, seed: int) -> list[DrawnUnit]:
    """Systematic PPS of ``per_district`` communities per district (all of a district's
    communities when it has fewer: they are then certainty units, p = 1)."""
    frame = pd.DataFrame(
        {
            "district": [u.district_id for u in units],
            "community": [u.community_id for u in units],
            "size": [u.size for u in units],
        }
    )
    available = frame.groupby("district", sort=False).size()
    wanted = {d: min(per_district, int(n)) for d, n in available.items()}
    try:
        out = pps_systematic(frame, size="size", n=wanted, seed=seed, stratum="district")
    except AnalysisError as exc:
        raise InvalidInput(f"抽样失败：{exc}") from None
    picked = out[out["selected"]]
    return [
        DrawnUnit(
            int(r.district), int(r.community), float(r.size), float(r.prob), bool(r.certainty)
        )
        for r in picked.itertuples(index=False)
    ]


def create_plan(actor: User, req: PlanRequest) -> SamplePlan:
    """Check the request, read the frame, draw and store the plan (flushed, not committed)."""
    region = sample_plans.check_request(actor, req)
    units = sample_plans.frame(region, req.sizes)
    return sample_plans.store_plan(actor, req, units, draw(units, req.units_per_district, req.seed))
