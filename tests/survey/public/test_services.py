"""Services behind the resident pages: batched scan counts, device hashes, storing responses."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import PointScanDaily
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response
from survey.services import device
from survey.services.questionnaires import definition_of
from survey.services.responses import placement_of
from survey.services.responses import store_response
from survey.services.scans import ScanCounter
from tests.survey.public.conftest import Sample
from tests.survey.public.conftest import valid_answers


def _scans(app: Flask) -> dict[tuple[int, dt.date], int]:
    with app.app_context():
        rows = db.session.execute(db.select(PointScanDaily)).scalars()
        return {(r.point_id, r.day): r.scans for r in rows}


def test_scans_are_batched_then_upserted(seeded: Flask, sample: Sample) -> None:
    with seeded.app_context():
        counter = ScanCounter(db.engine, flush_seconds=3600, flush_max=1000)
    day1 = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
    day2 = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)  # 01:00 next day in China
    for _ in range(3):
        counter.record(sample.point_id, day1)
    counter.record(sample.point_id, day2)
    assert counter.pending() == 4 and _scans(seeded) == {}
    assert counter.flush() == 4
    counter.record(sample.point_id, day1)
    counter.flush()
    assert _scans(seeded) == {
        (sample.point_id, dt.date(2026, 3, 2)): 4,
        (sample.point_id, dt.date(2026, 3, 3)): 1,
    }
    assert counter.flush() == 0


def test_scan_batch_flushes_when_full(seeded: Flask, sample: Sample) -> None:
    with seeded.app_context():
        counter = ScanCounter(db.engine, flush_seconds=3600, flush_max=2)
    counter.record(sample.point_id)
    assert counter.pending() == 1
    counter.record(sample.point_id)
    assert counter.pending() == 0
    assert sum(_scans(seeded).values()) == 2


def test_device_hash_is_keyed(app: Flask) -> None:
    with app.app_context():
        one = device.device_hash("abcdefghijklmnop")
        assert len(one) == 64 and "abcdefghijklmnop" not in one
        assert one == device.device_hash("abcdefghijklmnop")
        assert one != device.device_hash("abcdefghijklmnoq")
        app.secret_key = "another-secret-key-0123456789"
        assert one != device.device_hash("abcdefghijklmnop")


def test_store_response_from_a_point(seeded: Flask, sample: Sample) -> None:
    with seeded.app_context():
        point = db.session.get(CollectionPoint, sample.point_id)
        assert point is not None
        defn = definition_of(point.questionnaire_version)
        answers = {k: v for k, v in valid_answers(sample.street_code).items() if "__" not in k}
        served = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
        stored = store_response(
            point, defn, answers, served_at=served, device_hash="d" * 64, form_instance="i-1"
        )
        db.session.commit()
        placement = placement_of(point)
        row = db.session.get(Response, stored.id)
        assert row is not None
        assert row.district_id == placement.district_id is not None
        district = db.session.get(Region, row.district_id)
        assert district is not None and district.level == "district"
        assert row.residence_region_id == sample.street_id
        assert row.duration_seconds == pytest.approx(180, abs=5)
        assert not row.flags & QualityFlag.TOO_FAST
        assert len(row.answers) == 28  # one per selected option of multiple choice


def test_store_response_without_timing(seeded: Flask, sample: Sample) -> None:
    with seeded.app_context():
        point = db.session.get(CollectionPoint, sample.point_id)
        assert point is not None
        defn = definition_of(point.questionnaire_version)
        stored = store_response(
            point, defn, {"age_group": "60+"}, served_at=None, device_hash=None, form_instance=None
        )
        assert stored.flags & QualityFlag.NO_TIMING and stored.duration_seconds is None
        assert stored.awareness is None
        db.session.rollback()
