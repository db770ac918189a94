"""The demo's mock assessment: one completed 模拟测评 for the last full week.

A plan over the demo city (2 communities per district by PPS, seed 20261130, 15 door-to-door
interviews each), five interviewers (iv01-iv05) and their records: interviews, refusals and
non-contacts, stored through the same service as a device's sync. Interviewer iv04 makes
half of their interviews up (the same answers, two minutes each, one after another on a
bench), so the quality figures and the curbstoning flags have something to show. Sign in as an
interviewer after ``survey user set-password iv01``.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import uuid

from questionnaires import OTHER_VALUE
from survey.demo import AGE_GROUPS
from survey.demo import SEXES
from survey.demo import _answers
from survey.demo import _plans
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import SamplePlan
from survey.models import User
from survey.reporting.sample_draw import create_plan
from survey.services import field_sync
from survey.services import interviewers
from survey.services.field_sync import FieldRecord
from survey.services.questionnaires import definition_of
from survey.services.sample_plans import PlanRequest
from survey.timeutil import CST

#: Interviewer, home region code and the district whose communities they work in.
INTERVIEWERS = (
    ("iv01", "访问员甲", "999901"),
    ("iv02", "访问员乙", "999902"),
    ("iv03", "访问员丙", "999903"),
    ("iv04", "访问员丁", "999904"),
    ("iv05", "访问员戊", "999901"),
)


def community_sizes() -> dict[str, float]:
    """Demo measures of size (residents) per community, from a fixed seed."""
    rng = random.Random(2026)
    codes = db.session.execute(
        db.select(Region.code).where(Region.level == "community").order_by(Region.code)
    ).scalars()
    return {code: float(rng.randrange(1500, 9000, 10)) for code in codes}


def ensure_demo_mock(actor: User, today: dt.date | None = None) -> SamplePlan | None:
    """Create the demo mock assessment unless a plan exists (flushes, does not commit)."""
    if db.session.execute(db.select(SamplePlan.id)).first() is not None:
        return None
    version = (
        db.session.execute(db.select(QuestionnaireVersion).order_by(QuestionnaireVersion.id))
        .scalars()
        .first()
    )
    city = db.session.execute(db.select(Region).where(Region.code == "999900")).scalar_one_or_none()
    if version is None or city is None:
        return None
    today = today or dt.datetime.now(CST).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    plan = create_plan(
        actor,
        PlanRequest(
            name=f"{monday:%m月%d日}当周模拟测评（演示）",
            version_id=version.id,
            region_id=city.id,
            starts_on=monday,
            ends_on=monday + dt.timedelta(days=6),
            seed=20261130,
            units_per_district=2,
            interviews_per_unit=15,
            sizes=community_sizes(),
        ),
    )
    people = _interviewers(actor, plan)
    _fieldwork(plan, people, version, monday)
    return plan


def _interviewers(actor: User, plan: SamplePlan) -> dict[int, User]:
    """Accounts iv01-iv05 and their assignments: unit id -> interviewer."""
    regions = {r.code: r for r in db.session.execute(db.select(Region)).scalars()}
    by_unit: dict[int, User] = {}
    for username, name, code in INTERVIEWERS:
        person = interviewers.create_interviewer(
            actor, username, secrets.token_urlsafe(16), regions[code].id, name
        )
        units = [u for u in plan.units if u.district_id == regions[code].id]
        if code == "999901":  # two interviewers share 临江区: one community each
            units = units[:1] if username == "iv01" else units[1:]
        for unit in units:
            interviewers.assign(actor, plan, unit.id, person.id, plan.interviews_per_unit)
            by_unit[unit.id] = person
    return by_unit


def _fieldwork(
    plan: SamplePlan, people: dict[int, User], version: QuestionnaireVersion, monday: dt.date
) -> None:
    """Each unit's contacts over the week, stored as a device's sync would store them."""
    defn = definition_of(version)
    plans = _plans(defn)
    rng = random.Random(plan.seed)
    for unit in plan.units:
        person = people.get(unit.id)
        if person is None:
            continue
        sloppy = person.username == "iv04"
        base = rng.gauss(0, 0.5)
        street = unit.community.parent.code if unit.community.parent else None
        records = []
        done = 0
        copied: dict[str, object] | None = None
        run_start = dt.datetime.combine(monday + dt.timedelta(days=5), dt.time(15), CST)
        while done < unit.interviews:
            day = monday + dt.timedelta(days=rng.randrange(0, 7))
            start = dt.datetime.combine(day, dt.time(9), CST) + dt.timedelta(
                minutes=rng.randrange(0, 600)
            )
            outcome = rng.random()
            if outcome < 0.15:
                records.append(_record(unit.id, "non_contact", start, start))
                continue
            if outcome < 0.25:
                records.append(_record(unit.id, "refusal", start, start))
                continue
            person_draw = (rng.choice(AGE_GROUPS), rng.choice(SEXES), street)
            answers = _answers(rng, defn, plans, base, 0.0, person_draw)
            minutes = rng.uniform(8, 20)
            if sloppy and done % 2 == 0:
                # made up on a bench: the same answers, a few minutes each, one after another
                copied = copied or answers
                answers = dict(copied)
                start = run_start + dt.timedelta(minutes=3 * done)
                minutes = rng.uniform(1.5, 2.5)
            end = start + dt.timedelta(minutes=minutes)
            records.append(_record(unit.id, "complete", start, end, answers))
            done += 1
        contexts = field_sync.contexts(person, [unit.id])
        field_sync.store(person, records, contexts)


def _record(
    unit_id: int,
    disposition: str,
    start: dt.datetime,
    end: dt.datetime,
    answers: dict[str, object] | None = None,
) -> FieldRecord:
    record = FieldRecord(
        str(uuid.uuid4()), unit_id, "door_to_door", disposition, start.astimezone(dt.UTC),
        end.astimezone(dt.UTC),
    )  # fmt: skip
    record.answers = dict(answers or {})
    record.others = {
        k: "社区读书会"
        for k, v in record.answers.items()
        if v == OTHER_VALUE or (isinstance(v, list) and OTHER_VALUE in v)
    }
    return record
