"""What the quality page says after a review decision (two-person rule included)."""

from __future__ import annotations

from survey.models.integrity import CLEAR_PROPOSED
from survey.models.integrity import CLEAR_PROPOSED_NAME
from survey.models.integrity import REVIEW_NAMES
from survey.services.integrity.review import ReviewOutcome

#: The status filter of the flag lists: review statuses and pending proposals.
STATUS_CHOICES: dict[str, str] = {**REVIEW_NAMES, CLEAR_PROPOSED: CLEAR_PROPOSED_NAME}


def review_message(decision: str, outcome: ReviewOutcome) -> str:
    """The flash message for a decision's outcome, in Chinese."""
    if decision == "reject":
        return f"已驳回 {outcome.rejected} 条排除申请，相关答卷仍不计入估计。"
    verb = "确认异常" if decision == "confirm" else "排除嫌疑"
    text = f"已{verb} {outcome.changed} 条标记。"
    if outcome.proposed:
        text += (
            f"另有 {outcome.proposed} 条强标记或已确认的标记需市级管理员确认后才能排除，"
            "已提交申请；确认前相关答卷仍不计入估计。"
        )
    return text
