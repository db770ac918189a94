"""Reviewing flags: staff with write access confirm or clear them; every decision is logged.

Confirming a flag says "this response is not genuine": the response is excluded from
estimates whatever the flag's strength. Clearing it says "this is a real resident": the flag
no longer counts (its bit goes) and, when no other strong or confirmed flag remains, the
response counts again. Rows are never deleted, a decision can be changed again, and every
decision is audit-logged with every flag and response it touched (no cap). Clearing a flag
that excludes its response needs a city-level reviewer (``two_person``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy import update

from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import QualityFlag
from survey.models import Response
from survey.models import ResponseFlag
from survey.models import User
from survey.models.base import utcnow
from survey.services import access
from survey.services import audit
from survey.services.integrity import catalogue
from survey.services.integrity import two_person
from survey.services.integrity.catalogue import STRONG_ON_STORE
from survey.services.responses import lock_for_write

DECISIONS: dict[str, str] = {"confirm": "confirmed", "clear": "cleared"}
#: A city admin's decision on officers' proposals to clear (``two_person``).
REJECT = "reject"
#: Most flags one decision may touch (a page of them).
MAX_FLAGS = 1000


@dataclass(frozen=True)
class ReviewOutcome:
    """What one decision did: flags changed, clearings proposed, proposals rejected."""

    changed: int
    proposed: int = 0
    rejected: int = 0


def review(user: User, flag_ids: Sequence[int], decision: str) -> int:
    """Confirm or clear the flags ``flag_ids`` (in the user's scope); return how many changed
    (a clearing only proposed under the two-person rule counts too). See :func:`decide`."""
    outcome = decide(user, flag_ids, decision)
    return outcome.changed + outcome.proposed + outcome.rejected


def decide(user: User, flag_ids: Sequence[int], decision: str) -> ReviewOutcome:
    """Confirm, clear or (city admins) reject proposals to clear the flags ``flag_ids``.

    Clearing a flag that excludes its response is only a proposal unless ``user`` is a city
    admin (``two_person``). Raises ``InvalidInput`` for an unknown decision or no flags,
    ``NotFound`` when a flag is missing or outside the user's scope, ``Forbidden`` for a
    rejection by anyone but a city admin (nothing is changed then). Flushes; audit-logged.
    """
    if decision not in DECISIONS and decision != REJECT:
        raise InvalidInput("未知的复核结论。")
    ids = sorted(set(flag_ids))
    if not ids:
        raise InvalidInput("请选择要复核的标记。")
    if len(ids) > MAX_FLAGS:
        raise InvalidInput(f"一次最多复核 {MAX_FLAGS} 条标记。")
    access.require_write(user)
    lock_for_write()
    flags = list(db.session.execute(select(ResponseFlag).where(ResponseFlag.id.in_(ids))).scalars())
    if len(flags) != len(ids):
        raise NotFound("标记不存在。")
    _check_scope(user, flags)
    if decision == REJECT:
        return ReviewOutcome(0, rejected=two_person.reject(user, flags))
    proposed = 0
    if decision == "clear":
        flags, held = two_person.split_clear(user, flags)
        two_person.require_other_reviewer(user, flags)
        proposed = two_person.propose(user, held, utcnow())
    return ReviewOutcome(_apply(user, flags, decision), proposed)


def _apply(user: User, flags: Sequence[ResponseFlag], decision: str) -> int:
    """Set the decision's status on ``flags``; refresh their responses; log every one."""
    status = DECISIONS[decision]
    changed = [f for f in flags if f.status != status]
    proposals = two_person.proposals_of(changed) if decision == "clear" else {}
    if decision == "confirm":
        two_person.drop_proposals(flags)
    now = utcnow()
    for f in changed:
        f.status = status
        f.reviewed_by_id = user.id
        f.reviewed_at = now
    db.session.flush()
    for response_id in sorted({f.response_id for f in changed}):
        refresh_bits(response_id)
    if changed:
        extra = {"proposed_by": proposals} if proposals else {}
        audit.record(
            user,
            f"flag_{decision}",
            "response_flag",
            changed[0].id if len(changed) == 1 else None,
            count=len(changed),
            codes=sorted({f.code for f in changed}),
            flags=sorted(f.id for f in changed),
            responses=sorted({f.response_id for f in changed}),
            **extra,
        )
    return len(changed)


def _check_scope(user: User, flags: Sequence[ResponseFlag]) -> None:
    point_ids = {f.point_id for f in flags}
    if None in point_ids and not access.is_city_admin(user):
        # A flag without a point (a mock assessment's interview): the response's region.
        for f in flags:
            if f.point_id is None:
                response = db.session.get(Response, f.response_id)
                if response is None:
                    raise NotFound("标记不存在。")
                access.region_in_scope(user, response.region_id)
    for point_id in point_ids - {None}:
        assert point_id is not None
        access.point_in_scope(user, point_id)


def refresh_bits(response_id: int) -> int:
    """Recompute ``Response.flags`` of one response from its flag rows; return the value.

    Codes with a row take their bit from it (set unless cleared); bits without a row (a
    response the sweep has not examined yet) are kept. ``EXCLUDED``: a strong flag not
    cleared, a confirmed flag, or a strong per-response bit without a row.
    """
    response = db.session.execute(
        select(Response).where(Response.id == response_id).with_for_update()
    ).scalar_one_or_none()
    if response is None:
        raise NotFound("答卷不存在。")
    rows = list(
        db.session.execute(
            select(ResponseFlag).where(ResponseFlag.response_id == response_id)
        ).scalars()
    )
    with_rows = 0
    bits = 0
    excluded = False
    for row in rows:
        kind = catalogue.BY_CODE.get(row.code)
        if kind is None:
            continue
        with_rows |= int(kind.flag)
        if row.status != "cleared":
            bits |= int(kind.flag)
            excluded = excluded or row.strength == "strong" or row.status == "confirmed"
    rowless = int(response.flags) & ~with_rows & ~int(QualityFlag.EXCLUDED)
    if rowless & int(STRONG_ON_STORE):
        excluded = True
    value = rowless | bits | (int(QualityFlag.EXCLUDED) if excluded else 0)
    db.session.execute(update(Response).where(Response.id == response_id).values(flags=value))
    db.session.expire(response)
    return value


def flags_of_point(point: CollectionPoint, code: str | None = None) -> list[int]:
    """Ids of the unreviewed flags at a point (optionally of one code), newest first."""
    query = select(ResponseFlag.id).where(
        ResponseFlag.point_id == point.id, ResponseFlag.status == "unreviewed"
    )
    if code:
        query = query.where(ResponseFlag.code == code)
    return list(
        db.session.execute(query.order_by(ResponseFlag.id.desc()).limit(MAX_FLAGS)).scalars()
    )
