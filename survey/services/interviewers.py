"""Interviewers (访问员) of mock assessments: accounts, assignments and their scope.

An interviewer is a staff account with role ``interviewer`` and a region. City admins and
district officers create them within their own scope (an officer only below their region)
and assign them to drawn communities of a plan inside the interviewer's region. An
interviewer sees nothing of the staff area: only the field form of their assignments, and
they may store interviews and contact attempts only there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from survey.errors import Forbidden
from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import InterviewerAssignment
from survey.models import PlanUnit
from survey.models import Region
from survey.models import SamplePlan
from survey.models import User
from survey.services import access
from survey.services import audit
from survey.services import users

#: Audit actions of this module (Chinese names for the audit page).
ACTION_NAMES: dict[str, str] = {"interviewer_assign": "分配访问员"}


def create_interviewer(
    actor: User, username: str, password: str, region_id: int | None, display_name: str = ""
) -> User:
    """A new interviewer account in a region of the actor's scope (officers: their own)."""
    access.require_write(actor)
    region = access.region_in_scope(actor, region_id)
    return users.create_user(
        username, password, "interviewer", region=region, display_name=display_name, actor=actor
    )


def interviewers_visible(actor: User) -> list[User]:
    """Interviewer accounts whose region lies in the actor's scope, by username."""
    rows = db.session.execute(
        db.select(User)
        .join(Region, User.region_id == Region.id)
        .where(User.role == "interviewer", access.region_condition(actor))
        .order_by(User.username)
    ).scalars()
    return list(rows)


def assign(actor: User, plan: SamplePlan, unit_id: int, interviewer_id: int, target: int) -> None:
    """Give ``interviewer_id`` ``target`` interviews in drawn unit ``unit_id`` of ``plan``."""
    access.require_write(actor)
    unit = db.session.get(PlanUnit, unit_id)
    if unit is None or unit.plan_id != plan.id:
        raise NotFound("抽中社区不存在。")
    person = db.session.get(User, interviewer_id)
    if person is None or person.role != "interviewer" or person.region is None:
        raise NotFound("访问员不存在。")
    if not access.can_see_region(actor, person.region):
        raise NotFound("访问员不存在或不在您的管辖范围内。")
    if not unit.community.is_within(person.region):
        raise InvalidInput(f"访问员 {person.username} 的所属区域不包含{unit.community.name}。")
    if not 0 < target <= 10_000:
        raise InvalidInput("分配的访问数须为正整数。")
    found = db.session.execute(
        db.select(InterviewerAssignment).where(
            InterviewerAssignment.unit_id == unit.id,
            InterviewerAssignment.interviewer_id == person.id,
        )
    ).scalar_one_or_none()
    if found is None:
        db.session.add(
            InterviewerAssignment(unit_id=unit.id, interviewer_id=person.id, target=target)
        )
    else:
        found.target = target
    db.session.flush()
    audit.record(
        actor,
        "interviewer_assign",
        "plan_unit",
        unit.id,
        interviewer=person.username,
        target=target,
    )


@dataclass(frozen=True)
class Assignment:
    """One drawn community an interviewer works in, as the field form shows it."""

    unit_id: int
    plan_id: int
    plan_name: str
    community: str
    district: str
    target: int
    mode: str


def assignments_of(interviewer: User, plan_id: int | None = None) -> list[Assignment]:
    """The interviewer's assignments (of one plan, or all), by plan and community."""
    query = (
        db.select(InterviewerAssignment, PlanUnit, SamplePlan)
        .join(PlanUnit, InterviewerAssignment.unit_id == PlanUnit.id)
        .join(SamplePlan, PlanUnit.plan_id == SamplePlan.id)
        .where(InterviewerAssignment.interviewer_id == interviewer.id)
        .order_by(SamplePlan.id, PlanUnit.id)
    )
    if plan_id is not None:
        query = query.where(SamplePlan.id == plan_id)
    out = []
    for a, unit, plan in db.session.execute(query).all():
        out.append(
            Assignment(
                unit_id=unit.id,
                plan_id=plan.id,
                plan_name=plan.name,
                community=unit.community.name,
                district=unit.district.name,
                target=a.target,
                mode=plan.mode,
            )
        )
    return out


def require_interviewer(user: User) -> None:
    """403 unless ``user`` is an interviewer (the field form is theirs alone)."""
    if getattr(user, "role", None) != "interviewer":
        raise Forbidden("此页面仅供访问员使用。")


def assigned_units(interviewer: User, unit_ids: Sequence[int]) -> dict[int, PlanUnit]:
    """The units among ``unit_ids`` assigned to ``interviewer``; 403 naming none otherwise."""
    wanted = set(unit_ids)
    rows = db.session.execute(
        db.select(PlanUnit)
        .join(InterviewerAssignment, InterviewerAssignment.unit_id == PlanUnit.id)
        .where(InterviewerAssignment.interviewer_id == interviewer.id, PlanUnit.id.in_(wanted))
    ).scalars()
    found = {u.id: u for u in rows}
    if set(found) != wanted:
        raise Forbidden("包含未分配给您的社区，未保存任何记录。")
    return found
