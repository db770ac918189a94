"""Checks for fabricated mock-assessment interviews (curbstoning), after each sync.

Three signals, each a weak flag that a supervisor reviews like the QR flags (confirming one
leaves the interview out of the estimates):

* ``FIELD_SHORT``: an interview shorter than ``SHORT_SHARE`` of the plan's median interview
  duration (a real interview at the door takes minutes; a made-up one is typed in fast);
* ``FIELD_UNIFORM``: an interviewer's interviews whose answers (demographics aside) are
  identical to another of theirs;
* ``FIELD_RUN``: ``RUN_LENGTH`` or more interviews by one interviewer in one community one
  after another, each finished within ``RUN_GAP_MINUTES`` of the previous one.

Flags are written once per (interview, code); existing flags and their reviews are kept.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from survey.extensions import db
from survey.models import Answer
from survey.models import ContactAttempt
from survey.models import PlanUnit
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response
from survey.models import ResponseFlag
from survey.models import User
from survey.services.integrity.review import refresh_bits
from survey.timeutil import local_time

SHORT_SHARE = 0.4
RUN_LENGTH = 5
RUN_GAP_MINUTES = 5.0


def check_plan(plan_id: int) -> int:
    """Flag the plan's interviews that show a signal; return how many flags were added."""
    rows = db.session.execute(
        db.select(
            Response.id,
            Response.duration_seconds,
            Response.submitted_at,
            ContactAttempt.interviewer_id,
            ContactAttempt.unit_id,
            PlanUnit.community_id,
        )
        .join(ContactAttempt, ContactAttempt.response_id == Response.id)
        .join(PlanUnit, PlanUnit.id == ContactAttempt.unit_id)
        .where(PlanUnit.plan_id == plan_id)
        .order_by(Response.submitted_at, Response.id)
    ).all()
    if not rows:
        return 0
    found: dict[tuple[int, str], dict[str, Any]] = {}
    found.update(_short(rows))
    found.update(_uniform(rows))
    found.update(_runs(rows))
    return _write(found)


def _short(rows: list[Any]) -> dict[tuple[int, str], dict[str, Any]]:
    durations = sorted(r.duration_seconds for r in rows if r.duration_seconds is not None)
    if len(durations) < 10:
        return {}
    median = durations[len(durations) // 2]
    limit = SHORT_SHARE * median
    return {
        (r.id, "FIELD_SHORT"): {
            "duration": round(r.duration_seconds),
            "median": round(median),
            "share": f"{SHORT_SHARE:.0%}",
        }
        for r in rows
        if r.duration_seconds is not None and r.duration_seconds < limit
    }


def _uniform(rows: list[Any]) -> dict[tuple[int, str], dict[str, Any]]:
    by_id = {r.id: r for r in rows}
    answers = db.session.execute(
        db.select(Answer.response_id, Answer.question_key, Answer.value, Answer.number)
        .where(Answer.response_id.in_(list(by_id)))
        .order_by(Answer.response_id, Answer.question_key, Answer.value)
    ).all()
    signature: dict[int, list[str]] = defaultdict(list)
    for a in answers:
        if a.question_key not in ("age_group", "sex", "residence"):
            signature[a.response_id].append(f"{a.question_key}={a.value}|{a.number}")
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for rid, parts in signature.items():
        groups[(by_id[rid].interviewer_id, "\n".join(parts))].append(rid)
    out = {}
    for (who, _), ids in groups.items():
        if len(ids) >= 2:
            for rid in ids:
                out[(rid, "FIELD_UNIFORM")] = {"interviewer": _name(who), "count": len(ids)}
    return out


def _runs(rows: list[Any]) -> dict[tuple[int, str], dict[str, Any]]:
    streams: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for r in rows:
        streams[(r.interviewer_id, r.community_id)].append(r)
    out = {}
    for (who, community), items in streams.items():
        run: list[Any] = []
        for r in [*items, None]:
            close = (
                r is not None
                and run
                and (r.submitted_at - run[-1].submitted_at).total_seconds() <= RUN_GAP_MINUTES * 60
            )
            if close or not run:
                if r is not None:
                    run.append(r)
                continue
            if len(run) >= RUN_LENGTH:
                evidence = {
                    "interviewer": _name(who),
                    "community": _region_name(community),
                    "count": len(run),
                    "gap": RUN_GAP_MINUTES,
                    "first": local_time(run[0].submitted_at),
                    "last": local_time(run[-1].submitted_at),
                }
                out.update({(x.id, "FIELD_RUN"): evidence for x in run})
            run = [r] if r is not None else []
    return out


def _name(user_id: int) -> str:
    user = db.session.get(User, user_id)
    return (user.display_name or user.username) if user else str(user_id)


def _region_name(region_id: int) -> str:
    region = db.session.get(Region, region_id)
    return region.name if region else str(region_id)


def _write(found: dict[tuple[int, str], dict[str, Any]]) -> int:
    if not found:
        return 0
    ids = sorted({rid for rid, _ in found})
    have = set(
        db.session.execute(
            db.select(ResponseFlag.response_id, ResponseFlag.code).where(
                ResponseFlag.response_id.in_(ids),
                ResponseFlag.code.in_(("FIELD_SHORT", "FIELD_UNIFORM", "FIELD_RUN")),
            )
        ).all()
    )
    added = [(rid, code) for rid, code in found if (rid, code) not in have]
    for rid, code in added:
        db.session.add(
            ResponseFlag(
                response_id=rid,
                point_id=None,
                code=code,
                strength="weak",
                evidence=json.dumps(found[(rid, code)], ensure_ascii=False),
            )
        )
    db.session.flush()
    for rid in sorted({rid for rid, _ in added}):
        refresh_bits(rid)
    return len(added)


#: The bits of the field checks (for pages that count them).
FIELD_FLAGS = QualityFlag.FIELD_SHORT | QualityFlag.FIELD_UNIFORM | QualityFlag.FIELD_RUN
