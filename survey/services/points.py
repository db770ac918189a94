"""Collection point operations."""

from __future__ import annotations

import datetime as dt

from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.services.codes import new_code


def create_point(
    version: QuestionnaireVersion,
    region: Region,
    channel: Channel,
    label: str,
    expires_at: dt.datetime | None = None,
    created_by: User | None = None,
) -> CollectionPoint:
    """Issue a collection point with a fresh unique code."""
    code = _unused_code()
    point = CollectionPoint(
        code=code,
        questionnaire_version_id=version.id,
        region_id=region.id,
        channel_id=channel.id,
        label=label,
        active=True,
        expires_at=expires_at,
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(point)
    db.session.flush()
    return point


def _unused_code() -> str:
    # A collision is astronomically unlikely, but a retry costs nothing.
    for _ in range(10):
        code = new_code()
        taken = db.session.execute(
            db.select(CollectionPoint.id).where(CollectionPoint.code == code)
        ).first()
        if taken is None:
            return code
    raise RuntimeError("could not find an unused collection point code")
