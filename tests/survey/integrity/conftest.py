"""Helpers for the integrity tests: store responses at chosen times, with chosen answers."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from flask import Flask

from questionnaires import Definition
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Region
from survey.models import Response
from survey.models import ResponseFlag
from survey.services.integrity.screening import Screen
from survey.services.questionnaires import definition_of
from survey.services.responses import Placement
from survey.services.responses import placement_of
from survey.services.responses import store_response

#: Monday 2 November 2026, 10:00 in China.
T0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


def random_answers(defn: Definition, rng: random.Random, street: str) -> dict[str, Any]:
    """Varied, valid answers (no free text)."""
    out: dict[str, Any] = {}
    for q in defn.questions:
        values = [o.value for o in q.options if o.value != "other"]
        if q.type in ("single", "scale"):
            out[q.key] = rng.choice(values)
        elif q.type == "multiple":
            out[q.key] = rng.sample(values, k=rng.randint(1, min(3, len(values))))
        elif q.type == "region":
            out[q.key] = street
    return out


def right_answers(defn: Definition, street: str) -> dict[str, Any]:
    """The "right" answers of a coached sheet: every metric item positive, all satisfied."""
    out: dict[str, Any] = {}
    for q in defn.questions:
        if q.type == "region":
            out[q.key] = street
        elif q.metric and q.positive:
            best = next(o.value for o in q.options if o.value in q.positive)
            out[q.key] = [best] if q.type == "multiple" else best
        elif q.options:
            out[q.key] = q.options[0].value
    return out


@dataclass
class World:
    """The seeded demo city with handles to store responses at its points."""

    app: Flask
    defn: Definition
    points: list[CollectionPoint]
    street: str
    _ids: Iterator[int]

    def placement(self, point: CollectionPoint) -> Placement:
        return placement_of(point)

    def store(
        self,
        point: CollectionPoint,
        submitted: dt.datetime,
        duration: float = 180.0,
        answers: dict[str, Any] | None = None,
        network: str | None = None,
        agent: str | None = "wechat/android",
        seed: int | None = None,
    ) -> int:
        """Store one response (inside an app context); return its id."""
        n = next(self._ids)
        rng = random.Random(seed if seed is not None else n)
        stored = store_response(
            point,
            self.defn,
            answers if answers is not None else random_answers(self.defn, rng, self.street),
            served_at=submitted - dt.timedelta(seconds=duration),
            submitted_at=submitted,
            device_hash=f"device-{n:06d}",
            form_instance=f"instance-{n:06d}",
            screen=Screen(network_hash=network or f"net-{n % 97}", agent_hash=agent),
        )
        return stored.id


@pytest.fixture
def world(seeded: Flask) -> Iterator[World]:
    with seeded.app_context():
        points = list(
            db.session.execute(db.select(CollectionPoint).order_by(CollectionPoint.id)).scalars()
        )
        street = (
            db.session.execute(
                db.select(Region.code).where(Region.level == "street").order_by(Region.code)
            )
            .scalars()
            .first()
        )
        defn = definition_of(points[0].questionnaire_version)
        yield World(seeded, defn, points, str(street), count(1))


def flags_of(response_id: int) -> dict[str, ResponseFlag]:
    rows = db.session.execute(
        db.select(ResponseFlag).where(ResponseFlag.response_id == response_id)
    ).scalars()
    return {r.code: r for r in rows}


def bits_of(response_id: int) -> int:
    return int(
        db.session.execute(db.select(Response.flags).where(Response.id == response_id)).scalar_one()
    )
