"""Responses, their answers and the metric indicators computed when they are stored."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import intpk


class QualityFlag(enum.IntFlag):
    """Bit flags on ``Response.flags``; flagged responses are kept and reported, not deleted.

    A bit is set while its flag stands (``response_flags`` holds each flag's strength,
    evidence and review; a flag cleared by a reviewer loses its bit). ``EXCLUDED`` sums them
    up: set while the response has a strong flag not cleared, or any flag a reviewer
    confirmed. Estimates leave out the responses with ``EXCLUDED`` by default (see
    ``survey.services.integrity.counts_in_estimates``). The catalogue of codes, strengths
    and Chinese explanations is ``survey.services.integrity.catalogue``.
    """

    # Per response, computed when it is stored.
    TOO_FAST = 1  # faster than the reading-time model of its visible questions
    STRAIGHT_LINE = 2  # the same answer on every satisfaction item of one scale
    NO_TIMING = 4  # served time missing or unverifiable
    # Per point, over time (the integrity sweep).
    BURST = 8  # part of an unusual burst from one collection point
    # Per response (continued).
    HONEYPOT = 16  # filled in the field people never see
    RESIDENCE = 32  # declared residence outside the district of a local point
    OUT_OF_WINDOW = 64  # submitted outside the point's collection window
    # Per point and across responses (the integrity sweep).
    PRELOADED = 128  # many forms submitted within seconds of each other
    SERIAL = 256  # one network and browser filling forms one after another
    UNIFORM = 512  # near-identical answer vectors at one point
    SKEWED = 1024  # answer spread per question far below the city's
    SATISFACTION_JUMP = 2048  # a point's satisfaction suddenly far above its history
    ODD_HOURS = 4096  # many responses at hours when the city hardly answers
    SHARED_NETWORK = 8192  # many devices from one network prefix within minutes
    # Mock-assessment interviews (curbstoning checks, survey.services.field_checks); high
    # bits, clear of the resident checks' range.
    FIELD_SHORT = 1 << 20  # far shorter than the plan's typical interview
    FIELD_UNIFORM = 1 << 21  # the same answers as another interview of the same interviewer
    FIELD_RUN = 1 << 22  # one of many interviews in a row at one place within minutes
    # Summary: left out of estimates by default.
    EXCLUDED = 1 << 30


class Response(Base):
    """One resident's submitted questionnaire. No personal data: no names, phones or IPs."""

    __tablename__ = "responses"
    __table_args__ = (
        # One response per resident (device) per questionnaire, across its versions.
        UniqueConstraint("questionnaire_id", "device_hash"),
        # A version's responses (has any? the integrity sweep's city baseline). Reports
        # read report_cells or the covering ix_responses_report (migration 0005), exports
        # the id range: every further index costs each resident's INSERT (migration 0008).
        Index("ix_responses_version_submitted", "questionnaire_version_id", "submitted_at"),
        # A point's responses (the integrity sweep, point statistics, the foreign key).
        Index("ix_responses_point_submitted", "point_id", "submitted_at"),
    )

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id"))
    point_id: Mapped[int | None] = mapped_column(ForeignKey("collection_points.id"))
    # Denormalised from the point for fast grouping: its region, that region's district
    # (the design stratum) and its channel.
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    # qr, paper, door_to_door, intercept or phone (migration 0014 widened it from 10).
    source: Mapped[str] = mapped_column(String(16), default="qr")
    served_at: Mapped[dt.datetime | None]
    submitted_at: Mapped[dt.datetime]
    # Monday of the submission week in local (China) time, for weekly trend grouping.
    week_start: Mapped[dt.date] = mapped_column(Date)
    duration_seconds: Mapped[float | None]
    flags: Mapped[int] = mapped_column(default=0)
    # Keyed hash (HMAC-SHA256) of the device cookie; never the cookie itself.
    device_hash: Mapped[str | None] = mapped_column(String(64))
    # Form instance id issued with the page: makes a retried POST idempotent. A mock
    # assessment's interview keeps the UUID its device gave the draft here.
    form_instance: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Keyed hashes (HMAC) of the client's network prefix (/24 or /48) and browser family:
    # never the address or the user-agent itself (survey.services.network).
    network_hash: Mapped[str | None] = mapped_column(String(32))
    agent_hash: Mapped[str | None] = mapped_column(String(32))
    # Demographics for weighting (codes as in the questionnaire definition).
    age_group: Mapped[str | None] = mapped_column(String(16))
    sex: Mapped[str | None] = mapped_column(String(16))
    residence_region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    # Metric indicators computed at write time (see questionnaires.score_answers).
    awareness: Mapped[float | None]
    participation: Mapped[float | None]
    satisfaction: Mapped[float | None]
    satisfaction_score: Mapped[float | None]

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(Base):
    """One answer value; a multiple-choice question has one row per selected option."""

    __tablename__ = "answers"
    # One covering index: a response's answers (foreign key, exports, the integrity sweep)
    # and the answers of the responses in a report's period (question statistics).
    __table_args__ = (
        Index("ix_answers_response_question", "response_id", "question_key", "value"),
    )

    id: Mapped[intpk]
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    number: Mapped[float | None]

    response: Mapped[Response] = relationship(back_populates="answers")
