"""Per-response signals, computed when a response is stored: pure arithmetic, no query.

* ``TOO_FAST``: completion time below what its *visible* questions need, by a reading-speed
  model of the definition (:class:`ReadingModel`): characters of each question and of its
  options read at a skimming speed, a moment per answer, the typed text at a typing speed.
  An options list that repeats the previous question's (a run of items on one scale) is read
  once. The floor ``MIN_PLAUSIBLE_SECONDS`` applies to very short questionnaires.
* ``STRAIGHT_LINE``: the same option on every answered satisfaction item of one scale.
* ``HONEYPOT``: the field no person sees was filled in.
* ``RESIDENCE``: at a local point (community notice board, door-to-door), a declared
  residence outside the point's district (weak: people answer where they work, too).
* ``OUT_OF_WINDOW``: submitted outside the point's collection window (dates, daily hours).
* ``NO_TIMING``: no trustworthy served time.

The evidence of these flags is derived again from the stored response by the integrity
sweep, which writes their ``response_flags`` rows; storing needs no second statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from questionnaires import Definition
from survey.models import QualityFlag
from survey.services.integrity.catalogue import STRONG_ON_STORE
from survey.timeutil import CST

#: Fewest answered satisfaction scale items for a straight-line pattern to mean anything.
STRAIGHT_LINE_MIN_ITEMS = 4
#: A served time this far after the submission is a clock problem, not a timing.
CLOCK_SKEW_SECONDS = 5.0
#: Sources whose responses have no clock: a paper carries a date, typed in later. No
#: completion time (so neither ``TOO_FAST`` nor ``NO_TIMING``), and the sweep leaves them
#: out of the time-based detectors (batches, chains, bursts, odd hours, hourly norms).
UNTIMED_SOURCES = frozenset({"paper"})


@dataclass(frozen=True)
class ReadingModel:
    """Least plausible completion time of a questionnaire, from what a person must read.

    Defaults: ordinary reading of Chinese is about 300 to 500 characters a minute (5 to 8 a
    second); 25 a second is a skim three to five times faster, so a person who reads the
    questions at all is slower. Half a second per answer is the tap itself; typed text at 3
    characters a second is quick pinyin input. Settings: ``INTEGRITY_READING_CPS``,
    ``INTEGRITY_SECONDS_PER_ANSWER``, ``INTEGRITY_TYPING_CPS``, ``MIN_PLAUSIBLE_SECONDS``.
    """

    chars_per_second: float = 25.0
    seconds_per_answer: float = 0.5
    typing_chars_per_second: float = 3.0
    floor_seconds: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReadingModel:
        """The model of an app's settings."""
        return cls(
            chars_per_second=float(config["INTEGRITY_READING_CPS"]),
            seconds_per_answer=float(config["INTEGRITY_SECONDS_PER_ANSWER"]),
            typing_chars_per_second=float(config["INTEGRITY_TYPING_CPS"]),
            floor_seconds=float(config["MIN_PLAUSIBLE_SECONDS"]),
        )

    def question_seconds(self, defn: Definition) -> dict[str, float]:
        """Reading and answering seconds per question key, in definition order."""
        out: dict[str, float] = {}
        previous: tuple[str, ...] = ()
        for q in defn.questions:
            chars = len(q.text) + len(q.help or "")
            labels = tuple(o.label for o in q.options)
            if labels and labels != previous:
                chars += sum(len(label) for label in labels)
            previous = labels
            out[q.key] = chars / self.chars_per_second + self.seconds_per_answer
        return out

    def minimum(
        self,
        seconds: Mapping[str, float],
        visible: Sequence[str],
        typed_chars: int = 0,
    ) -> float:
        """Least plausible seconds for the ``visible`` questions and ``typed_chars`` typed."""
        total = sum(seconds.get(k, 0.0) for k in visible)
        total += typed_chars / self.typing_chars_per_second
        return round(max(total, self.floor_seconds), 1)


@dataclass(frozen=True)
class Window:
    """A point's collection window: dates (UTC) and daily local minutes, each optional."""

    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    daily_start: int | None = None
    daily_end: int | None = None

    def contains(self, moment: dt.datetime) -> bool:
        """True when ``moment`` lies inside the window."""
        if self.starts_at is not None and moment < self.starts_at:
            return False
        if self.ends_at is not None and moment >= self.ends_at:
            return False
        if self.daily_start is None or self.daily_end is None:
            return True
        local = moment.astimezone(CST)
        minute = local.hour * 60 + local.minute
        if self.daily_start <= self.daily_end:
            return self.daily_start <= minute < self.daily_end
        return minute >= self.daily_start or minute < self.daily_end  # past midnight

    def describe(self) -> str:
        """The window in words (China time)."""
        parts = []
        if self.starts_at or self.ends_at:
            start = (
                self.starts_at.astimezone(CST).strftime("%Y-%m-%d %H:%M") if self.starts_at else ""
            )
            end = self.ends_at.astimezone(CST).strftime("%Y-%m-%d %H:%M") if self.ends_at else ""
            parts.append(f"{start or '不限'}至{end or '不限'}")
        if self.daily_start is not None and self.daily_end is not None:
            parts.append(f"每天{_hhmm(self.daily_start)}—{_hhmm(self.daily_end)}")
        return "，".join(parts) or "不限"

    def describe_hours(self) -> str:
        """The daily hours as ``HH:MM-HH:MM`` (empty when none)."""
        if self.daily_start is None or self.daily_end is None:
            return ""
        return f"{_hhmm(self.daily_start)}-{_hhmm(self.daily_end)}"

    def __bool__(self) -> bool:
        return any(
            v is not None for v in (self.starts_at, self.ends_at, self.daily_start, self.daily_end)
        )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Screen:
    """What the request adds to the per-response checks (all optional)."""

    model: ReadingModel = field(default_factory=ReadingModel)
    #: Length of the honeypot field's value (0: left empty, as people do).
    honeypot_length: int = 0
    network_hash: str | None = None
    agent_hash: str | None = None
    window: Window | None = None
    #: The point's channel expects residents of its own district (notice board, door-to-door).
    local_point: bool = False
    #: District id of every street and district id of the point's city.
    district_of_region: Mapping[int, int] = field(default_factory=dict)
    #: False for a source without a clock (``UNTIMED_SOURCES``): no timing flags at all.
    timed: bool = True


def timing(
    served_at: dt.datetime | None, submitted: dt.datetime
) -> tuple[float | None, QualityFlag]:
    """Completion seconds (None when unverifiable) and ``NO_TIMING`` when so."""
    if served_at is None or served_at > submitted + dt.timedelta(seconds=CLOCK_SKEW_SECONDS):
        return None, QualityFlag.NO_TIMING
    return round(max((submitted - served_at).total_seconds(), 0.0), 1), QualityFlag(0)


def typed_chars(defn: Definition, answers: Mapping[str, Any], others: Mapping[str, str]) -> int:
    """Characters typed: free-text answers and the text of "其他" options."""
    total = sum(len(t) for t in others.values())
    for q in defn.questions:
        if q.type == "text":
            value = answers.get(q.key)
            if isinstance(value, str):
                total += len(value)
    return total


def straight_line(defn: Definition, answers: Mapping[str, Any]) -> tuple[int, str] | None:
    """(items, value) when every answered satisfaction item of one scale has the same value."""
    by_scale: dict[tuple[str, ...], list[str]] = {}
    for q in defn.metric_questions("satisfaction"):
        if q.type != "scale":
            continue
        value = answers.get(q.key)
        if isinstance(value, str) and value:
            by_scale.setdefault(q.option_values, []).append(value)
    for values in by_scale.values():
        if len(values) >= STRAIGHT_LINE_MIN_ITEMS and len(set(values)) == 1:
            return len(values), values[0]
    return None


def residence_outside(
    screen: Screen, residence_id: int | None, point_district_id: int | None
) -> bool:
    """A local point's resident who declares a home in another district."""
    if not screen.local_point or residence_id is None or point_district_id is None:
        return False
    district = screen.district_of_region.get(residence_id)
    return district is not None and district != point_district_id


def store_flags(
    *,
    duration: float | None,
    minimum: float,
    straight: bool,
    screen: Screen,
    residence_outside_district: bool,
    submitted: dt.datetime,
) -> QualityFlag:
    """The per-response bits (timing's ``NO_TIMING`` aside), with ``EXCLUDED`` when strong."""
    flags = QualityFlag(0)
    if duration is not None and duration < minimum:
        flags |= QualityFlag.TOO_FAST
    if straight:
        flags |= QualityFlag.STRAIGHT_LINE
    if screen.honeypot_length:
        flags |= QualityFlag.HONEYPOT
    if residence_outside_district:
        flags |= QualityFlag.RESIDENCE
    if screen.window and not screen.window.contains(submitted):
        flags |= QualityFlag.OUT_OF_WINDOW
    if flags & STRONG_ON_STORE:
        flags |= QualityFlag.EXCLUDED
    return flags
