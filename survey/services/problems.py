"""The rectification ledger (整改台账): create, change, list and export problems, in scope.

Only staff who may write (city admins, district officers) and whose scope contains the
problem's area create or change a problem; a problem outside the user's scope is reported as
missing (404), never as forbidden, so its existence does not leak. Every creation and change
is audit-logged with what changed. Evidence is stored as JSON with example comments masked
(:func:`questionnaires.mask_personal`) before they are written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from questionnaires import mask_personal
from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import PROBLEM_KINDS
from survey.models import PROBLEM_STATUSES
from survey.models import Problem
from survey.models import Questionnaire
from survey.models import Region
from survey.models import User
from survey.models.base import utcnow
from survey.services import access
from survey.services import audit

#: Longest title, unit and basis accepted.
MAX_TITLE, MAX_UNIT, MAX_BASIS = 200, 200, 2000
#: Example comments kept in a problem's evidence.
MAX_EXAMPLES = 5


class ProblemError(InvalidInput):
    """A problem form value is invalid."""


@dataclass(frozen=True)
class ProblemInput:
    """What a new problem is made of (from the 问题清单 page or the API)."""

    questionnaire_id: int
    region_id: int | None
    kind: str
    title: str
    unit: str
    deadline: dt.date | None
    basis: str = ""
    item: str | None = None
    topic: str | None = None
    evidence: Mapping[str, Any] | None = None


def _clean(text: str | None, limit: int, name: str, required: bool = True) -> str:
    value = (text or "").strip()
    if required and not value:
        raise ProblemError(f"请填写{name}。")
    if len(value) > limit:
        raise ProblemError(f"{name}不能超过 {limit} 个字。")
    return value


_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


def _key(value: str | None, name: str) -> str | None:
    """A question or topic key (ASCII, as the questionnaire and the lexicon write them)."""
    if not value:
        return None
    if not _KEY.match(value):
        raise ProblemError(f"{name}无效。")
    return value


def _evidence(raw: Mapping[str, Any] | None) -> str:
    """Evidence as JSON, example comments masked and capped."""
    data = dict(raw or {})
    examples = [mask_personal(str(e))[:300] for e in list(data.get("examples") or [])]
    data["examples"] = examples[:MAX_EXAMPLES]
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def create_problem(user: User, data: ProblemInput) -> Problem:
    """A new problem (status 待整改); 404 outside the user's scope, 403 for viewers."""
    access.require_write(user)
    region = access.region_in_scope(user, data.region_id)
    if db.session.get(Questionnaire, data.questionnaire_id) is None:
        raise NotFound("问卷不存在。")
    if data.kind not in PROBLEM_KINDS:
        raise ProblemError("问题来源无效。")
    if data.deadline is None:
        raise ProblemError("请填写整改时限（日期）。")
    problem = Problem(
        questionnaire_id=data.questionnaire_id,
        region_id=region.id,
        kind=data.kind,
        item=_key(data.item, "题目"),
        topic=_key(data.topic, "主题"),
        title=_clean(data.title, MAX_TITLE, "问题"),
        basis=mask_personal(_clean(data.basis, MAX_BASIS, "依据", required=False)),
        evidence=_evidence(data.evidence),
        unit=_clean(data.unit, MAX_UNIT, "责任单位"),
        deadline=data.deadline,
        status="open",
        created_by_id=user.id,
    )
    db.session.add(problem)
    db.session.flush()
    audit.record(
        user,
        "problem_create",
        "problem",
        problem.id,
        region=region.code,
        title=problem.title,
        unit=problem.unit,
        deadline=problem.deadline,
    )
    return problem


def problem_in_scope(user: User, problem_id: int) -> Problem:
    """The problem if the user may see it, else 404."""
    problem = db.session.get(Problem, problem_id)
    if problem is None or not access.can_see_region(user, problem.region):
        raise NotFound("问题不存在或不在您的管辖范围内。")
    return problem


def update_problem(
    user: User,
    problem_id: int,
    *,
    status: str | None = None,
    unit: str | None = None,
    deadline: dt.date | None = None,
    title: str | None = None,
) -> Problem:
    """Change a problem's status, unit, deadline or title; audit-logs what changed."""
    problem = problem_in_scope(user, problem_id)
    access.require_write(user)
    changes: dict[str, tuple[Any, Any]] = {}
    if status is not None and status != problem.status:
        if status not in PROBLEM_STATUSES:
            raise ProblemError("状态无效。")
        changes["status"] = (problem.status, status)
    if unit is not None and unit.strip() != problem.unit:
        changes["unit"] = (problem.unit, _clean(unit, MAX_UNIT, "责任单位"))
    if deadline is not None and deadline != problem.deadline:
        changes["deadline"] = (problem.deadline, deadline)
    if title is not None and title.strip() != problem.title:
        changes["title"] = (problem.title, _clean(title, MAX_TITLE, "问题"))
    if not changes:
        return problem
    for name, (_, new) in changes.items():
        setattr(problem, name, new)
    problem.updated_at = utcnow()
    db.session.flush()
    audit.record(
        user,
        "problem_update",
        "problem",
        problem.id,
        **{name: {"from": old, "to": new} for name, (old, new) in changes.items()},
    )
    return problem


def list_problems(
    user: User, questionnaire_id: int | None = None, status: str | None = None
) -> Sequence[Problem]:
    """Problems in the user's scope, open ones first, then by deadline."""
    query = db.select(Problem).join(Region, Region.id == Problem.region_id)
    query = query.where(access.region_condition(user))
    if questionnaire_id is not None:
        query = query.where(Problem.questionnaire_id == questionnaire_id)
    if status:
        query = query.where(Problem.status == status)
    order = db.case({k: i for i, k in enumerate(PROBLEM_STATUSES)}, value=Problem.status)
    return db.session.execute(query.order_by(order, Problem.deadline, Problem.id)).scalars().all()


def evidence_of(problem: Problem) -> dict[str, Any]:
    """The stored evidence (empty when unreadable)."""
    try:
        data = json.loads(problem.evidence or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_deadline(raw: str | None) -> dt.date | None:
    """A date from a form (YYYY-MM-DD), else a Chinese error."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ProblemError("整改时限须为日期（YYYY-MM-DD）。") from None
