"""A drawn mock assessment on the demo city: plan, two interviewers and their assignments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import put_state
from tests.survey.admin.conftest import PASSWORD
from tests.survey.admin.conftest import AuthActions
from tests.survey.admin.conftest import create_staff_accounts


def community_sizes() -> dict[str, float]:
    """A size for each of the demo city's 24 communities (codes 9999DDSSSCCC)."""
    from survey.extensions import db
    from survey.models import Region

    codes = db.session.execute(
        db.select(Region.code).where(Region.level == "community").order_by(Region.code)
    ).scalars()
    return {code: float(800 + (i * 337) % 2900) for i, code in enumerate(codes)}


def create_fieldwork() -> None:
    """Plan 'mock' over the whole city (2 communities per district, 10 interviews each);
    interviewer iv_linjiang (临江区) and iv_qingshan (青山区) assigned to their districts'
    drawn communities."""
    from survey.extensions import db
    from survey.models import QuestionnaireVersion
    from survey.models import Region
    from survey.models import User
    from survey.reporting.sample_draw import create_plan
    from survey.services import interviewers
    from survey.services.sample_plans import PlanRequest

    regions = {r.code: r for r in db.session.execute(db.select(Region)).scalars()}
    city = db.session.execute(db.select(User).where(User.username == "city")).scalar_one()
    version = db.session.execute(db.select(QuestionnaireVersion)).scalars().first()
    assert version is not None
    plan = create_plan(
        city,
        PlanRequest(
            name="测试模拟测评",
            version_id=version.id,
            region_id=regions["999900"].id,
            starts_on=dt.date(2026, 11, 30),
            ends_on=dt.date(2026, 12, 6),
            seed=20261130,
            units_per_district=2,
            interviews_per_unit=10,
            sizes=community_sizes(),
        ),
    )
    for name, code in (("iv_linjiang", "999901"), ("iv_qingshan", "999902")):
        person = interviewers.create_interviewer(city, name, PASSWORD, regions[code].id)
        for unit in plan.units:
            if unit.district_id == regions[code].id:
                interviewers.assign(city, plan, unit.id, person.id, 10)


@dataclass(frozen=True)
class Fieldwork:
    """Ids the tests need."""

    plan_id: int
    units: dict[str, list[int]]  # interviewer -> assigned unit ids


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def staff(seeded: Flask, request: pytest.FixtureRequest) -> Flask:
    """The staff area's accounts (see tests/survey/admin/conftest.py)."""
    put_state(request, seeded, "staff", "seeded", create_staff_accounts)
    return seeded


@pytest.fixture
def fieldwork(staff: Flask, request: pytest.FixtureRequest) -> Fieldwork:
    put_state(request, staff, "fieldwork", "staff", create_fieldwork)
    from survey.extensions import db
    from survey.models import InterviewerAssignment
    from survey.models import SamplePlan
    from survey.models import User

    with staff.app_context():
        plan = db.session.execute(db.select(SamplePlan)).scalar_one()
        units: dict[str, list[int]] = {}
        rows = db.session.execute(
            db.select(User.username, InterviewerAssignment.unit_id)
            .join(User, User.id == InterviewerAssignment.interviewer_id)
            .order_by(InterviewerAssignment.unit_id)
        ).all()
        for name, unit_id in rows:
            units.setdefault(name, []).append(unit_id)
        return Fieldwork(plan.id, units)


def record(unit_id: int, disposition: str = "complete", **extra: Any) -> dict[str, Any]:
    """One queued record as the device sends it (a complete interview by default)."""
    import uuid

    from tests.survey.public.conftest import valid_answers

    now = dt.datetime.now(dt.UTC)
    out: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "unit_id": unit_id,
        "mode": "door_to_door",
        "disposition": disposition,
        "started_at": (now - dt.timedelta(minutes=9)).isoformat(),
        "finished_at": now.isoformat(),
        "answers": [],
    }
    if disposition in ("complete", "partial"):
        pairs = []
        for key, value in valid_answers("999901001").items():
            for v in value if isinstance(value, list) else [value]:
                pairs.append([key, v])
        out["answers"] = pairs
    out.update(extra)
    return out
