"""Fixtures for the resident pages: scans counted immediately, a sample point, form helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Region
from survey.models import Response


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Count every scan at once so tests can read the counters."""
    return {**app_config, "SCAN_FLUSH_SECONDS": 0}


@dataclass
class Sample:
    """A collection point of the demo city and a street of the same city."""

    code: str
    point_id: int
    street_code: str
    street_id: int


@pytest.fixture
def sample(seeded: Flask) -> Sample:
    with seeded.app_context():
        point = (
            db.session.execute(db.select(CollectionPoint).order_by(CollectionPoint.id))
            .scalars()
            .first()
        )
        assert point is not None
        street = (
            db.session.execute(
                db.select(Region).where(Region.level == "street").order_by(Region.code)
            )
            .scalars()
            .first()
        )
        assert street is not None
        return Sample(point.code, point.id, street.code, street.id)


def valid_answers(street_code: str) -> dict[str, Any]:
    """A complete, valid set of answers to the bundled questionnaire."""
    return {
        "age_group": "30-39",
        "sex": "female",
        "residence": street_code,
        "aware_campaign": "yes",
        "aware_goal": "better_life",
        "core_values_recite": "partial",
        "core_values_personal": "patriotism",
        "aware_report": ["hotline", "grid"],
        "aware_models": "heard",
        "aware_initiatives": ["traffic", "sorting"],
        "volunteered": "yes",
        "volunteer_frequency": "monthly",
        "volunteer_kind": ["cleaning", "other"],
        "volunteer_kind__other": "图书馆整理",
        "community_activities": "sometimes",
        "civic_practices": ["traffic"],
        "reported_problem": "no",
        "sat_sanitation": "satisfied",
        "sat_traffic": "fairly_satisfied",
        "sat_market": "needs_improvement",
        "sat_public_services": "satisfied",
        "sat_community": "unsure",
        "sat_facilities": "very_dissatisfied",
        "sat_improved": "fairly",
        "sat_overall": "satisfied",
        "suggestions": "希望多建一些公园。",
    }


@dataclass
class OpenForm:
    """A served questionnaire page: its HTML and hidden fields."""

    html: str
    instance: str

    def body(self, answers: dict[str, Any]) -> dict[str, Any]:
        """Form data for a POST: the hidden field plus ``answers``."""
        return {"_inst": self.instance, **answers}


def open_form(client: FlaskClient, code: str) -> OpenForm:
    """GET the questionnaire and pick out the hidden fields."""
    response = client.get(f"/q/{code}")
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    assert 'name="csrf_token"' not in html  # the form instance is the CSRF token
    inst = re.search(r'name="_inst" value="([^"]+)"', html)
    assert inst
    return OpenForm(html, inst.group(1))


def response_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.execute(db.select(db.func.count(Response.id))).scalar_one())
