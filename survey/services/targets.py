"""Targets per questionnaire and metric, set by the city admin and audit-logged.

A target is a threshold the metric must reach (direction >=): a rate in [0, 1] for awareness,
participation and satisfaction, a score in [0, 100] for the satisfaction score. Never a
constant in code: the dashboard reads them from here.
"""

from __future__ import annotations

from survey.errors import Forbidden
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import TARGET_METRICS
from survey.models import Questionnaire
from survey.models import Target
from survey.models import User
from survey.models.base import utcnow
from survey.services import audit

#: Audit actions of this module (Chinese names for the audit page).
ACTION_NAMES: dict[str, str] = {"target_set": "设置目标值", "target_clear": "删除目标值"}


class TargetError(InvalidInput):
    """An invalid target (unknown questionnaire or metric, threshold out of range)."""


def _require_city_admin(actor: User | None) -> None:
    if actor is not None and actor.role != "city_admin":
        raise Forbidden("只有市级管理员可以设置目标值。")


def get_targets(questionnaire_id: int) -> dict[str, Target]:
    """The targets of a questionnaire by metric."""
    rows = db.session.execute(
        db.select(Target).where(Target.questionnaire_id == questionnaire_id)
    ).scalars()
    return {t.metric: t for t in rows}


def set_target(
    questionnaire_id: int,
    metric: str,
    threshold: float,
    actor: User | None = None,
    *,
    note: str = "",
) -> Target:
    """Create or change a target; audit-logged with the old and new value (and ``note``,
    e.g. that it is a demo value). Flushes only."""
    _require_city_admin(actor)
    if metric not in TARGET_METRICS:
        raise TargetError(f"未知的指标：{metric}")
    low, high = TARGET_METRICS[metric]
    value = float(threshold)
    if not low <= value <= high:
        scale = "0 到 1 之间的比例（如 0.9 表示 90%）" if high == 1.0 else "0 到 100 之间的分数"
        raise TargetError(f"目标值应为{scale}，收到 {threshold}")
    if db.session.get(Questionnaire, questionnaire_id) is None:
        raise TargetError(f"问卷 {questionnaire_id} 不存在")
    target = get_targets(questionnaire_id).get(metric)
    old = None if target is None else target.threshold
    if target is None:
        target = Target(questionnaire_id=questionnaire_id, metric=metric, threshold=value)
        db.session.add(target)
    target.threshold = value
    target.updated_by_id = actor.id if actor is not None else None
    target.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "target_set",
        "target",
        target.id,
        questionnaire_id=questionnaire_id,
        metric=metric,
        old=old,
        new=value,
        **({"note": note} if note else {}),
    )
    return target


def clear_target(questionnaire_id: int, metric: str, actor: User | None = None) -> bool:
    """Remove a target; True when there was one. Audit-logged. Flushes only."""
    _require_city_admin(actor)
    target = get_targets(questionnaire_id).get(metric)
    if target is None:
        return False
    old = target.threshold
    db.session.delete(target)
    db.session.flush()
    audit.record(
        actor,
        "target_clear",
        "target",
        None,
        questionnaire_id=questionnaire_id,
        metric=metric,
        old=old,
    )
    return True
