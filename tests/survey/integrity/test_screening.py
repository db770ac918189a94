"""Per-response signals: the reading-time model, windows, network and browser hashes."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from questionnaires import bundled_paths
from questionnaires import load_file
from survey.models import QualityFlag
from survey.services import network
from survey.services.integrity import catalogue
from survey.services.integrity.screening import ReadingModel
from survey.services.integrity.screening import Screen
from survey.services.integrity.screening import Window
from survey.services.integrity.screening import store_flags
from survey.services.integrity.screening import straight_line
from survey.timeutil import CST

DEFN = load_file(bundled_paths()[0])


def test_reading_model_follows_the_visible_questions() -> None:
    model = ReadingModel()
    seconds = model.question_seconds(DEFN)
    everything = [q.key for q in DEFN.questions]
    hidden = {"volunteer_frequency", "volunteer_kind", "report_outcome"}
    fewer = [k for k in everything if k not in hidden]
    full = model.minimum(seconds, everything)
    assert 40 < full < 120  # the bundled questionnaire: about a minute at a skim
    assert model.minimum(seconds, fewer) < full
    assert model.minimum(seconds, fewer, typed_chars=30) == pytest.approx(
        model.minimum(seconds, fewer) + 10, abs=0.2
    )
    # The satisfaction items share one scale: its options are read once, not eight times.
    assert seconds["sat_traffic"] < seconds["sat_sanitation"]
    slower = ReadingModel(chars_per_second=10)
    assert slower.minimum(slower.question_seconds(DEFN), everything) > 2 * full
    tiny = ReadingModel(floor_seconds=500)
    assert tiny.minimum(seconds, everything) == 500


def test_reading_model_from_config(app: Flask) -> None:
    model = ReadingModel.from_config(app.config)
    assert model.chars_per_second == 25 and model.floor_seconds == 10


def test_store_flags() -> None:
    now = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
    plain = Screen()
    assert store_flags(
        duration=100, minimum=60, straight=False, screen=plain,
        residence_outside_district=False, submitted=now,
    ) == QualityFlag(0)  # fmt: skip
    fast = store_flags(
        duration=20, minimum=60, straight=True, screen=plain,
        residence_outside_district=True, submitted=now,
    )  # fmt: skip
    assert fast == (
        QualityFlag.TOO_FAST | QualityFlag.STRAIGHT_LINE | QualityFlag.RESIDENCE
        | QualityFlag.EXCLUDED
    )  # fmt: skip
    weak_only = store_flags(
        duration=100, minimum=60, straight=True, screen=plain,
        residence_outside_district=False, submitted=now,
    )  # fmt: skip
    assert not weak_only & QualityFlag.EXCLUDED
    trap = store_flags(
        duration=100, minimum=60, straight=False, screen=Screen(honeypot_length=3),
        residence_outside_district=False, submitted=now,
    )  # fmt: skip
    assert trap == QualityFlag.HONEYPOT | QualityFlag.EXCLUDED


def test_window() -> None:
    local = dt.datetime(2026, 11, 7, 9, 0, tzinfo=CST)  # a Saturday morning
    event = Window(
        starts_at=local.astimezone(dt.UTC),
        ends_at=(local + dt.timedelta(hours=8)).astimezone(dt.UTC),
    )
    assert event.contains(local + dt.timedelta(hours=3))
    assert not event.contains(local + dt.timedelta(days=3))
    office = Window(daily_start=8 * 60, daily_end=18 * 60)
    assert office.contains(local) and not office.contains(local.replace(hour=22))
    night = Window(daily_start=22 * 60, daily_end=6 * 60)  # past midnight
    assert night.contains(local.replace(hour=23)) and night.contains(local.replace(hour=2))
    assert not night.contains(local.replace(hour=12))
    assert "每天08:00—18:00" in office.describe() and not Window()
    screen = Screen(window=office)
    outside = store_flags(
        duration=100, minimum=60, straight=False, screen=screen,
        residence_outside_district=False, submitted=local.replace(hour=22),
    )  # fmt: skip
    assert outside == QualityFlag.OUT_OF_WINDOW


def test_straight_line() -> None:
    answers = {q.key: "satisfied" for q in DEFN.questions if q.key.startswith("sat_")}
    answers["sat_improved"] = "much"
    assert straight_line(DEFN, answers) == (7, "satisfied")
    answers["sat_market"] = "fairly_satisfied"
    assert straight_line(DEFN, answers) is None


@pytest.mark.parametrize(
    ("address", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("not an address", None),
        (None, None),
    ],
)
def test_network_prefix(address: str | None, prefix: str | None) -> None:
    assert network.network_prefix(address) == prefix


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (
            "Mozilla/5.0 (Linux; Android 13; V2149A) AppleWebKit/537.36 Chrome/116.0 "
            "Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47",
            "wechat/android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
            "Mobile/15E148 MicroMessenger/8.0.44 NetType/4G",
            "wechat/ios",
        ),
        ("python-requests/2.31.0", "script"),
        ("curl/8.5.0", "script"),
        ("", "none"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36", "chrome/windows"),
    ],
)
def test_agent_family(agent: str, family: str) -> None:
    assert network.agent_family(agent) == family


def test_hashes_are_keyed_and_coarse(app: Flask) -> None:
    with app.app_context():
        one, agent = network.client_hashes("203.0.113.77", "curl/8")
        same, _ = network.client_hashes("203.0.113.200", "python-requests/2")
        other, _ = network.client_hashes("203.0.114.77", "curl/8")
        assert one == same != other and len(one or "") == 32 and "203" not in (one or "")
        assert network.client_hashes(None, None)[0] is None
        assert agent == network.keyed_hash("agent", "script")
        app.secret_key = "another-secret-key-0123456789"
        assert network.client_hashes("203.0.113.77", "curl/8")[0] != one


def test_every_flag_explains_itself() -> None:
    for kind in catalogue.KINDS:
        sentence = catalogue.explain(kind.code, {})
        assert sentence and "{" not in sentence, kind.code
    assert catalogue.explain("TOO_FAST", '{"duration": 12.0, "minimum": 61.3}') == (
        "用时12秒，少于按所见题目字数估算的最短阅读用时61.3秒。"
    )
    assert set(catalogue.STRONG_CODES) >= {"TOO_FAST", "HONEYPOT", "PRELOADED", "SERIAL"}
    assert len({int(k.flag) for k in catalogue.KINDS}) == len(catalogue.KINDS)
