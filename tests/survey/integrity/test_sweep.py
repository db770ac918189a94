"""The integrity sweep on constructed responses in the database (both backends)."""

from __future__ import annotations

import datetime as dt
import json

from survey import demo
from survey.extensions import db
from survey.models import AuditLog
from survey.models import IntegrityState
from survey.models import PointHourly
from survey.models import QualityFlag
from survey.models import Response
from survey.models import User
from survey.services.integrity import counts_in_estimates
from survey.services.integrity import excluded_from_estimates
from survey.services.integrity.review import review
from survey.services.integrity.sweep import sweep
from survey.services.integrity.sweep import sweep_all
from survey.services.users import create_user
from tests.survey.integrity.conftest import T0
from tests.survey.integrity.conftest import World
from tests.survey.integrity.conftest import bits_of
from tests.survey.integrity.conftest import flags_of
from tests.survey.integrity.conftest import right_answers

LATER = T0 + dt.timedelta(days=1)
EXCLUDED = int(QualityFlag.EXCLUDED)


def _honest(world: World, point_index: int, n: int, start: dt.datetime, gap: float) -> list[int]:
    """``n`` residents at a point, one every ``gap`` seconds, varied answers and networks."""
    point = world.points[point_index]
    return [
        world.store(point, start + dt.timedelta(seconds=i * gap), duration=150 + (i * 37) % 200)
        for i in range(n)
    ]


def test_store_flags_get_their_evidence(world: World) -> None:
    with world.app.app_context():
        fast = world.store(world.points[0], T0, duration=6)
        slow = world.store(world.points[0], T0 + dt.timedelta(minutes=30), duration=200)
        db.session.commit()
        assert bits_of(fast) & (QualityFlag.TOO_FAST | QualityFlag.EXCLUDED) == (
            QualityFlag.TOO_FAST | QualityFlag.EXCLUDED
        )
        result = sweep(now=LATER)
        assert result.examined == 2 and result.watermark == slow
        flag = flags_of(fast)["TOO_FAST"]
        evidence = json.loads(flag.evidence)
        assert flag.strength == "strong" and flag.status == "unreviewed"
        assert evidence["duration"] == 6 and 40 < evidence["minimum"] < 120
        assert flags_of(slow) == {}
        assert sweep(now=LATER).examined == 0  # nothing new


def test_sweep_waits_for_the_settle_time(world: World) -> None:
    with world.app.app_context():
        world.store(world.points[0], T0)
        db.session.commit()
        assert sweep(now=T0 + dt.timedelta(seconds=2)).examined == 0
        assert sweep(now=T0 + dt.timedelta(seconds=30)).examined == 1


def test_preloaded_batch(world: World) -> None:
    with world.app.app_context():
        _honest(world, 1, 10, T0 - dt.timedelta(hours=3), 900)
        point = world.points[1]
        batch = []
        for i in range(15):  # opened within 3 s, submitted 200 s later within 3 s
            served = T0 + dt.timedelta(seconds=i * 0.2)
            submitted = T0 + dt.timedelta(seconds=200 + i * 0.2)
            batch.append(
                world.store(point, submitted, duration=(submitted - served).total_seconds())
            )
        db.session.commit()
        sweep(now=LATER)
        for rid in batch:
            assert "PRELOADED" in flags_of(rid) and bits_of(rid) & EXCLUDED
        evidence = json.loads(flags_of(batch[0])["PRELOADED"].evidence)
        assert evidence["count"] == 15 and evidence["span"] < 4


def test_serial_filling(world: World) -> None:
    with world.app.app_context():
        point = world.points[2]
        chain, t = [], T0
        for _ in range(6):
            submitted = t + dt.timedelta(seconds=75)
            chain.append(world.store(point, submitted, duration=75, network="office-wifi"))
            t = submitted + dt.timedelta(seconds=6)
        db.session.commit()
        sweep(now=LATER)
        assert all("SERIAL" in flags_of(rid) for rid in chain)
        assert all(bits_of(rid) & EXCLUDED for rid in chain)


def test_cookie_dropping_client(world: World) -> None:
    """The issue's attack: one client without its cookie, hundreds of responses at once."""
    with world.app.app_context():
        _honest(world, 3, 6, T0 - dt.timedelta(hours=6), 1800)
        point = world.points[3]
        attack = [
            world.store(
                point,
                T0 + dt.timedelta(seconds=i * 0.4),
                duration=2,
                network="one-address",
                agent="script",
            )
            for i in range(80)
        ]
        db.session.commit()
        sweep(now=LATER)
        codes = flags_of(attack[40])
        assert {"TOO_FAST", "BURST", "SHARED_NETWORK", "PRELOADED"} <= set(codes)
        assert codes["BURST"].strength == "strong" and codes["SHARED_NETWORK"].strength == "weak"
        assert "同一网段" in json.loads(codes["BURST"].evidence)["corroboration"]


def test_coached_point_is_uniform(world: World) -> None:
    with world.app.app_context():
        demo.add_responses(600, now=T0 - dt.timedelta(days=1))  # the city's varied answers
        sweep_all(now=T0 - dt.timedelta(hours=1))
        point = world.points[5]
        sheet = right_answers(world.defn, world.street)
        coached = [
            world.store(point, T0 + dt.timedelta(minutes=20 * i), duration=150, answers=sheet)
            for i in range(30)
        ]
        db.session.commit()
        sweep(now=LATER)
        assert all("UNIFORM" in flags_of(rid) for rid in coached)
        flag = flags_of(coached[-1])["UNIFORM"]
        assert flag.strength == "strong"
        assert json.loads(flag.evidence)["similar"] >= 20


def test_honest_residents_are_not_flagged(world: World) -> None:
    with world.app.app_context():
        demo.add_responses(600, now=T0 - dt.timedelta(days=1))
        sweep_all(now=T0 - dt.timedelta(hours=1))
        ids = _honest(world, 4, 60, T0, 240)  # one every four minutes, shared carrier nets
        db.session.commit()
        sweep_all(now=LATER)
        strong = [rid for rid in ids if bits_of(rid) & EXCLUDED]
        assert strong == []


def test_review_confirms_and_clears(world: World) -> None:
    with world.app.app_context():
        admin = create_user("city", "correct horse battery", "city_admin")
        fast = world.store(world.points[0], T0, duration=5)
        slow = world.store(
            world.points[0],
            T0 + dt.timedelta(hours=1),
            duration=200,
            answers={
                **right_answers(world.defn, world.street),
                "sat_improved": "much",
            },
        )
        db.session.commit()
        sweep(now=LATER)
        too_fast = flags_of(fast)["TOO_FAST"]
        assert review(admin, [too_fast.id], "clear") == 1
        db.session.commit()
        assert not bits_of(fast) & (EXCLUDED | QualityFlag.TOO_FAST)
        assert flags_of(fast)["TOO_FAST"].status == "cleared"  # kept, never deleted
        straight = flags_of(slow)["STRAIGHT_LINE"]
        assert straight.strength == "weak" and not bits_of(slow) & EXCLUDED
        review(admin, [straight.id], "confirm")
        db.session.commit()
        assert bits_of(slow) & EXCLUDED
        actions = [a.action for a in db.session.execute(db.select(AuditLog)).scalars()]
        assert actions.count("flag_clear") == 1 and actions.count("flag_confirm") == 1
        # A cleared flag stays cleared when the sweep looks at the response again.
        db.session.execute(db.update(IntegrityState).values(watermark=0))
        db.session.commit()
        sweep(now=LATER)
        assert flags_of(fast)["TOO_FAST"].status == "cleared" and not bits_of(fast) & EXCLUDED


def test_review_is_scoped(world: World) -> None:
    import pytest

    from survey.errors import NotFound
    from survey.models import Region

    with world.app.app_context():
        other = db.session.execute(db.select(Region).where(Region.code == "999904")).scalar_one()
        officer = create_user("officer", "correct horse battery", "district_officer", other)
        point = next(p for p in world.points if not p.region.is_within(other))
        fast = world.store(point, T0, duration=5)
        db.session.commit()
        sweep(now=LATER)
        flag = flags_of(fast)["TOO_FAST"]
        with pytest.raises(NotFound):
            review(officer, [flag.id], "clear")
        db.session.rollback()
        assert flags_of(fast)["TOO_FAST"].status == "unreviewed"
        assert db.session.get(User, officer.id) is not None


def test_estimate_conditions(world: World) -> None:
    with world.app.app_context():
        world.store(world.points[0], T0, duration=5)
        world.store(world.points[0], T0 + dt.timedelta(hours=1), duration=200)
        db.session.commit()
        counted = db.session.execute(
            db.select(db.func.count()).select_from(Response).where(counts_in_estimates())
        ).scalar_one()
        left_out = db.session.execute(
            db.select(db.func.count()).select_from(Response).where(excluded_from_estimates())
        ).scalar_one()
        assert (counted, left_out) == (1, 1)


def test_hourly_state_counts_only_what_counts(world: World) -> None:
    with world.app.app_context():
        world.store(world.points[0], T0, duration=5)
        world.store(world.points[0], T0 + dt.timedelta(minutes=5), duration=200)
        world.store(world.points[0], T0 + dt.timedelta(hours=2), duration=200)
        db.session.commit()
        sweep(now=LATER)
        rows = db.session.execute(db.select(PointHourly).order_by(PointHourly.hour)).scalars().all()
        assert [r.responses for r in rows] == [1, 1]
        assert rows[0].point_id == world.points[0].id


def test_busy_lease(world: World) -> None:
    with world.app.app_context():
        world.store(world.points[0], T0)
        db.session.commit()
        sweep(now=LATER)
        state = db.session.get(IntegrityState, 1)
        assert state is not None and state.lease_until is None and state.swept_at is not None
        state.lease_until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        db.session.commit()
        assert sweep(now=LATER).busy
