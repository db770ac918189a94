"""The integrity sweep: cross-response signals over the responses stored since a watermark.

Choice (the issue leaves it open): the resident's request does no integrity work beyond the
per-response arithmetic of :mod:`.screening` (no extra statement on the hot path, whose
throughput is the load benchmark's yardstick, and on SQLite every write serialises all
workers). Instead a sweep runs every ``INTEGRITY_SWEEP_SECONDS`` in one web process at a time
(a lease row decides which; the thread is started with the server by gunicorn's
``post_worker_init``, see :mod:`.background`) or from ``survey integrity sweep`` (cron). It
examines the responses with an id above its watermark that are older than
``INTEGRITY_SETTLE_SECONDS`` (so a slower transaction with a smaller id has committed), and
for each point they touch it reads only that point's responses of the last
``INTEGRITY_LOOKBACK_MINUTES`` plus the few before them that the answer signals need, the
point's hourly state (``point_activity_hourly``) for its own norm and history, and the city's
baseline (cached). Cost grows with new responses, never with all responses. Findings are
written as ``response_flags`` rows and ``Response.flags`` bits; flags of a response that a
reviewer already decided stay as decided. Inside an attack the strong flags go to the
responses the evidence points at, one by one (:mod:`.decisions`), not to every response of the
run.

The sweep is its own unit of work, like the scan counter: it commits its lease, then reads
and computes outside any write transaction, then writes everything in one short
transaction, so a SQLite write lock is never held while it computes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import Table
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from questionnaires import OTHER_VALUE
from questionnaires import Definition
from questionnaires import visible_keys
from survey.cache import cached
from survey.extensions import db
from survey.models import Answer
from survey.models import CollectionPoint
from survey.models import IntegrityState
from survey.models import PointHourly
from survey.models import PointWindow
from survey.models import QualityFlag
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.models import ResponseFlag
from survey.models.base import utcnow
from survey.services.integrity import catalogue
from survey.services.integrity import decisions
from survey.services.integrity import patterns
from survey.services.integrity.patterns import Baseline
from survey.services.integrity.patterns import Finding
from survey.services.integrity.patterns import History
from survey.services.integrity.patterns import Norms
from survey.services.integrity.patterns import Row
from survey.services.integrity.patterns import Thresholds
from survey.services.integrity.screening import UNTIMED_SOURCES
from survey.services.integrity.screening import ReadingModel
from survey.services.integrity.screening import Window
from survey.services.integrity.screening import straight_line
from survey.services.integrity.screening import typed_chars
from survey.services.questionnaires import definition_of
from survey.services.responses import lock_for_write
from survey.timeutil import local_time

#: How long a sweep may hold the lease before another process may take over.
LEASE_SECONDS = 300
#: Days of hourly history behind a point's own norm, its channel's and the city's hours.
HISTORY_DAYS = 28
#: Most responses of one burst its answer statistics are computed on.
BURST_ANSWER_SAMPLE = 200
#: Per-response bits whose evidence the sweep writes as rows.
ON_STORE = (
    QualityFlag.TOO_FAST
    | QualityFlag.STRAIGHT_LINE
    | QualityFlag.NO_TIMING
    | QualityFlag.HONEYPOT
    | QualityFlag.RESIDENCE
    | QualityFlag.OUT_OF_WINDOW
)
_CHUNK = 500


@dataclass
class SweepResult:
    """What one sweep did."""

    examined: int = 0
    points: int = 0
    flags_added: int = 0
    responses_flagged: int = 0
    watermark: int = 0
    busy: bool = False


def sweep(now: dt.datetime | None = None, limit: int | None = None) -> SweepResult:
    """Examine the responses stored since the watermark; write flags; advance the watermark.

    ``now`` is the time the settle delay counts from (default: the clock). Returns
    ``SweepResult(busy=True)`` when another process holds the lease. Commits.
    """
    config = current_app.config
    now = now or utcnow()
    limit = int(limit or config["INTEGRITY_SWEEP_BATCH"])
    settle = now - dt.timedelta(seconds=float(config["INTEGRITY_SETTLE_SECONDS"]))
    watermark = _take_lease()
    if watermark is None:
        return SweepResult(busy=True)
    try:
        work = _examine(watermark, settle, limit, config)
        db.session.rollback()  # end the read transaction before writing
        if work.rows:
            _write(work)
        _release(work.watermark if work.rows else watermark, now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _release(watermark, None)
        db.session.commit()
        raise
    return work.result()


def sweep_all(now: dt.datetime | None = None, limit: int | None = None) -> SweepResult:
    """Sweep until no examinable response is left (the command line)."""
    total = SweepResult()
    while True:
        result = sweep(now, limit)
        if result.busy:
            total.busy = True
            return total
        total.examined += result.examined
        total.points += result.points
        total.flags_added += result.flags_added
        total.responses_flagged += result.responses_flagged
        total.watermark = result.watermark
        if result.examined == 0:
            return total


def state() -> IntegrityState | None:
    """The sweep's state row (None before the first sweep)."""
    return db.session.get(IntegrityState, 1)


# --- lease -------------------------------------------------------------------------------

_STATE: Table = IntegrityState.__table__  # type: ignore[assignment]


def _take_lease() -> int | None:
    """Take the lease in a short transaction of its own; the watermark, or None if busy."""
    real_now = utcnow()
    _ensure_state()
    lock_for_write()
    conn = db.session.connection()
    taken = conn.execute(
        update(_STATE)
        .where(
            _STATE.c.id == 1,
            or_(_STATE.c.lease_until.is_(None), _STATE.c.lease_until < real_now),
        )
        .values(lease_until=real_now + dt.timedelta(seconds=LEASE_SECONDS))
    ).rowcount
    mark = conn.execute(select(_STATE.c.watermark).where(_STATE.c.id == 1)).scalar_one()
    db.session.commit()
    return int(mark) if taken == 1 else None


def _ensure_state() -> None:
    """Create the state row if it is missing (a race with another process is harmless)."""
    lock_for_write()
    conn = db.session.connection()
    if conn.execute(select(_STATE.c.id).where(_STATE.c.id == 1)).first() is None:
        try:
            with db.session.begin_nested():
                db.session.connection().execute(insert(_STATE).values(id=1, watermark=0))
        except IntegrityError:  # another process created it first
            pass


def _release(watermark: int, swept_at: dt.datetime | None) -> None:
    """Give the lease back; the watermark only ever moves forward."""
    lock_for_write()
    mark = _STATE.c.watermark
    values: dict[str, Any] = {
        "lease_until": None,
        "watermark": case((mark < watermark, watermark), else_=mark),
    }
    if swept_at is not None:
        values.update(swept_at=swept_at, failed_at=None, failure=None)
    db.session.connection().execute(update(_STATE).where(_STATE.c.id == 1).values(**values))


# --- examining ---------------------------------------------------------------------------

_ROW_COLUMNS = (
    Response.id,
    Response.point_id,
    Response.channel_id,
    Response.questionnaire_version_id,
    Response.submitted_at,
    Response.served_at,
    Response.duration_seconds,
    Response.device_hash,
    Response.network_hash,
    Response.agent_hash,
    Response.satisfaction,
    Response.flags,
    Response.residence_region_id,
    Response.district_id,
    Response.source,
)


@dataclass
class _Stored:
    """A response as read by the sweep (a detector ``Row`` plus what the sweep needs)."""

    row: Row
    point_id: int | None
    channel_id: int | None
    version_id: int
    duration: float | None
    residence_id: int | None
    district_id: int | None
    #: False for a source without a clock (paper): kept out of the time-based detectors.
    timed: bool = True


def _stored(r: Any) -> _Stored:
    return _Stored(
        row=Row(
            id=r.id,
            submitted_at=r.submitted_at,
            served_at=r.served_at,
            device_hash=r.device_hash,
            network_hash=r.network_hash,
            agent_hash=r.agent_hash,
            satisfaction=r.satisfaction,
            flags=int(r.flags),
        ),
        point_id=r.point_id,
        channel_id=r.channel_id,
        version_id=r.questionnaire_version_id,
        duration=r.duration_seconds,
        residence_id=r.residence_region_id,
        district_id=r.district_id,
        timed=r.source not in UNTIMED_SOURCES,
    )


@dataclass
class _Work:
    """Everything one sweep found, ready to write."""

    rows: list[_Stored]
    watermark: int
    points: int = 0
    findings: list[tuple[Finding, dict[int, int | None]]] = field(default_factory=list)
    on_store: list[tuple[int, int | None, str, dict[str, Any]]] = field(default_factory=list)
    added: dict[tuple[int, str], tuple[str, str, int | None]] = field(default_factory=dict)
    upgraded: dict[tuple[int, str], str] = field(default_factory=dict)
    bits: dict[int, int] = field(default_factory=dict)
    counts: SweepResult = field(default_factory=SweepResult)

    def result(self) -> SweepResult:
        self.counts.examined = len(self.rows)
        self.counts.points = self.points
        self.counts.watermark = self.watermark
        return self.counts


def _examine(watermark: int, settle: dt.datetime, limit: int, config: Mapping[str, Any]) -> _Work:
    conn = db.session.connection()
    fresh = conn.execute(
        select(*_ROW_COLUMNS).where(Response.id > watermark).order_by(Response.id).limit(limit)
    ).all()
    rows: list[_Stored] = []
    for r in fresh:
        if r.submitted_at > settle:
            break  # the watermark stays contiguous: later ids wait for the next sweep
        rows.append(_stored(r))
    work = _Work(rows=rows, watermark=rows[-1].row.id if rows else watermark)
    if not rows:
        return work
    th = Thresholds.from_config(config)
    by_point: dict[int, list[_Stored]] = defaultdict(list)
    for s in rows:
        if s.point_id is not None:
            by_point[s.point_id].append(s)
    work.points = len(by_point)
    city_hours = _city_hours()
    channel_norms = _channel_norms()
    for point_id, new in by_point.items():
        found, stored = _examine_point(point_id, new, work.watermark, th, city_hours, channel_norms)
        owners = {s.row.id: s.point_id for s in stored}
        work.findings.extend((f, owners) for f in found)
    work.on_store = _on_store_evidence(rows, ReadingModel.from_config(config))
    _reconcile(work)
    return work


def _examine_point(
    point_id: int,
    new: list[_Stored],
    max_id: int,
    th: Thresholds,
    city_hours: Sequence[float],
    channel_norms: Mapping[int, float],
) -> tuple[list[Finding], list[_Stored]]:
    """Findings of the detectors over one point's responses around the new ones."""
    t0 = min(s.row.submitted_at for s in new)
    since = t0 - dt.timedelta(minutes=th.lookback_minutes)
    conn = db.session.connection()
    recent = [
        _stored(r)
        for r in conn.execute(
            select(*_ROW_COLUMNS).where(
                Response.point_id == point_id,
                Response.submitted_at >= since,
                Response.id <= max_id,
            )
        )
    ]
    new_ids = {s.row.id for s in new}
    context = th.answer_window // 2
    before = [
        _stored(r)
        for r in conn.execute(
            select(*_ROW_COLUMNS)
            .where(Response.point_id == point_id, Response.submitted_at < since)
            .order_by(Response.submitted_at.desc())
            .limit(context)
        )
    ]
    everything = sorted(before + recent, key=lambda s: (s.row.submitted_at, s.row.id))
    timed = [s.row for s in recent if s.timed]
    start_hour = _hour(since)
    own, history = _point_history(point_id, start_hour)
    channel = new[-1].channel_id
    norms = Norms(own, channel_norms.get(channel, 0.0) if channel is not None else 0.0)

    found: list[Finding] = []
    found += patterns.preloaded_batches(timed, th)
    found += patterns.serial_chains(timed, th)
    network = patterns.shared_network(timed, th)
    found += network
    found += patterns.odd_hours([s.row for s in new if s.timed], city_hours, th)
    found += patterns.satisfaction_jump([s.row for s in everything], history, th)

    version_id = new[-1].version_id
    same = [s for s in everything if s.version_id == version_id]
    city = _baseline(version_id)
    encoded = _encode(city, [s.row.id for s in same]) if city is not None else None
    if city is not None and encoded is not None:
        first_new = next((i for i, s in enumerate(same) if s.row.id in new_ids), len(same))
        found += _answer_findings(encoded, first_new, city, th)
    by_id = {s.row.id: s.row for s in everything}
    for burst in patterns.bursts(timed, norms, th):
        found += _decide_burst(burst, by_id, found, city, encoded, th)
    return found, everything


def _answer_findings(
    encoded: tuple[list[int], np.ndarray, np.ndarray], first_new: int, city: _City, th: Thresholds
) -> list[Finding]:
    """``UNIFORM`` and ``SKEWED`` over runs of responses; a skewed run is strong only over
    the responses whose answers follow the run's profile rather than the city's."""
    ids, codes, scores = encoded
    row_of = {rid: i for i, rid in enumerate(ids)}
    out: list[Finding] = []
    for finding in patterns.answer_blocks(ids, codes, scores, first_new, city.baseline, th):
        if finding.flag is not QualityFlag.SKEWED:
            out.append(finding)
            continue
        index = [row_of[i] for i in finding.ids]
        members = decisions.profile_members(finding.ids, codes[index], city.baseline.codes)
        out += [f for f in decisions.split(finding, members) if f.strength == "strong"]
    return out


def _decide_burst(
    burst: Finding,
    by_id: Mapping[int, Row],
    found: Sequence[Finding],
    city: _City | None,
    encoded: tuple[list[int], np.ndarray, np.ndarray] | None,
    th: Thresholds,
) -> list[Finding]:
    """A burst, strong over the responses the evidence points at, weak over the rest."""
    reason, answer_members = _burst_answers(burst, city, encoded, th)
    decided = patterns.corroborate(burst, by_id, found, reason)
    if decided.strength == "weak":
        return [decided]
    members = decisions.attack_members(
        burst.ids,
        patterns.strong_ids(burst.ids, by_id, found),
        decisions.top_pair(burst.ids, by_id),
        answer_members if reason else None,
    )
    return decisions.split(decided, members)


def _burst_answers(
    burst: Finding,
    city: _City | None,
    encoded: tuple[list[int], np.ndarray, np.ndarray] | None,
    th: Thresholds,
) -> tuple[str | None, set[int]]:
    """Why the burst's answers look generated (None: they do not), and which of its
    responses follow its answer profile."""
    if city is None or encoded is None:
        return None, set()
    ids, codes, scores = encoded
    members = set(burst.ids)
    index = [i for i, rid in enumerate(ids) if rid in members][-BURST_ANSWER_SAMPLE:]
    if len(index) < th.answer_min:
        return None, set()
    chosen = [ids[i] for i in index]
    stats = patterns.answer_stats(chosen, codes[index], scores[index], city.baseline)
    profile = decisions.profile_members(chosen, codes[index], city.baseline.codes)
    if patterns.uniform_finding(stats, th) is not None:
        return f"{len(stats.similar_ids)}份答案几乎相同", profile | set(stats.similar_ids)
    return patterns.skew_reason(stats, city.baseline, th), profile


def _hour(moment: dt.datetime) -> int:
    return math.floor(moment.timestamp() / 3600)


def _point_history(point_id: int, start_hour: int) -> tuple[float, History]:
    """A point's own hourly norm (mean + 2 sd of its busy hours) and satisfaction history."""
    h = PointHourly
    row = db.session.execute(
        select(
            func.count(),
            func.sum(h.responses),
            func.sum(h.responses * h.responses),
            func.sum(h.satisfaction_n),
            func.sum(h.satisfaction_sum),
        ).where(
            h.point_id == point_id,
            h.hour < start_hour,
            h.hour >= start_hour - HISTORY_DAYS * 24,
        )
    ).one()
    hours, total, squares, sat_n, sat_sum = row
    norm = _mean_plus_2sd(int(hours or 0), float(total or 0), float(squares or 0))
    sat_n = int(sat_n or 0)
    history = History(sat_n, float(sat_sum) / sat_n if sat_n else None)
    return norm, history


def _mean_plus_2sd(count: int, total: float, squares: float) -> float:
    if count == 0:
        return 0.0
    mean = total / count
    var = max(squares / count - mean * mean, 0.0)
    return mean + 2 * math.sqrt(var)


def _channel_norms() -> dict[int, float]:
    """Per channel, the usual busy hour of its points (mean + 2 sd of hourly counts)."""

    def build() -> dict[int, float]:
        h = PointHourly
        since = _hour(utcnow()) - HISTORY_DAYS * 24
        rows = db.session.execute(
            select(
                CollectionPoint.channel_id,
                func.count(),
                func.sum(h.responses),
                func.sum(h.responses * h.responses),
            )
            .join(CollectionPoint, CollectionPoint.id == h.point_id)
            .where(h.hour >= since)
            .group_by(CollectionPoint.channel_id)
        ).all()
        return {int(c): _mean_plus_2sd(int(n), float(t or 0), float(s or 0)) for c, n, t, s in rows}

    return cached("integrity", ("channel_norms",), build)


#: The city needs this many responses in its hourly history before hours count as odd.
CITY_HOURS_MIN = 500


def _city_hours() -> list[float]:
    """Share of the city's responses per local hour of the day (empty: too little history)."""

    def build() -> list[float]:
        h = PointHourly
        since = _hour(utcnow()) - HISTORY_DAYS * 24
        rows = db.session.execute(
            select(h.hour, func.sum(h.responses)).where(h.hour >= since).group_by(h.hour)
        ).all()
        per = [0.0] * 24
        for hour, count in rows:
            per[(int(hour) + 8) % 24] += float(count or 0)  # China time is UTC+8
        total = sum(per)
        return [p / total for p in per] if total >= CITY_HOURS_MIN else []

    return cached("integrity", ("city_hours",), build)


# --- the city's answers ------------------------------------------------------------------


@dataclass
class _City:
    """A version's baseline and how its answers are encoded (codes shared with the baseline)."""

    definition: Definition
    keys: tuple[str, ...]
    scale_keys: tuple[str, ...]
    vocab: list[dict[str, int]]
    baseline: Baseline = field(init=False)

    def encode(
        self, answers: Mapping[int, Mapping[str, list[str]]], ids: Sequence[int]
    ) -> np.ndarray:
        codes = np.full((len(ids), len(self.keys)), -1, dtype=np.int64)
        for row, rid in enumerate(ids):
            given = answers.get(rid, {})
            for col, key in enumerate(self.keys):
                values = given.get(key)
                if values:
                    text = ",".join(sorted(values))
                    vocab = self.vocab[col]
                    codes[row, col] = vocab.setdefault(text, len(vocab))
        return codes

    def scores(
        self, answers: Mapping[int, Mapping[str, list[str]]], ids: Sequence[int]
    ) -> np.ndarray:
        out = np.full((len(ids), len(self.scale_keys)), np.nan)
        for row, rid in enumerate(ids):
            given = answers.get(rid, {})
            for col, key in enumerate(self.scale_keys):
                values = given.get(key)
                option = self.definition.question(key).option(values[0]) if values else None
                if option is not None and option.score is not None and option.substantive:
                    out[row, col] = option.score
        return out


def _definition(version_id: int) -> Definition | None:
    version = db.session.get(QuestionnaireVersion, version_id)
    if version is None:
        return None
    return cached("definitions", (version.id, version.checksum), lambda: definition_of(version))


def _baseline(version_id: int) -> _City | None:
    """The city's recent answers to one version, counted in estimates (cached)."""
    found: _City | None = cached("integrity", ("baseline", version_id), lambda: _build(version_id))
    return found


def _build(version_id: int) -> _City | None:
    defn = _definition(version_id)
    if defn is None:
        return None
    keys = tuple(
        q.key
        for q in defn.questions
        if q.metric is not None and q.type in ("single", "multiple", "scale")
    )
    scale_keys = tuple(q.key for q in defn.metric_questions("satisfaction") if q.type == "scale")
    if len(keys) < 3:
        return None
    size = int(current_app.config["INTEGRITY_BASELINE_SAMPLE"])
    ids = list(
        db.session.execute(
            select(Response.id)
            .where(
                Response.questionnaire_version_id == version_id,
                Response.flags.bitwise_and(int(QualityFlag.EXCLUDED)) == 0,
            )
            .order_by(Response.id.desc())
            .limit(size)
        ).scalars()
    )
    city = _City(defn, keys, scale_keys, [{} for _ in keys])
    answers = _answers(ids, keys)
    city.baseline = Baseline(keys, city.encode(answers, ids), city.scores(answers, ids))
    return city


def _encode(city: _City, ids: Sequence[int]) -> tuple[list[int], np.ndarray, np.ndarray] | None:
    if not ids:
        return None
    answers = _answers(ids, city.keys)
    ordered = list(ids)
    return ordered, city.encode(answers, ordered), city.scores(answers, ordered)


def _answers(
    ids: Sequence[int], keys: Iterable[str] | None = None
) -> dict[int, dict[str, list[str]]]:
    """Answer values by response id and question key (texts of free answers included).

    Selected by response id only: with a condition on the question key as well, SQLite
    prefers the (question, value) index and reads every answer of those questions.
    """
    wanted = frozenset(keys) if keys is not None else None
    out: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        query = select(Answer.response_id, Answer.question_key, Answer.value, Answer.text).where(
            Answer.response_id.in_(chunk)
        )
        for rid, key, value, text in db.session.connection().execute(query):
            if wanted is not None and key not in wanted:
                continue
            out[rid].setdefault(key, []).append(value if value is not None else (text or ""))
            if value == OTHER_VALUE and text:
                out[rid].setdefault(f"{key}__other", []).append(text)
    return out


# --- per-response evidence ---------------------------------------------------------------


def _on_store_evidence(
    rows: Sequence[_Stored], model: ReadingModel
) -> list[tuple[int, int | None, str, dict[str, Any]]]:
    """Evidence rows of the per-response bits set when the responses were stored."""
    marked = [s for s in rows if s.row.flags & int(ON_STORE)]
    if not marked:
        return []
    needs_answers = [
        s.row.id
        for s in marked
        if s.row.flags & int(QualityFlag.TOO_FAST | QualityFlag.STRAIGHT_LINE)
    ]
    answers = _answers(needs_answers)
    windows = _windows({s.point_id for s in marked if s.row.flags & QualityFlag.OUT_OF_WINDOW})
    names = _region_names(marked)
    out: list[tuple[int, int | None, str, dict[str, Any]]] = []
    for s in marked:
        for flag in QualityFlag(s.row.flags & int(ON_STORE)):
            evidence = _evidence(flag, s, answers.get(s.row.id, {}), model, windows, names)
            out.append((s.row.id, s.point_id, str(flag.name), evidence))
    return out


def _evidence(
    flag: QualityFlag,
    s: _Stored,
    given: Mapping[str, list[str]],
    model: ReadingModel,
    windows: Mapping[int | None, Window],
    names: Mapping[int, str],
) -> dict[str, Any]:
    defn = _definition(s.version_id)
    answers = {k: (v if len(v) > 1 else v[0]) for k, v in given.items() if "__" not in k}
    if flag is QualityFlag.TOO_FAST and defn is not None:
        visible = visible_keys(defn, answers)
        others = {k.split("__")[0]: v[0] for k, v in given.items() if "__" in k}
        seconds = model.question_seconds(defn)
        minimum = model.minimum(
            seconds,
            [q.key for q in defn.questions if q.key in visible],
            typed_chars(defn, answers, others),
        )
        return {"duration": s.duration, "minimum": minimum, "questions": len(visible)}
    if flag is QualityFlag.STRAIGHT_LINE and defn is not None:
        found = straight_line(defn, answers)
        if found is not None:
            items, value = found
            label = next(
                (
                    o.label
                    for q in defn.questions
                    for o in q.options
                    if q.type == "scale" and o.value == value
                ),
                value,
            )
            return {"items": items, "label": label}
    if flag is QualityFlag.OUT_OF_WINDOW:
        window = windows.get(s.point_id)
        return {
            "submitted": local_time(s.row.submitted_at),
            "window": window.describe() if window else "已删除",
        }
    if flag is QualityFlag.RESIDENCE:
        return {
            "residence": names.get(s.residence_id or 0, "?"),
            "district": names.get(s.district_id or 0, "区（县）"),
        }
    return {}


def _windows(point_ids: set[int | None]) -> dict[int | None, Window]:
    ids = [p for p in point_ids if p is not None]
    if not ids:
        return {}
    rows = db.session.execute(select(PointWindow).where(PointWindow.point_id.in_(ids))).scalars()
    return {w.point_id: Window(w.starts_at, w.ends_at, w.daily_start, w.daily_end) for w in rows}


def _region_names(rows: Sequence[_Stored]) -> dict[int, str]:
    ids = {
        i
        for s in rows
        if s.row.flags & QualityFlag.RESIDENCE
        for i in (s.residence_id, s.district_id)
        if i is not None
    }
    if not ids:
        return {}
    return dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(ids))).all())


# --- reconciling with stored flags and writing -------------------------------------------


def _reconcile(work: _Work) -> None:
    """Decide which flag rows to add or strengthen and which bits to set."""
    candidates: dict[tuple[int, str], tuple[str, str, int | None]] = {}

    def offer(
        rid: int, point_id: int | None, code: str, strength: str, evidence: dict[str, Any]
    ) -> None:
        key = (rid, code)
        held = candidates.get(key)
        if held is None or (held[0] == "weak" and strength == "strong"):
            candidates[key] = (
                strength,
                json.dumps(evidence, ensure_ascii=False, sort_keys=True),
                point_id,
            )

    for rid, point_id, code, evidence in work.on_store:
        offer(rid, point_id, code, catalogue.kind(code).strength, evidence)
    for finding, owners in work.findings:
        code = str(finding.flag.name)
        for rid in finding.ids:
            offer(rid, owners.get(rid), code, finding.strength, finding.evidence)
    if not candidates:
        return
    existing = _existing_flags(sorted({rid for rid, _ in candidates}))
    for key, (strength, evidence, point_id) in candidates.items():
        held = existing.get(key)
        rid, code = key
        bit = int(catalogue.kind(code).flag)
        if held is None:
            work.added[key] = (strength, evidence, point_id)
        elif held == ("weak", "unreviewed") and strength == "strong":
            work.upgraded[key] = evidence
        else:
            continue
        work.bits[rid] = (
            work.bits.get(rid, 0) | bit | (int(QualityFlag.EXCLUDED) if strength == "strong" else 0)
        )
    work.counts.flags_added = len(work.added) + len(work.upgraded)
    work.counts.responses_flagged = len(work.bits)


def _existing_flags(ids: Sequence[int]) -> dict[tuple[int, str], tuple[str, str]]:
    out: dict[tuple[int, str], tuple[str, str]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        for rid, code, strength, status in db.session.execute(
            select(
                ResponseFlag.response_id,
                ResponseFlag.code,
                ResponseFlag.strength,
                ResponseFlag.status,
            ).where(ResponseFlag.response_id.in_(chunk))
        ):
            out[(rid, code)] = (strength, status)
    return out


_FLAGS: Table = ResponseFlag.__table__  # type: ignore[assignment]
_RESPONSES: Table = Response.__table__  # type: ignore[assignment]
_HOURLY: Table = PointHourly.__table__  # type: ignore[assignment]


def _write(work: _Work) -> None:
    """Write the flags, the bits and the hourly state in one short transaction."""
    lock_for_write()
    conn = db.session.connection()
    mark = conn.execute(select(_STATE.c.watermark).where(_STATE.c.id == 1)).scalar_one()
    if int(mark) >= work.watermark:
        return  # swept meanwhile (a lease that ran out): nothing to add
    now = utcnow()
    if work.added:
        conn.execute(
            insert(_FLAGS),
            [
                {
                    "response_id": rid,
                    "point_id": point_id,
                    "code": code,
                    "strength": strength,
                    "evidence": evidence,
                    "status": "unreviewed",
                    "created_at": now,
                }
                for (rid, code), (strength, evidence, point_id) in work.added.items()
            ],
        )
    for (rid, code), evidence in work.upgraded.items():
        conn.execute(
            update(_FLAGS)
            .where(
                _FLAGS.c.response_id == rid, _FLAGS.c.code == code, _FLAGS.c.status == "unreviewed"
            )
            .values(strength="strong", evidence=evidence)
        )
    by_bits: dict[int, list[int]] = defaultdict(list)
    for rid, bits in work.bits.items():
        by_bits[bits].append(rid)
    for bits, ids in by_bits.items():
        for start in range(0, len(ids), _CHUNK):
            conn.execute(
                update(_RESPONSES)
                .where(_RESPONSES.c.id.in_(ids[start : start + _CHUNK]))
                .values(flags=_RESPONSES.c.flags.op("|")(bindparam("bits", bits)))
            )
    _add_hourly(conn, work)


def _add_hourly(conn: Any, work: _Work) -> None:
    """Fold the new responses that count in estimates into ``point_activity_hourly``."""
    totals: dict[tuple[int, int], list[float]] = {}
    excluded = int(QualityFlag.EXCLUDED)
    for s in work.rows:
        if s.point_id is None or (s.row.flags | work.bits.get(s.row.id, 0)) & excluded:
            continue
        if not s.timed:  # a paper's noon is no hour of activity
            continue
        cell = totals.setdefault((s.point_id, _hour(s.row.submitted_at)), [0, 0, 0.0])
        cell[0] += 1
        if s.row.satisfaction is not None:
            cell[1] += 1
            cell[2] += s.row.satisfaction
    if not totals:
        return
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    rows = [
        {
            "point_id": p,
            "hour": h,
            "responses": int(n),
            "satisfaction_n": int(k),
            "satisfaction_sum": t,
        }
        for (p, h), (n, k, t) in sorted(totals.items())
    ]
    stmt = dialect_insert(_HOURLY)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_HOURLY.c.point_id, _HOURLY.c.hour],
        set_={
            "responses": _HOURLY.c.responses + stmt.excluded.responses,
            "satisfaction_n": _HOURLY.c.satisfaction_n + stmt.excluded.satisfaction_n,
            "satisfaction_sum": _HOURLY.c.satisfaction_sum + stmt.excluded.satisfaction_sum,
        },
    )
    conn.execute(stmt, rows)  # one statement, executed for every row


# --- failures and requests --------------------------------------------------------------


def record_failure(cause: str, moment: dt.datetime | None = None) -> None:
    """Store the cause of a failed sweep (shown on the quality page until one succeeds).

    Commits, in a short transaction of its own (the failed sweep's was rolled back).
    """
    db.session.rollback()
    _ensure_state()
    lock_for_write()
    db.session.connection().execute(
        update(_STATE)
        .where(_STATE.c.id == 1)
        .values(failed_at=moment or utcnow(), failure=cause[:1000])
    )
    db.session.commit()


def request_sweep(moment: dt.datetime | None = None) -> None:
    """Note that staff asked for a sweep now (the background sweep runs it); flushes."""
    _ensure_state()
    lock_for_write()
    db.session.connection().execute(
        update(_STATE).where(_STATE.c.id == 1).values(requested_at=moment or utcnow())
    )
