"""What a mock assessment's figures are computed from, read from the database as frames.

Interviews: the plan's responses (through their contact attempts) with the design columns
(district, community, p), demographics, metrics, interviewer, time and flags. Contact
attempts: every record's final disposition. The QR responses of the plan's period and region,
for the comparison. Population counts of the plan's districts.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from questionnaires import Definition
from survey.extensions import db
from survey.models import Answer
from survey.models import ContactAttempt
from survey.models import PlanUnit
from survey.models import PopulationCount
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response
from survey.models import ResponseFlag
from survey.models import SamplePlan
from survey.models.integrity import REVIEW_NAMES
from survey.services.integrity.catalogue import explain
from survey.services.integrity.catalogue import name_of
from survey.timeutil import CST

METRICS = ("awareness", "participation", "satisfaction", "satisfaction_score")


def interviews(plan: SamplePlan) -> pd.DataFrame:
    """One row per interview of the plan (flagged ones included, ``excluded`` marks them)."""
    rows = db.session.execute(
        db.select(
            Response.id,
            PlanUnit.district_id,
            PlanUnit.community_id,
            PlanUnit.probability,
            PlanUnit.interviews,
            PlanUnit.size,
            Response.age_group,
            Response.sex,
            *(getattr(Response, m) for m in METRICS),
            ContactAttempt.interviewer_id,
            ContactAttempt.disposition,
            Response.submitted_at,
            Response.duration_seconds,
            Response.flags,
        )
        .join(ContactAttempt, ContactAttempt.response_id == Response.id)
        .join(PlanUnit, PlanUnit.id == ContactAttempt.unit_id)
        .where(PlanUnit.plan_id == plan.id)
        .order_by(Response.submitted_at, Response.id)
    ).all()
    columns = [
        "response_id", "district", "community", "probability", "planned", "size",
        "age_group", "sex", *METRICS, "interviewer", "disposition", "submitted_at",
        "duration", "flags",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    frame["p"] = frame["probability"] * frame["planned"] / frame["size"]
    frame["excluded"] = (frame["flags"].astype("int64") & int(QualityFlag.EXCLUDED)) != 0
    frame["straight"] = (frame["flags"].astype("int64") & int(QualityFlag.STRAIGHT_LINE)) != 0
    stamps = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["day"] = stamps.dt.tz_convert(CST).dt.date
    return frame


def attempts(plan: SamplePlan) -> pd.DataFrame:
    """One row per contact record of the plan: district, interviewer, disposition, day."""
    rows = db.session.execute(
        db.select(
            PlanUnit.district_id,
            ContactAttempt.unit_id,
            ContactAttempt.interviewer_id,
            ContactAttempt.disposition,
            ContactAttempt.mode,
            ContactAttempt.attempted_at,
        )
        .join(PlanUnit, PlanUnit.id == ContactAttempt.unit_id)
        .where(PlanUnit.plan_id == plan.id)
    ).all()
    frame = pd.DataFrame(
        rows, columns=["district", "unit", "interviewer", "disposition", "mode", "attempted_at"]
    )
    stamps = pd.to_datetime(frame["attempted_at"], utc=True)
    frame["day"] = stamps.dt.tz_convert(CST).dt.date
    return frame


def non_substantive_shares(frame: pd.DataFrame, defn: Definition) -> pd.Series:
    """Per interview: share of its choice answers that are 不了解/说不清 (non-substantive)."""
    odd = {(q.key, o.value) for q in defn.questions for o in q.options if not o.substantive}
    ids = [int(i) for i in frame["response_id"]]
    if not ids:
        return pd.Series(dtype=float)
    rows = db.session.execute(
        db.select(Answer.response_id, Answer.question_key, Answer.value).where(
            Answer.response_id.in_(ids), Answer.value.is_not(None)
        )
    ).all()
    answers = pd.DataFrame(rows, columns=["response_id", "key", "value"])
    answers["odd"] = [(k, v) in odd for k, v in zip(answers["key"], answers["value"], strict=True)]
    return answers.groupby("response_id")["odd"].mean()


def population(plan: SamplePlan, *, by_district: bool = False) -> pd.DataFrame:
    """Population of the plan's districts by age group × sex (× district)."""
    districts = [s.district_id for s in plan.strata]
    rows = db.session.execute(
        db.select(
            PopulationCount.region_id,
            PopulationCount.age_group,
            PopulationCount.sex,
            PopulationCount.count,
        ).where(PopulationCount.region_id.in_(districts))
    ).all()
    frame = pd.DataFrame(rows, columns=["district", "age_group", "sex", "N"])
    if by_district:
        return frame.sort_values(["district", "age_group", "sex"]).reset_index(drop=True)
    return frame.groupby(["age_group", "sex"], as_index=False)["N"].sum()


def qr_responses(plan: SamplePlan, questionnaire_id: int) -> pd.DataFrame:
    """QR responses of the plan's questionnaire, period (local days) and region, counted in
    estimates (not excluded), with a district, age group and sex."""
    start = dt.datetime.combine(plan.starts_on, dt.time(), CST)
    end = dt.datetime.combine(plan.ends_on + dt.timedelta(days=1), dt.time(), CST)
    rows = db.session.execute(
        db.select(
            Response.district_id,
            Response.point_id,
            Response.age_group,
            Response.sex,
            *(getattr(Response, m) for m in METRICS),
        )
        .join(Region, Region.id == Response.region_id)
        .where(
            Response.questionnaire_id == questionnaire_id,
            Response.source == "qr",
            Response.submitted_at >= start,
            Response.submitted_at < end,
            Region.path.startswith(plan.region.path),
            Response.flags.op("&")(int(QualityFlag.EXCLUDED)) == 0,
            Response.district_id.is_not(None),
            Response.age_group.is_not(None),
            Response.sex.is_not(None),
        )
    ).all()
    return pd.DataFrame(rows, columns=["district", "point", "age_group", "sex", *METRICS])


def field_flags(plan: SamplePlan) -> list[dict[str, object]]:
    """The plan's curbstoning flags with their sentence and review, newest interview first."""
    rows = db.session.execute(
        db.select(ResponseFlag, Response.submitted_at, ContactAttempt.interviewer_id)
        .join(ContactAttempt, ContactAttempt.response_id == ResponseFlag.response_id)
        .join(Response, Response.id == ResponseFlag.response_id)
        .join(PlanUnit, PlanUnit.id == ContactAttempt.unit_id)
        .where(PlanUnit.plan_id == plan.id, ResponseFlag.code.like("FIELD_%"))
        .order_by(Response.submitted_at.desc(), ResponseFlag.id)
    ).all()
    return [
        {
            "id": f.id,
            "response_id": f.response_id,
            "code": f.code,
            "name": name_of(f.code),
            "sentence": explain(f.code, f.evidence),
            "status": f.status,
            "status_name": REVIEW_NAMES.get(f.status, f.status),
            "submitted_at": at,
            "interviewer": who,
        }
        for f, at, who in rows
    ]
