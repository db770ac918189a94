"""Responses generated in the test (seeded) on top of the demo city, on every backend.

``units`` is the same data as a unit-level frame, so tests can run ``analysis`` on it directly
and compare with what the reports compute from the database's ``GROUP BY``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import insert

from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response

EXCLUDED = int(QualityFlag.EXCLUDED)

# Monday of the current period's first week; the period is two weeks, the previous period
# the two weeks before.
PERIOD_START = dt.date(2026, 11, 2)
PERIOD_END = PERIOD_START + dt.timedelta(days=13)
AGES = ("18-29", "30-39", "40-49", "50-59", "60+")
SEXES = ("female", "male")


@dataclass(frozen=True)
class RegionRow:
    """A region as the tests need it (a plain copy, usable outside the app context)."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]


@dataclass(frozen=True)
class Generated:
    """The app with responses, and the same responses as unit rows."""

    app: Flask
    units: pd.DataFrame
    questionnaire_id: int
    regions: dict[int, RegionRow]


def _draw(rng: np.random.Generator, points: list[CollectionPoint], n: int) -> pd.DataFrame:
    """Responses with varied points, weeks, demographics, metric values, gaps and flags."""
    weight = rng.uniform(0.2, 2.0, len(points))
    pick = rng.choice(len(points), size=n, p=weight / weight.sum())
    week = rng.integers(-2, 2, n)  # two previous weeks, two current ones
    p = 1 / (1 + np.exp(-(rng.normal(0.6, 1.0, n) + 0.2 * week + 0.3 * (pick % 4))))
    frame = pd.DataFrame(
        {
            "point_id": [points[i].id for i in pick],
            "region_id": [points[i].region_id for i in pick],
            "channel_id": [points[i].channel_id for i in pick],
            "week_start": [PERIOD_START + dt.timedelta(weeks=int(w)) for w in week],
            "age_group": np.array(AGES, dtype=object)[rng.integers(0, 5, n)],
            "sex": np.array(SEXES, dtype=object)[rng.integers(0, 2, n)],
            # shares of several items (awareness, satisfaction), a 0/1 rate (participation)
            "awareness": rng.binomial(7, p) / 7,
            "participation": rng.binomial(1, p * 0.6).astype(float),
            "satisfaction": rng.binomial(8, p) / 8,
            "satisfaction_score": np.round(rng.binomial(40, p) * 2.5, 1),
            # Weak flags alone (1, 2, 8) count in estimates; with the EXCLUDED bit they do not.
            "flags": np.where(
                rng.random(n) < 0.08,
                rng.choice([1, 2, 8, 1 | EXCLUDED, 8 | EXCLUDED, 2 | EXCLUDED], n),
                0,
            ),
        }
    )
    for column in ("awareness", "participation", "satisfaction", "satisfaction_score"):
        frame.loc[rng.random(n) < 0.04, column] = np.nan
    frame.loc[rng.random(n) < 0.02, "age_group"] = None
    return frame


def generate(app: Flask, n: int = 3000, seed: int = 20261201) -> Generated:
    """Insert ``n`` responses and return them as unit rows."""
    with app.app_context():
        points = list(db.session.execute(db.select(CollectionPoint)).scalars())
        regions = {
            r.id: RegionRow(r.id, r.code, r.name, r.level, r.parent_id, r.path)
            for r in db.session.execute(db.select(Region)).scalars()
        }
        district = {
            r.id: next((a for a in r.ancestor_ids() if regions[a].level == "district"), None)
            for r in regions.values()
        }
        units = _draw(np.random.default_rng(seed), points, n)
        units["district_id"] = units["region_id"].map(district)
        # the design's cluster: the point for places, the response itself for push channels
        # (a WeChat article is no cluster; issue 24)
        push = set(
            db.session.execute(db.select(Channel.id).where(Channel.kind == "push")).scalars()
        )
        own = -np.arange(1, n + 1, dtype=np.int64)
        units["cluster"] = np.where(units["channel_id"].isin(push), own, units["point_id"])
        questionnaire_id = points[0].questionnaire_version.questionnaire_id
        version_id = points[0].questionnaire_version_id
        rows = []
        for i, row in enumerate(units.itertuples(index=False)):
            moment = dt.datetime.combine(row.week_start, dt.time(2), tzinfo=dt.UTC)
            moment += dt.timedelta(minutes=i % 5000)
            rows.append(
                {
                    "questionnaire_id": questionnaire_id,
                    "questionnaire_version_id": version_id,
                    "point_id": row.point_id,
                    "region_id": row.region_id,
                    "district_id": row.district_id,
                    "channel_id": row.channel_id,
                    "source": "qr",
                    "submitted_at": moment,
                    "week_start": row.week_start,
                    "flags": int(row.flags),
                    "age_group": row.age_group,
                    "sex": row.sex,
                    **{
                        m: None if pd.isna(getattr(row, m)) else float(getattr(row, m))
                        for m in (
                            "awareness",
                            "participation",
                            "satisfaction",
                            "satisfaction_score",
                        )
                    },
                }
            )
        db.session.execute(insert(Response), rows)
        db.session.commit()
        db.session.expunge_all()
    return Generated(app, units, questionnaire_id, regions)


@pytest.fixture
def generated(seeded: Flask) -> Generated:
    """The demo city with 3,000 generated responses."""
    return generate(seeded)
