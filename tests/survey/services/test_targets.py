"""Targets: validation, audit log, and use by the dashboard."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from survey.errors import Forbidden
from survey.extensions import db
from survey.models import AuditLog
from survey.models import Questionnaire
from survey.models import User
from survey.reporting import stored_targets
from survey.services.targets import TargetError
from survey.services.targets import clear_target
from survey.services.targets import get_targets
from survey.services.targets import set_target


def test_set_change_clear_with_audit(seeded: Flask) -> None:
    with seeded.app_context():
        admin = User(username="admin", password_hash="x", role="city_admin")
        db.session.add(admin)
        db.session.flush()
        qid = db.session.execute(db.select(Questionnaire.id)).scalar_one()
        set_target(qid, "awareness", 0.9, admin)
        set_target(qid, "awareness", 0.85, admin)
        set_target(qid, "satisfaction_score", 80, admin)
        db.session.commit()
        targets = get_targets(qid)
        assert targets["awareness"].threshold == 0.85
        assert targets["awareness"].updated_by_id == admin.id
        assert stored_targets(db.session, qid) == {"awareness": 0.85, "satisfaction_score": 80.0}
        assert clear_target(qid, "awareness", admin) and not clear_target(qid, "awareness", admin)
        db.session.commit()
        entries = (
            db.session.execute(
                db.select(AuditLog).where(AuditLog.action.like("target_%")).order_by(AuditLog.id)
            )
            .scalars()
            .all()
        )
        assert [e.action for e in entries] == ["target_set"] * 3 + ["target_clear"]
        assert json.loads(entries[1].detail)["old"] == 0.9
        assert json.loads(entries[1].detail)["new"] == 0.85


@pytest.mark.parametrize(
    ("metric", "value"),
    [("awareness", 90), ("awareness", -0.1), ("score", 0.5), ("satisfaction_score", 101)],
)
def test_invalid_targets(seeded: Flask, metric: str, value: float) -> None:
    with seeded.app_context():
        qid = db.session.execute(db.select(Questionnaire.id)).scalar_one()
        with pytest.raises(TargetError):
            set_target(qid, metric, value)


def test_only_city_admin(seeded: Flask) -> None:
    with seeded.app_context():
        qid = db.session.execute(db.select(Questionnaire.id)).scalar_one()
        viewer = User(username="v", password_hash="x", role="viewer")
        with pytest.raises(Forbidden):
            set_target(qid, "awareness", 0.9, viewer)
