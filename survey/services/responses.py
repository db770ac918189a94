"""Storing one resident's response: answers, metric indicators, denormalised groupings, flags.

The caller has already validated the answers against the definition (the web form does);
this service only keeps the visible answers, scores them, and flushes. The request commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy import insert
from sqlalchemy import text
from sqlalchemy.engine import Connection

from questionnaires import OTHER_VALUE
from questionnaires import Definition
from questionnaires import score_answers
from questionnaires import visible_keys
from survey.cache import cached
from survey.database import begin_immediate
from survey.extensions import db
from survey.models import Answer
from survey.models import CollectionPoint
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response
from survey.models.base import utcnow
from survey.services.integrity import screening
from survey.services.integrity.screening import Screen
from survey.services.regions import district_of
from survey.timeutil import week_start

AnswerValue = str | Sequence[str] | None


@dataclass(frozen=True)
class Placement:
    """Where a response comes from: the point and what is denormalised from it."""

    point_id: int | None  # None for a mock assessment's interview (no QR point)
    questionnaire_id: int
    questionnaire_version_id: int
    region_id: int
    district_id: int | None
    channel_id: int


def placement_of(point: CollectionPoint) -> Placement:
    """The placement of ``point``: its version, region, district (stratum) and channel."""
    district = district_of(point.region)
    return Placement(
        point_id=point.id,
        questionnaire_id=point.questionnaire_version.questionnaire_id,
        questionnaire_version_id=point.questionnaire_version_id,
        region_id=point.region_id,
        district_id=district.id if district else None,
        channel_id=point.channel_id,
    )


def store_response(
    point: CollectionPoint | Placement,
    defn: Definition,
    answers: Mapping[str, AnswerValue],
    **fields: Any,
) -> Response:
    """Add the response of ``answers`` (question key -> value or values) at ``point``.

    ``point`` may be a ``Placement`` the caller already computed (and cached). ``fields``:
    ``others`` holds the free text of "其他" options by question key; ``region_ids``
    resolves region answers (codes) to ids, else a query does; ``served_at``,
    ``device_hash`` and ``form_instance`` (required), ``submitted_at``, ``source`` and
    ``screen`` (what the request knows for the per-response integrity signals, see
    ``survey.services.integrity.screening``; without it the default reading model applies).
    Answers to questions hidden by skip logic are dropped. Raises
    ``sqlalchemy.exc.IntegrityError`` when the device or form instance already has a
    response (the caller rolls back). The rows are written with Core inserts (cheaper than
    the unit of work on the hot path): the returned ``Response`` carries the stored values
    and its id but is not attached to the session.
    """
    values, response_id = _store(point, defn, answers, **fields)
    return Response(id=response_id, **values)


def write_response(
    point: CollectionPoint | Placement,
    defn: Definition,
    answers: Mapping[str, AnswerValue],
    **fields: Any,
) -> int:
    """``store_response`` without building the ORM object (it costs more than the INSERT on
    the resident's request): the same rows written, the response's id returned."""
    return _store(point, defn, answers, **fields)[1]


def _store(
    point: CollectionPoint | Placement,
    defn: Definition,
    answers: Mapping[str, AnswerValue],
    **fields: Any,
) -> tuple[dict[str, Any], int]:
    """The stored response's column values and id (see :func:`store_response`)."""
    values, rows = response_values(point, defn, answers, **fields)
    return values, _insert(values, rows)


def response_values(
    point: CollectionPoint | Placement,
    defn: Definition,
    answers: Mapping[str, AnswerValue],
    *,
    others: Mapping[str, str] | None = None,
    region_ids: Mapping[str, int] | None = None,
    served_at: dt.datetime | None,
    device_hash: str | None,
    form_instance: str | None,
    submitted_at: dt.datetime | None = None,
    source: str = "qr",
    screen: Screen | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What :func:`write_response` writes, without writing it: the response's column values
    (scores, flags, groupings) and its answer rows. :func:`write_many` writes many of them."""
    submitted = submitted_at or utcnow()
    others = others or {}
    visible = visible_keys(defn, answers)
    kept = {k: v for k, v in answers.items() if k in visible and k in defn and _present(v)}
    scores = score_answers(defn, kept)

    place = point if isinstance(point, Placement) else placement_of(point)
    demo = defn.demographic_keys()
    residence = kept.get(demo["residence"]) if "residence" in demo else None
    residence_id = _region_id(residence, region_ids)

    screen = screen or Screen()
    outside = screening.residence_outside(screen, residence_id, place.district_id)
    duration, flags = _screened(defn, kept, others, visible, screen, served_at, submitted, outside)

    values: dict[str, Any] = dict(
        questionnaire_id=place.questionnaire_id,
        questionnaire_version_id=place.questionnaire_version_id,
        point_id=place.point_id,
        region_id=place.region_id,
        district_id=place.district_id,
        channel_id=place.channel_id,
        source=source,
        served_at=served_at if duration is not None else None,
        submitted_at=submitted,
        week_start=week_start(submitted),
        duration_seconds=duration,
        flags=int(flags),
        device_hash=device_hash,
        form_instance=form_instance,
        network_hash=screen.network_hash,
        agent_hash=screen.agent_hash,
        age_group=_single(kept.get(demo["age_group"])) if "age_group" in demo else None,
        sex=_single(kept.get(demo["sex"])) if "sex" in demo else None,
        residence_region_id=residence_id,
        awareness=scores.awareness,
        participation=scores.participation,
        satisfaction=scores.satisfaction,
        satisfaction_score=scores.satisfaction_score,
    )
    return values, answer_rows(defn, kept, others)


def _screened(
    defn: Definition,
    kept: Mapping[str, AnswerValue],
    others: Mapping[str, str],
    visible: Collection[str],
    screen: Screen,
    served_at: dt.datetime | None,
    submitted: dt.datetime,
    residence_outside: bool,
) -> tuple[float | None, QualityFlag]:
    """Completion time and the per-response quality flags (``integrity.screening``)."""
    if screen.timed:
        duration, flags = screening.timing(served_at, submitted)
    else:  # paper: no clock, so no completion time and no timing flag
        duration, flags = None, QualityFlag(0)
    seconds = cached(
        "definitions",
        ("reading", defn.checksum, screen.model),
        lambda: screen.model.question_seconds(defn),
    )
    minimum = screen.model.minimum(
        seconds,
        [q.key for q in defn.questions if q.key in visible],
        screening.typed_chars(defn, kept, others),
    )
    flags |= screening.store_flags(
        duration=duration,
        minimum=minimum,
        straight=screening.straight_line(defn, kept) is not None,
        screen=screen,
        residence_outside_district=residence_outside,
        submitted=submitted,
    )
    return duration, flags


def _insert(values: Mapping[str, Any], rows: list[dict[str, Any]]) -> int:
    """Write the response ``values`` and its answer ``rows``; return the response's id.

    Prebuilt Core inserts on the session's connection (the unit of work costs more than the
    write itself on this hot path); every response column is given, absent ones as NULL.
    """
    conn = db.session.connection()
    lock_for_write(conn)
    row_values = {key: values.get(key) for key in _RESPONSE_KEYS}
    response_id: int = conn.execute(_INSERT_RESPONSE, row_values).scalar_one()
    if rows:
        for row in rows:
            row["response_id"] = response_id
        conn.execute(_INSERT_ANSWERS, rows)
    return response_id


def write_many(built: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[int]:
    """Write responses built by :func:`response_values` (an import: thousands at once) in a
    few multi-row statements instead of two per response; their ids, in order.

    The rows are exactly those :func:`write_response` would write one by one; only the
    round trips differ (SQLAlchemy's "insertmanyvalues", ids returned in parameter order).
    """
    if not built:
        return []
    conn = db.session.connection()
    lock_for_write(conn)
    ids: list[int] = list(
        conn.execute(
            insert(_RESPONSES).returning(_RESPONSES.c.id, sort_by_parameter_order=True),
            [values for values, _ in built],
        ).scalars()
    )
    rows = [
        {**row, "response_id": response_id}
        for response_id, (_, answers) in zip(ids, built, strict=True)
        for row in answers
    ]
    if rows:
        if conn.dialect.name == "postgresql":
            # One statement of five arrays: psycopg would send each answer as a statement
            # of its own (about 30 a paper; 13 s of 21 for 2,000 papers under load).
            conn.execute(_UNNEST_ANSWERS, {k: [r[k] for r in rows] for k in _ANSWER_KEYS})
        else:
            conn.execute(insert(Answer.__table__), rows)
    return ids


_RESPONSES: Table = Response.__table__  # type: ignore[assignment]
_RESPONSE_KEYS = tuple(c.key for c in _RESPONSES.columns if c.key != "id")
_INSERT_RESPONSE = insert(_RESPONSES).returning(_RESPONSES.c.id)
_INSERT_ANSWERS = insert(Answer.__table__)
_ANSWER_KEYS = ("response_id", "question_key", "value", "text", "number")
_UNNEST_ANSWERS = text(
    "INSERT INTO answers (response_id, question_key, value, text, number) SELECT * FROM unnest("
    "CAST(:response_id AS INTEGER[]), CAST(:question_key AS VARCHAR[]), "
    "CAST(:value AS VARCHAR[]), CAST(:text AS TEXT[]), CAST(:number AS DOUBLE PRECISION[]))"
)


def lock_for_write(conn: Connection | None = None) -> None:
    """On SQLite, take the write lock now (``BEGIN IMMEDIATE``, see
    :func:`survey.database.begin_immediate`) so the busy timeout applies.

    All reads are done by then; the transaction that follows only inserts and is committed
    by the request right away, so the lock is held for a few milliseconds. PostgreSQL needs
    nothing: row-level locking and the UNIQUE constraints do the work.
    """
    begin_immediate(conn if conn is not None else db.session.connection())


def answer_rows(
    defn: Definition, answers: Mapping[str, AnswerValue], others: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Rows of ``answers`` (multiple choice: one per selected option), in question order."""
    rows: list[dict[str, Any]] = []

    def row(
        key: str, value: str | None = None, text: str | None = None, number: float | None = None
    ) -> None:
        rows.append({"question_key": key, "value": value, "text": text, "number": number})

    for q in defn.questions:
        value = answers.get(q.key)
        if not _present(value):
            continue
        if q.type == "multiple":
            values = [value] if isinstance(value, str) else list(value or ())
            for v in values:
                text = others.get(q.key) if v == OTHER_VALUE and q.allow_other else None
                row(q.key, v, text)
        elif q.type == "text":
            row(q.key, text=str(value))
        elif q.type == "number":
            row(q.key, number=float(str(value)))
        else:
            v = str(value)
            row(q.key, v, others.get(q.key) if v == OTHER_VALUE and q.allow_other else None)
    return rows


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    return len(value) > 0


def _single(value: AnswerValue) -> str | None:
    return value if isinstance(value, str) else None


def _region_id(code: AnswerValue, region_ids: Mapping[str, int] | None) -> int | None:
    if not isinstance(code, str):
        return None
    if region_ids is not None and code in region_ids:
        return region_ids[code]
    return db.session.execute(db.select(Region.id).where(Region.code == code)).scalar_one_or_none()
