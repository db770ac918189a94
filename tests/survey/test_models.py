"""Models: region tree paths, uniqueness rules, timestamps."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import Region
from survey.models import Response
from survey.services.regions import create_region
from survey.services.regions import district_of
from survey.services.regions import subtree_ids_query


def test_region_tree_paths_and_subtree(seeded: Flask) -> None:
    with seeded.app_context():
        city = db.session.execute(db.select(Region).where(Region.level == "city")).scalar_one()
        districts = [r for r in city.children if r.level == "district"]
        assert len(districts) == 4
        for district in districts:
            assert len(district.children) == 3
            for street in district.children:
                assert len(street.children) == 2
                for community in street.children:
                    assert community.is_within(district)
                    assert (
                        not community.is_within(street.children[0])
                        or community is street.children[0]
                    )
                    assert district_of(community) is district
                    assert community.ancestor_ids()[:2] == [city.id, district.id]
        ids = set(db.session.execute(subtree_ids_query(districts[0])).scalars())
        assert len(ids) == 1 + 3 + 6


def test_region_code_is_unique(app: Flask) -> None:
    with app.app_context():
        create_region("100000", "甲市", "city", None)
        db.session.commit()
        with pytest.raises(IntegrityError):
            create_region("100000", "乙市", "city", None)
        db.session.rollback()


def test_unknown_level_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(InvalidInput, match="unknown level"):
        create_region("1", "x", "province", None)


def test_default_channels_seeded_once(seeded: Flask) -> None:
    from survey.services.channels import seed_default_channels

    with seeded.app_context():
        before = db.session.execute(db.select(db.func.count(Channel.id))).scalar_one()
        assert before == 11
        assert seed_default_channels() == 0
        names = set(db.session.execute(db.select(Channel.name)).scalars())
        assert {"微信公众号", "社区公告栏", "入户走访", "政务服务窗口"} <= names


def test_one_response_per_device_per_questionnaire(seeded: Flask) -> None:
    with seeded.app_context():
        point = db.session.execute(db.select(CollectionPoint)).scalars().first()
        assert point is not None
        now = dt.datetime.now(dt.UTC)

        def make(instance: str) -> Response:
            return Response(
                questionnaire_id=point.questionnaire_version.questionnaire_id,
                questionnaire_version_id=point.questionnaire_version_id,
                point_id=point.id,
                region_id=point.region_id,
                channel_id=point.channel_id,
                submitted_at=now,
                week_start=now.date(),
                device_hash="a" * 64,
                form_instance=instance,
            )

        db.session.add(make("one"))
        db.session.commit()
        db.session.add(make("two"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_point_expiry(seeded: Flask) -> None:
    with seeded.app_context():
        point = db.session.execute(db.select(CollectionPoint)).scalars().first()
        assert point is not None and not point.is_expired()
        point.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.session.commit()
        db.session.expire_all()
        assert point.is_expired()
