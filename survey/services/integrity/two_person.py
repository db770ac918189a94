"""The two-person rule for clearing flags (issue 23).

A district officer's work is judged by the district's rates, so the officer must not decide
alone which of its responses count. Clearing a flag that keeps its response out of
estimates (a strong flag, or any confirmed flag) therefore takes a city-level reviewer:

- a city admin clears such a flag directly;
- a district officer's "clear" only records a *proposal* on the flag (who, when); the flag
  keeps its status, so the response stays excluded;
- a city admin other than the proposer then confirms the proposal (the flag is cleared, the
  audit entry names both people) or rejects it (the proposal is dropped, audit-logged).

Weak flags that are not confirmed do not exclude a response; an officer clears them alone,
as before. Confirming a flag (saying the response is not genuine) is never held back; it
drops a pending proposal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from survey.errors import Forbidden
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import ResponseFlag
from survey.models import User
from survey.services import access
from survey.services import audit


def excludes(flag: ResponseFlag) -> bool:
    """True when ``flag`` (not cleared) keeps its response out of estimates."""
    return flag.status != "cleared" and (flag.strength == "strong" or flag.status == "confirmed")


def may_clear_alone(user: User) -> bool:
    """True for a city-level reviewer (a city admin)."""
    return access.is_city_admin(user)


def split_clear(
    user: User, flags: Sequence[ResponseFlag]
) -> tuple[list[ResponseFlag], list[ResponseFlag]]:
    """Flags ``user`` may clear now, and flags whose clearing only becomes a proposal."""
    if may_clear_alone(user):
        return list(flags), []
    return [f for f in flags if not excludes(f)], [f for f in flags if excludes(f)]


def propose(user: User, flags: Sequence[ResponseFlag], now: dt.datetime) -> int:
    """Record ``user``'s proposal to clear ``flags``; return how many are newly proposed.

    The flags keep their status (their responses stay excluded). Flushes; audit-logged.
    """
    new = [f for f in flags if f.clear_proposed_by_id != user.id]
    for f in new:
        f.clear_proposed_by_id = user.id
        f.clear_proposed_at = now
    db.session.flush()
    if new:
        audit.record(
            user,
            "flag_propose_clear",
            "response_flag",
            new[0].id if len(new) == 1 else None,
            count=len(new),
            codes=sorted({f.code for f in new}),
            flags=sorted(f.id for f in new),
            responses=sorted({f.response_id for f in new}),
        )
    return len(new)


def proposals_of(flags: Sequence[ResponseFlag]) -> dict[str, list[int]]:
    """Pending proposals among ``flags``: proposer's username -> their flag ids."""
    out: dict[str, list[int]] = {}
    for f in flags:
        if f.clear_proposed_by_id is not None and f.status != "cleared":
            proposer = db.session.get(User, f.clear_proposed_by_id)
            name = proposer.username if proposer is not None else f"#{f.clear_proposed_by_id}"
            out.setdefault(name, []).append(f.id)
    return out


def require_other_reviewer(user: User, flags: Sequence[ResponseFlag]) -> None:
    """Refuse a city admin confirming a proposal they made themselves (a role changed)."""
    if any(f.clear_proposed_by_id == user.id and f.status != "cleared" for f in flags):
        raise Forbidden("排除申请须由申请人以外的市级管理员确认。")


def drop_proposals(flags: Sequence[ResponseFlag]) -> None:
    """Forget the pending proposals of ``flags`` (they were confirmed as not genuine)."""
    for f in flags:
        f.clear_proposed_by_id = None
        f.clear_proposed_at = None


def reject(user: User, flags: Sequence[ResponseFlag]) -> int:
    """A city admin rejects the pending proposals among ``flags``; return how many.

    Raises ``Forbidden`` for anyone but a city admin. Flushes; audit-logged with the
    proposers.
    """
    if not may_clear_alone(user):
        raise Forbidden("只有市级管理员可以驳回排除申请。")
    pending = [f for f in flags if f.clear_proposed_by_id is not None and f.status != "cleared"]
    if not pending:
        raise InvalidInput("所选标记没有待确认的排除申请。")
    proposers = proposals_of(pending)
    drop_proposals(pending)
    db.session.flush()
    audit.record(
        user,
        "flag_reject_clear",
        "response_flag",
        pending[0].id if len(pending) == 1 else None,
        count=len(pending),
        proposed_by=proposers,
        responses=sorted({f.response_id for f in pending}),
    )
    return len(pending)
