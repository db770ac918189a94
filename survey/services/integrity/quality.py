"""What the staff quality page shows: points ranked by suspicion, their evidence, a timeline
of responses per hour, and flags filterable by code, status and point; the scope applies.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response
from survey.models import ResponseFlag
from survey.models import User
from survey.models.base import utcnow
from survey.models.integrity import CLEAR_PROPOSED
from survey.services.access import region_condition
from survey.services.integrity import catalogue
from survey.services.integrity import excluded_from_estimates
from survey.services.integrity.sweep import state
from survey.timeutil import CST

EXCLUDED = int(QualityFlag.EXCLUDED)


@dataclass
class PointSuspicion:
    """One row of the ranking: a point, its responses, what was flagged and why."""

    point: CollectionPoint
    responses: int
    excluded: int
    flagged: int
    codes: dict[str, int] = field(default_factory=dict)
    example: str = ""

    @property
    def share(self) -> float:
        """Share of the point's responses left out of estimates."""
        return self.excluded / self.responses if self.responses else 0.0

    @property
    def score(self) -> float:
        """Suspicion: excluded responses, weighted up by their share (ranking key)."""
        return self.excluded * (0.5 + self.share) + 0.1 * (self.flagged - self.excluded)


def ranked_points(user: User, days: int = 7, limit: int = 100) -> list[PointSuspicion]:
    """Points in scope with flagged responses in the last ``days``, most suspect first."""
    since = utcnow() - dt.timedelta(days=days)
    counts = db.session.execute(
        select(
            Response.point_id,
            func.count(),
            func.sum(case((excluded_from_estimates(), 1), else_=0)),
            func.sum(
                case(
                    (
                        (Response.flags != 0)
                        & (Response.flags.bitwise_and(catalogue.VISIBLE_MASK) != 0),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .join(CollectionPoint, CollectionPoint.id == Response.point_id)
        .join(Region, Region.id == CollectionPoint.region_id)
        .where(Response.submitted_at >= since, region_condition(user))
        .group_by(Response.point_id)
    ).all()
    rows = {pid: (int(n), int(x or 0), int(f or 0)) for pid, n, x, f in counts if f}
    if not rows:
        return []
    codes: dict[int, dict[str, int]] = defaultdict(dict)
    for pid, code, n in db.session.execute(
        select(ResponseFlag.point_id, ResponseFlag.code, func.count())
        .join(Response, Response.id == ResponseFlag.response_id)
        .where(
            Response.submitted_at >= since,
            ResponseFlag.point_id.in_(list(rows)),
            ResponseFlag.status != "cleared",
            _visible_row(),
        )
        .group_by(ResponseFlag.point_id, ResponseFlag.code)
    ):
        codes[int(pid)][code] = int(n)
    points = {
        p.id: p
        for p in db.session.execute(
            select(CollectionPoint).where(CollectionPoint.id.in_(list(rows)))
        ).scalars()
    }
    ranked = [
        PointSuspicion(
            points[pid], n, x, f, dict(sorted(codes[pid].items(), key=lambda kv: -kv[1]))
        )
        for pid, (n, x, f) in rows.items()
    ]
    ranked.sort(key=lambda s: (-s.score, -s.excluded, s.point.code))
    ranked = ranked[:limit]
    for s in ranked:
        s.example = _example(s.point.id, since)
    return ranked


def _visible_row() -> Any:
    """SQL condition: the flag row is shown as a flag (not a weak corroborating signal)."""
    return (ResponseFlag.strength == "strong") | ResponseFlag.code.not_in(
        sorted(catalogue.SIGNAL_CODES)
    )


def _example(point_id: int, since: dt.datetime) -> str:
    """The explanation of the point's most telling recent flag (strong first, newest)."""
    row = db.session.execute(
        select(ResponseFlag.code, ResponseFlag.evidence)
        .join(Response, Response.id == ResponseFlag.response_id)
        .where(
            ResponseFlag.point_id == point_id,
            ResponseFlag.status != "cleared",
            Response.submitted_at >= since,
            _visible_row(),
        )
        .order_by(case((ResponseFlag.strength == "strong", 0), else_=1), ResponseFlag.id.desc())
        .limit(1)
    ).first()
    return catalogue.explain(row[0], row[1]) if row else ""


@dataclass(frozen=True)
class Hour:
    """One hour of a point's timeline (local time) with its responses."""

    start: dt.datetime
    responses: int
    excluded: int


def timeline(point: CollectionPoint, hours: int = 72) -> list[Hour]:
    """Responses per local hour at ``point`` over the last ``hours`` with responses."""
    newest = db.session.execute(
        select(func.max(Response.submitted_at)).where(Response.point_id == point.id)
    ).scalar_one_or_none()
    if newest is None:
        return []
    since = newest - dt.timedelta(hours=hours)
    per: dict[dt.datetime, list[int]] = {}
    for submitted, flags in db.session.execute(
        select(Response.submitted_at, Response.flags).where(
            Response.point_id == point.id, Response.submitted_at > since
        )
    ):
        local = submitted.astimezone(CST).replace(minute=0, second=0, microsecond=0)
        cell = per.setdefault(local, [0, 0])
        cell[0] += 1
        cell[1] += 1 if flags & EXCLUDED else 0
    if not per:
        return []
    start, end = min(per), max(per)
    out = []
    moment = start
    while moment <= end:
        n, x = per.get(moment, (0, 0))
        out.append(Hour(moment, n, x))
        moment += dt.timedelta(hours=1)
    return out


@dataclass(frozen=True)
class FlagView:
    """A flag as the list shows it."""

    flag: ResponseFlag
    response: Response
    point: CollectionPoint | None

    @property
    def name(self) -> str:
        """Chinese name of the code."""
        return catalogue.name_of(self.flag.code)

    @property
    def sentence(self) -> str:
        """The explanation from the evidence."""
        return catalogue.explain(self.flag.code, self.flag.evidence)

    @property
    def evidence(self) -> dict[str, Any]:
        """The evidence as data."""
        data: dict[str, Any] = json.loads(self.flag.evidence or "{}")
        return data


def flag_list(
    user: User,
    *,
    code: str = "",
    status: str = "",
    point_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[FlagView]:
    """Flags in the user's scope, newest response first, filtered by code, status, point."""
    query = (
        select(ResponseFlag, Response, CollectionPoint)
        .join(Response, Response.id == ResponseFlag.response_id)
        .join(CollectionPoint, CollectionPoint.id == ResponseFlag.point_id)
        .join(Region, Region.id == CollectionPoint.region_id)
        .where(region_condition(user))
    )
    # Signals are listed only when asked for by their code.
    query = query.where(ResponseFlag.code == code if code else _visible_row())
    if status == CLEAR_PROPOSED:
        query = query.where(
            ResponseFlag.clear_proposed_by_id.is_not(None), ResponseFlag.status != "cleared"
        )
    elif status:
        query = query.where(ResponseFlag.status == status)
    if point_id is not None:
        query = query.where(ResponseFlag.point_id == point_id)
    query = query.order_by(Response.submitted_at.desc(), ResponseFlag.id.desc())
    rows = db.session.execute(query.limit(limit).offset(offset)).all()
    return [FlagView(f, r, p) for f, r, p in rows]


@dataclass(frozen=True)
class Summary:
    """Totals of the quality page: responses, excluded, flagged, and the sweep's state.

    ``flagged`` counts responses with a visible flag (or excluded); ``signals`` those that
    carry only corroborating signals (:data:`catalogue.SIGNAL_CODES`), not shown as flags.
    """

    responses: int
    excluded: int
    flagged: int
    swept_at: dt.datetime | None
    pending: int
    signals: int = 0
    failed_at: dt.datetime | None = None
    failure: str | None = None
    requested_at: dt.datetime | None = None
    sweeping: bool = False

    @property
    def requested_pending(self) -> bool:
        """Staff asked for a sweep that has not completed since."""
        return self.requested_at is not None and (
            self.swept_at is None or self.swept_at < self.requested_at
        )


def summary(user: User, days: int = 7) -> Summary:
    """Totals in the user's scope for the last ``days``, and how far the sweep has come."""
    since = utcnow() - dt.timedelta(days=days)
    visible = Response.flags.bitwise_and(catalogue.VISIBLE_MASK) != 0
    n, x, f, s = db.session.execute(
        select(
            func.count(),
            func.sum(case((excluded_from_estimates(), 1), else_=0)),
            func.sum(case(((Response.flags != 0) & visible, 1), else_=0)),
            func.sum(case(((Response.flags != 0) & ~visible, 1), else_=0)),
        )
        .join(Region, Region.id == Response.region_id)
        .where(Response.submitted_at >= since, region_condition(user))
    ).one()
    found = state()
    mark = found.watermark if found else 0
    pending = db.session.execute(
        select(func.count()).select_from(Response).where(Response.id > mark)
    ).scalar_one()
    lease = found.lease_until if found else None
    return Summary(
        int(n),
        int(x or 0),
        int(f or 0),
        found.swept_at if found else None,
        int(pending),
        signals=int(s or 0),
        failed_at=found.failed_at if found else None,
        failure=found.failure if found else None,
        requested_at=found.requested_at if found else None,
        sweeping=lease is not None and lease > utcnow(),
    )


def codes_in_use() -> Sequence[tuple[str, str]]:
    """(code, Chinese name) of every flag kind, for the filter."""
    return [(k.code, k.name) for k in catalogue.KINDS]


def flag_counts() -> list[tuple[str, str, str, int]]:
    """(code, strength, status, count) over every flag (the command line's status)."""
    rows = db.session.execute(
        select(ResponseFlag.code, ResponseFlag.strength, ResponseFlag.status, func.count())
        .group_by(ResponseFlag.code, ResponseFlag.strength, ResponseFlag.status)
        .order_by(ResponseFlag.code, ResponseFlag.strength, ResponseFlag.status)
    ).all()
    return [(c, s, st, int(n)) for c, s, st, n in rows]
