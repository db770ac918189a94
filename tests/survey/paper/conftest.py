"""Fixtures for paper questionnaires: the demo city with its version open for a month."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models.base import utcnow
from survey.services.paper.importing import Target
from survey.services.paper.importing import target_of
from survey.timeutil import CST
from tests.survey.paper.filling import template_row
from tests.survey.public.conftest import valid_answers


@dataclass
class Paper:
    """What a test needs to type papers: the template's target, points, a street, a day."""

    app: Flask
    target: Target
    codes: list[str]  # point codes of the version, in id order
    street: str
    day: dt.date

    def row(self, serial: str, point: str | None = None, **changes: Any) -> list[str]:
        """A good row for ``point`` (default: the first), with answers changed by
        ``changes`` (None removes an answer)."""
        answers = {**valid_answers(self.street), **changes}
        answers = {k: v for k, v in answers.items() if v is not None}
        return template_row(self.target.columns, serial, point or self.codes[0], self.day, answers)

    def column(self, key: str) -> int:
        """0-based index of the template column ``key``."""
        return next(i for i, c in enumerate(self.target.columns) if c.key == key)


@pytest.fixture
def paper(seeded: Flask) -> Paper:
    """The seeded demo city; its questionnaire version loaded 30 days ago (its period)."""
    with seeded.app_context():
        for version in db.session.execute(db.select(QuestionnaireVersion)).scalars():
            version.created_at = utcnow() - dt.timedelta(days=30)
        db.session.commit()
        target = target_of("civilized-city", 1)
        codes = list(
            db.session.execute(
                db.select(CollectionPoint.code)
                .where(CollectionPoint.questionnaire_version_id == target.version.id)
                .order_by(CollectionPoint.id)
            ).scalars()
        )
        street = (
            db.session.execute(
                db.select(Region.code).where(Region.level == "street").order_by(Region.code)
            )
            .scalars()
            .first()
        )
        assert street is not None
        day = (utcnow() - dt.timedelta(days=3)).astimezone(CST).date()
        return Paper(seeded, target, codes, street, day)
