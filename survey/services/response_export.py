"""The responses export: one row per response with its placement, timing, quality flags,
whether estimates leave it out, its metric indicators and its answers.

Columns: ``id``, ``point_code``, ``district``, ``channel``, ``source``, ``submitted_at``
(China time, ISO 8601), ``duration_seconds``, ``flags`` (codes of the flags that stand,
separated by ``;``, empty when none), ``excluded`` (1 when left out of estimates by default),
``version``, ``age_group``, ``sex``, ``residence`` (region code), the four metric columns,
then one column per question of the definition (multiple choice: values separated by ``;``;
"其他" text in ``KEY__other``). No device, network or browser hash is ever exported. Rows
are produced in chunks, so a large export does not load every response at once.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from questionnaires import OTHER_VALUE
from questionnaires import Definition
from survey.extensions import db
from survey.models import Answer
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import Questionnaire
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.models import User
from survey.services.access import region_condition
from survey.services.csv_files import cell_text
from survey.services.integrity import is_excluded
from survey.services.integrity.catalogue import KINDS
from survey.services.questionnaires import definition_of
from survey.timeutil import CST

FIXED_COLUMNS: tuple[str, ...] = (
    "id",
    "point_code",
    "district",
    "channel",
    "source",
    "submitted_at",
    "duration_seconds",
    "flags",
    "excluded",
    "version",
    "age_group",
    "sex",
    "residence",
    "awareness",
    "participation",
    "satisfaction",
    "satisfaction_score",
)
CHUNK = 2000


def flag_codes(flags: int) -> str:
    """The codes of the bits set in ``flags`` (``EXCLUDED`` aside), separated by ``;``."""
    return ";".join(k.code for k in KINDS if flags & int(k.flag))


def _latest_definition(questionnaire_id: int) -> Definition:
    version = db.session.execute(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    ).scalar_one()
    return definition_of(version)


def answer_columns(defn: Definition) -> list[str]:
    """Answer columns in question order ("其他" text right after its question)."""
    out: list[str] = []
    for q in defn.questions:
        out.append(q.key)
        if q.other_key:
            out.append(q.other_key)
    return out


def rows(questionnaire: Questionnaire, user: User | None = None) -> Iterator[list[Any]]:
    """The header, then one row per response (the user's scope; None: everything).

    The scope is fixed before the first row, so the rows can be streamed after the request's
    objects are gone.
    """
    scope = region_condition(user) if user is not None else None
    return _rows(questionnaire.id, scope)


def _rows(questionnaire_id: int, scope: Any) -> Iterator[list[Any]]:
    defn = _latest_definition(questionnaire_id)
    columns = answer_columns(defn)
    yield [*FIXED_COLUMNS, *columns]
    district = Region.__table__.alias("district")
    residence = Region.__table__.alias("residence")
    query = (
        select(
            Response.id,
            Response.source,
            Response.submitted_at,
            Response.duration_seconds,
            Response.flags,
            Response.age_group,
            Response.sex,
            Response.awareness,
            Response.participation,
            Response.satisfaction,
            Response.satisfaction_score,
            CollectionPoint.code,
            district.c.name.label("district"),
            Channel.name.label("channel"),
            QuestionnaireVersion.version,
            residence.c.code.label("residence"),
        )
        .join(Region, Region.id == Response.region_id)
        .outerjoin(CollectionPoint, CollectionPoint.id == Response.point_id)
        .outerjoin(district, district.c.id == Response.district_id)
        .outerjoin(Channel, Channel.id == Response.channel_id)
        .outerjoin(residence, residence.c.id == Response.residence_region_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .where(Response.questionnaire_id == questionnaire_id)
        .order_by(Response.id)
    )
    if scope is not None:
        query = query.where(scope)
    last = 0
    while True:
        chunk = db.session.execute(query.where(Response.id > last).limit(CHUNK)).all()
        if not chunk:
            return
        answers = _answers([r.id for r in chunk])
        for r in chunk:
            given = answers.get(r.id, {})
            yield [
                r.id,
                r.code or "",
                r.district or "",
                r.channel or "",
                r.source,
                r.submitted_at.astimezone(CST).isoformat(timespec="seconds"),
                "" if r.duration_seconds is None else r.duration_seconds,
                flag_codes(r.flags),
                1 if is_excluded(r.flags) else 0,
                r.version,
                r.age_group or "",
                r.sex or "",
                r.residence or "",
                _num(r.awareness),
                _num(r.participation),
                _num(r.satisfaction),
                _num(r.satisfaction_score),
                *(";".join(given.get(c, ())) for c in columns),
            ]
        last = chunk[-1].id


def _num(value: float | None) -> Any:
    return "" if value is None else round(value, 4)


def _answers(ids: list[int]) -> dict[int, dict[str, list[str]]]:
    out: dict[int, dict[str, list[str]]] = defaultdict(dict)
    query = (
        select(Answer.response_id, Answer.question_key, Answer.value, Answer.text, Answer.number)
        .where(Answer.response_id.in_(ids))
        .order_by(Answer.id)
    )
    for rid, key, value, text, number in db.session.execute(query):
        if value is not None:
            out[rid].setdefault(key, []).append(value)
            if value == OTHER_VALUE and text:
                out[rid].setdefault(f"{key}__other", []).append(text)
        elif text is not None:
            out[rid].setdefault(key, []).append(text)
        elif number is not None:
            out[rid].setdefault(key, []).append(f"{number:g}")
    return out


def csv_chunks(questionnaire: Questionnaire, user: User | None = None) -> Iterator[bytes]:
    """The export as Excel-friendly CSV (UTF-8 with BOM, CRLF), in chunks of bytes."""
    return _csv(rows(questionnaire, user))


def _csv(source: Iterator[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield "\ufeff".encode()
    for n, row in enumerate(source, start=1):
        writer.writerow([cell_text(v) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def count_rows(questionnaire: Questionnaire, user: User | None = None) -> int:
    """How many responses the export of ``user`` holds (for the audit log)."""
    query = (
        select(db.func.count())
        .select_from(Response)
        .join(Region, Region.id == Response.region_id)
        .where(Response.questionnaire_id == questionnaire.id)
    )
    if user is not None:
        query = query.where(region_condition(user))
    return int(db.session.execute(query).scalar_one())
