"""The fictional demo city (临川市) and seeded synthetic responses for dashboards and benchmarks.

Effects built into the synthetic data, so dashboards have something real to show:
districts differ (临江区 leads, 云溪县 lags), channels differ (official-account readers are
more aware: self-selection), awareness and participation rise week by week as the campaign
runs, collection points add a cluster effect, and a few responses are implausibly fast.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click
import numpy as np
from sqlalchemy import insert

from questionnaires import Definition
from questionnaires import score_answers
from questionnaires import visible_keys
from survey.demo_comments import SEEDED_WEAK_SPOTS
from survey.demo_comments import comment_for
from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import PopulationCount
from survey.models import QualityFlag
from survey.models import Questionnaire
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.services import targets
from survey.services.points import create_point
from survey.services.questionnaires import definition_of
from survey.services.regions import create_region
from survey.services.responses import answer_rows
from survey.services.scans import add_scans
from survey.timeutil import local_day
from survey.timeutil import week_start

CITY = ("999900", "临川市")
DISTRICTS: tuple[tuple[str, str, tuple[str, str, str]], ...] = (
    ("999901", "临江区", ("滨江街道", "东门街道", "望湖街道")),
    ("999902", "青山区", ("青山街道", "松林街道", "白鹭镇")),
    ("999903", "新城区", ("高新街道", "文华街道", "创业街道")),
    ("999904", "云溪县", ("云溪镇", "石桥镇", "桃源镇")),
)
COMMUNITY_NAMES = (
    "和平",
    "幸福",
    "明珠",
    "翠竹",
    "长青",
    "锦绣",
    "春晖",
    "阳光",
    "书香",
    "福泉",
    "金桥",
    "花园",
    "新村",
    "南苑",
    "北湖",
    "丹桂",
    "枫林",
    "康乐",
    "龙井",
    "河西",
    "塘前",
    "柳岸",
    "梅园",
    "星光",
)
AGE_GROUPS = ("18-29", "30-39", "40-49", "50-59", "60+")
SEXES = ("male", "female")
# Logit shifts of the latent propensities.
DISTRICT_EFFECT = (0.45, 0.1, 0.0, -0.35)
CHANNEL_EFFECT = {
    "wechat": 0.5,
    "media": 0.2,
    "notice_board": 0.1,
    "school": 0.3,
    "market": -0.3,
    "service_window": 0.15,
    "door_to_door": 0.25,
    "hospital": -0.1,
    "transit": -0.2,
    "enterprise": 0.0,
    "agency": 0.4,
}
CHANNEL_VOLUME = {
    "wechat": 6.0,
    "media": 1.2,
    "notice_board": 1.0,
    "school": 1.5,
    "market": 1.0,
    "service_window": 0.8,
    "door_to_door": 1.4,
    "hospital": 0.7,
    "transit": 0.8,
    "enterprise": 1.0,
    "agency": 0.8,
}
# Points: (level, channel code, label pattern).
POINT_PLAN: tuple[tuple[str, str, str], ...] = (
    ("district", "wechat", "{name}融媒体公众号推文"),
    ("district", "media", "{name}手机报"),
    ("district", "hospital", "{name}人民医院门诊大厅"),
    ("district", "transit", "{name}公交总站候车亭"),
    ("district", "enterprise", "{name}工业园区企业"),
    ("district", "agency", "{name}政务中心机关"),
    ("street", "market", "{name}农贸市场"),
    ("street", "school", "{name}中心小学家长会"),
    ("street", "service_window", "{name}便民服务中心窗口"),
    ("street", "door_to_door", "{name}入户走访"),
    ("community", "notice_board", "{name}公告栏"),
)


@dataclass(frozen=True)
class DemoSummary:
    """Sizes of the demo city."""

    regions: int
    points: int


def ensure_demo_city() -> DemoSummary:
    """Create the demo regions, population counts and collection points once (idempotent)."""
    regions = {r.code: r for r in db.session.execute(db.select(Region)).scalars()}

    def get_or_create(code: str, name: str, level: str, parent: Region | None) -> Region:
        if code not in regions:
            regions[code] = create_region(code, name, level, parent)
        return regions[code]

    city = get_or_create(CITY[0], CITY[1], "city", None)
    community_names = iter(COMMUNITY_NAMES)
    for d_code, d_name, streets in DISTRICTS:
        district = get_or_create(d_code, d_name, "district", city)
        for i, s_name in enumerate(streets, start=1):
            street = get_or_create(f"{d_code}{i:03d}", s_name, "street", district)
            for j in (1, 2):
                get_or_create(
                    f"{street.code}{j:03d}", f"{next(community_names)}社区", "community", street
                )
    _ensure_population([regions[d[0]] for d in DISTRICTS])
    points = _ensure_points(regions)
    db.session.flush()
    return DemoSummary(regions=len(regions), points=points)


def _ensure_population(districts: Sequence[Region]) -> None:
    have = db.session.execute(db.select(db.func.count(PopulationCount.id))).scalar_one()
    if have:
        return
    rng = np.random.default_rng(7)
    age_share = np.array([0.19, 0.21, 0.2, 0.19, 0.21])
    for district, size in zip(districts, (420_000, 360_000, 300_000, 260_000), strict=True):
        for a, age in enumerate(AGE_GROUPS):
            for s, sex in enumerate(SEXES):
                share = age_share[a] * (0.51 if s == 0 else 0.49)
                count = int(size * share * rng.uniform(0.93, 1.07))
                db.session.add(
                    PopulationCount(region_id=district.id, age_group=age, sex=sex, count=count)
                )


def _ensure_points(regions: dict[str, Region]) -> int:
    version = _demo_version()
    existing = db.session.execute(db.select(db.func.count(CollectionPoint.id))).scalar_one()
    if existing or version is None:
        return int(existing)
    channels = {c.code: c for c in db.session.execute(db.select(Channel)).scalars()}
    count = 0
    ordered = sorted(regions.values(), key=lambda r: r.code)
    for level, channel_code, pattern in POINT_PLAN:
        channel = channels.get(channel_code)
        if channel is None:
            continue
        for region in ordered:
            if region.level == level:
                create_point(version, region, channel, pattern.format(name=region.name))
                count += 1
    return count


def ensure_demo_targets() -> int:
    """Set :data:`DEMO_TARGETS` on the demo questionnaire when it has no target yet; each is
    audit-logged as set from the command line, with a note that it is a demo value. Returns
    how many were set (flushes only)."""
    version = _demo_version()
    if version is None or targets.get_targets(version.questionnaire_id):
        return 0
    for metric, value in DEMO_TARGETS.items():
        targets.set_target(version.questionnaire_id, metric, value, note=DEMO_TARGET_NOTE)
    return len(DEMO_TARGETS)


def _demo_version() -> QuestionnaireVersion | None:
    """The newest open version of the bundled questionnaire."""
    return (
        db.session.execute(
            db.select(QuestionnaireVersion)
            .join(Questionnaire)
            .where(QuestionnaireVersion.status == "open")
            .order_by(QuestionnaireVersion.id.desc())
        )
        .scalars()
        .first()
    )


#: Targets set on the demo questionnaire by ``survey bootstrap`` on a fresh database, so the
#: demo dashboard shows 达标 / 未达标 / 待定. Illustrative values for the fictional city, not
#: an official standard: a real city sets its own on the 目标值 page.
DEMO_TARGETS: dict[str, float] = {
    "awareness": 0.90,
    "participation": 0.70,
    "satisfaction": 0.80,
    "satisfaction_score": 80.0,
}
DEMO_TARGET_NOTE = "演示目标值（survey bootstrap 为演示问卷设置，非正式标准）"

#: Streets built to be thin (a handful of responses): the dashboard must say 样本不足 there.
THIN_STREETS = ("999902003", "999904003")
THIN_FACTOR = 0.08


@dataclass(frozen=True)
class _City:
    """The demo points and regions the generator draws from, read once per run."""

    points: list[CollectionPoint]
    regions: dict[int, Region]
    point_district: list[Region | None]
    streets_by_district: dict[int, list[Region]]


def _load_city() -> _City:
    points = list(
        db.session.execute(
            db.select(CollectionPoint)
            .where(CollectionPoint.active.is_(True))
            .order_by(CollectionPoint.id)
        ).scalars()
    )
    regions = {r.id: r for r in db.session.execute(db.select(Region)).scalars()}
    streets_by_district: dict[int, list[Region]] = {}
    for r in regions.values():
        if r.level == "street" and r.parent_id is not None:
            streets_by_district.setdefault(r.parent_id, []).append(r)
    point_district = [_ancestor(regions, regions[p.region_id], "district") for p in points]
    return _City(points, regions, point_district, streets_by_district)


def _ancestor(regions: dict[int, Region], node: Region | None, level: str) -> Region | None:
    while node is not None and node.level != level:
        node = regions.get(node.parent_id) if node.parent_id else None
    return node


def _volume(city: _City) -> np.ndarray:
    """Relative response volume per point: channel reach, thin streets much lower."""
    volume = []
    for p in city.points:
        street = _ancestor(city.regions, city.regions[p.region_id], "street")
        thin = street is not None and street.code in THIN_STREETS
        volume.append(CHANNEL_VOLUME.get(p.channel.code, 1.0) * (THIN_FACTOR if thin else 1.0))
    return np.array(volume)


def add_responses(
    n: int,
    seed: int = 20261122,
    progress: bool = False,
    weeks: int = 12,
    now: dt.datetime | None = None,
    problems: bool = False,
) -> int:
    """Insert ``n`` seeded synthetic responses across the demo points, and scans to match
    (a completion rate between 20% and 90% per point); commit once at the end.

    ``problems`` (what ``survey demo`` and ``make run`` use) also seeds the weak spots of
    :mod:`survey.demo_comments` into the satisfaction answers and writes residents'
    comments; off, the answers are exactly those of the generator before issue 27."""
    city = _load_city()
    if not city.points or n <= 0:
        return 0
    version = city.points[0].questionnaire_version
    defn = definition_of(version)
    start_count = db.session.execute(db.select(db.func.count(Response.id))).scalar_one()
    rng = np.random.default_rng([seed, int(start_count)])
    draws = _draws(rng, n, _volume(city), weeks)
    draw = random.Random(f"{seed}-{start_count}")
    # comments have their own stream, so the other answers are what they were before
    comments = random.Random(f"{seed}-{start_count}-comments") if problems else None
    now = now or dt.datetime.now(dt.UTC)
    plans = _plans(defn)
    rows: list[dict[str, Any]] = []
    answers: list[list[tuple[Any, ...]]] = []
    label = "生成模拟答卷 / generating responses"
    with click.progressbar(length=n, label=label, file=None if progress else _Quiet()) as bar:
        for i in range(n):
            row, given = _one_response((draw, comments), defn, plans, city, draws, i, weeks, now)
            rows.append({"questionnaire_id": version.questionnaire_id, **row})
            answers.append([(r["question_key"], r["value"], r["text"], r["number"]) for r in given])
            if i % 1000 == 999:
                bar.update(1000)
        bar.update(n % 1000)
    _insert_responses(rows, answers)
    _add_scans(rng, rows)
    db.session.commit()
    return n


class _Quiet:
    """A file that swallows the progress bar when none is wanted."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


def _draws(rng: np.random.Generator, n: int, volume: np.ndarray, weeks: int) -> dict[str, Any]:
    """Everything drawn per response or per point, vectorised."""
    week_weights = np.linspace(1.0, 2.0, weeks)  # later weeks: more responses
    too_fast = rng.random(n) < 0.03
    return {
        "pick": rng.choice(len(volume), size=n, p=volume / volume.sum()),
        "point_effect": rng.normal(0.0, 0.3, size=len(volume)),
        "week_offset": rng.choice(weeks, size=n, p=week_weights[::-1] / week_weights.sum()),
        "seconds": rng.uniform(0, 7 * 86400, size=n),
        "latent": rng.normal(0.0, 0.8, size=n),
        "too_fast": too_fast,
        "durations": np.where(
            too_fast, rng.uniform(8, 28, size=n), rng.lognormal(np.log(160), 0.35, n)
        ),
    }


def _one_response(
    rngs: tuple[random.Random, random.Random | None],
    defn: Definition,
    plans: list[_Plan],
    city: _City,
    draws: dict[str, Any],
    i: int,
    weeks: int,
    now: dt.datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One response row (without its questionnaire id) and its answer rows."""
    draw, comments = rngs
    p_idx = int(draws["pick"][i])
    point = city.points[p_idx]
    district = city.point_district[p_idx]
    d_eff = DISTRICT_EFFECT[_DISTRICT_INDEX.get(district.code, 0)] if district else 0.0
    trend = 0.06 * (weeks - 1 - int(draws["week_offset"][i]))  # recent weeks are higher
    base = d_eff + CHANNEL_EFFECT.get(point.channel.code, 0.0)
    base += draws["point_effect"][p_idx] + draws["latent"][i]
    submitted = now - dt.timedelta(
        weeks=int(draws["week_offset"][i]), seconds=float(draws["seconds"][i])
    )
    street = _residence_street(
        draw, city.regions[point.region_id], district, city.streets_by_district
    )
    age = _age_for(draw, point.channel.code)
    sex = SEXES[int(draw.random() < 0.52)]
    person = (age, sex, street.code if street else None)
    answers = _seeded_answers((draw, comments), defn, plans, (base, trend), person, city, point)
    scores = score_answers(defn, answers)
    duration = float(draws["durations"][i])
    row = {
        "questionnaire_version_id": point.questionnaire_version_id,
        "point_id": point.id,
        "region_id": point.region_id,
        "district_id": district.id if district else None,
        "channel_id": point.channel_id,
        "source": "qr",
        "served_at": submitted - dt.timedelta(seconds=duration),
        "submitted_at": submitted,
        "week_start": week_start(submitted),
        "duration_seconds": round(duration, 1),
        "flags": _TOO_FAST if draws["too_fast"][i] else 0,
        "age_group": age,
        "sex": sex,
        "residence_region_id": street.id if street else None,
        "awareness": scores.awareness,
        "participation": scores.participation,
        "satisfaction": scores.satisfaction,
        "satisfaction_score": scores.satisfaction_score,
    }
    return row, answer_rows(defn, answers, {})


def _seeded_answers(
    rngs: tuple[random.Random, random.Random | None],
    defn: Definition,
    plans: list[_Plan],
    effects: tuple[float, float],
    person: tuple[str, str, str | None],
    city: _City,
    point: CollectionPoint,
) -> dict[str, Any]:
    """The answers, with the seeded weak spots of the point's street and a comment (both
    only when ``rngs`` holds a comment stream: ``add_responses(problems=True)``)."""
    draw, comments = rngs
    point_street = _ancestor(city.regions, city.regions[point.region_id], "street")
    street_code = point_street.code if point_street is not None else None
    shifts = {
        item: shift
        for (code, item), shift in SEEDED_WEAK_SPOTS.items()
        if code == street_code and comments is not None
    }
    answers = _answers(draw, defn, plans, (*effects, shifts), person)
    comment = comment_for(comments, street_code) if comments is not None else None
    if comment is not None and "suggestions" in defn:
        answers["suggestions"] = comment
    return answers


def _insert_responses(rows: list[dict[str, Any]], answers: list[list[tuple[Any, ...]]]) -> None:
    """Core inserts for responses, driver-level executemany for their answers (about 27
    each): the ORM unit of work would dominate the run time here and adds nothing."""
    chunk = 5000
    conn = db.session.connection()
    table = Response.__table__
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    answer_sql = (
        "INSERT INTO answers (response_id, question_key, value, text, number) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
    )
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        ids = (
            conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), part)
            .scalars()
            .all()
        )
        flat = [
            (rid, *answer)
            for rid, answer_list in zip(ids, answers[start : start + chunk], strict=True)
            for answer in answer_list
        ]
        conn.exec_driver_sql(answer_sql, flat)


def _add_scans(rng: np.random.Generator, rows: list[dict[str, Any]]) -> None:
    """Scans per point and day consistent with the responses: each point has its own
    completion rate between 20% and 90%, so scans = responses / rate (rounded up)."""
    answered: dict[tuple[int, dt.date], int] = {}
    for row in rows:
        key = (row["point_id"], local_day(row["submitted_at"]))
        answered[key] = answered.get(key, 0) + 1
    point_ids = sorted({p for p, _ in answered})
    rate = dict(zip(point_ids, rng.uniform(0.2, 0.9, size=len(point_ids)), strict=True))
    batch = {key: int(np.ceil(count / rate[key[0]])) for key, count in answered.items()}
    add_scans(db.session.connection(), batch)


#: Implausibly fast: a strong signal, so left out of estimates until a reviewer clears it.
_TOO_FAST = int(QualityFlag.TOO_FAST | QualityFlag.EXCLUDED)
_DISTRICT_INDEX = {code: i for i, (code, _, _) in enumerate(DISTRICTS)}


def _residence_street(
    rng: random.Random,
    point_region: Region,
    district: Region | None,
    streets_by_district: dict[int, list[Region]],
) -> Region | None:
    node: Region | None = point_region
    while node is not None and node.level not in ("street", "district"):
        node = node.parent
    if node is not None and node.level == "street" and rng.random() < 0.85:
        return node
    candidates = streets_by_district.get(district.id, []) if district else []
    return rng.choice(candidates) if candidates else None


def _age_for(rng: random.Random, channel: str) -> str:
    if channel in ("wechat", "media", "enterprise"):
        probs = (0.3, 0.3, 0.2, 0.12, 0.08)
    elif channel in ("notice_board", "door_to_door", "market", "hospital"):
        probs = (0.08, 0.14, 0.2, 0.25, 0.33)
    else:
        probs = (0.15, 0.28, 0.27, 0.18, 0.12)
    return rng.choices(AGE_GROUPS, weights=probs)[0]


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass(frozen=True)
class _Plan:
    """What the generator needs to know of one question, worked out once per run."""

    key: str
    kind: str
    required: bool
    metric: str | None
    options: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    top: tuple[str, ...] = ()
    rest: tuple[str, ...] = ()
    rest_weights: tuple[int, ...] = ()
    non_substantive: str | None = None
    low: int = 0
    high: int = 10


def _plans(defn: Definition) -> list[_Plan]:
    plans = []
    for q in defn.questions:
        common = {"key": q.key, "required": q.required, "metric": q.metric}
        if q.demographic in ("age_group", "sex"):
            plans.append(_Plan(kind=q.demographic, **common))
        elif q.type in ("region", "text"):
            plans.append(_Plan(kind=q.type, **common))
        elif q.type == "number":
            low = int(q.min) if q.min is not None else 0
            high = int(q.max) if q.max is not None else 10
            plans.append(_Plan(kind="number", low=low, high=high, **common))
        else:
            options = tuple(o.value for o in q.options if o.substantive)
            ordered = sorted((o for o in q.options if o.substantive), key=lambda o: -(o.score or 0))
            rest = tuple(o.value for o in ordered if o.value not in q.positive)
            non_sub = [o.value for o in q.options if not o.substantive]
            plans.append(
                _Plan(
                    kind=q.type,
                    options=options,
                    positive=tuple(o for o in options if o in q.positive),
                    negative=tuple(o for o in options if o not in q.positive),
                    top=tuple(o.value for o in ordered if o.value in q.positive),
                    rest=rest,
                    rest_weights=tuple(range(len(rest), 0, -1)),
                    non_substantive=non_sub[0] if non_sub else None,
                    **common,
                )
            )
    return plans


def _answers(
    rng: random.Random,
    defn: Definition,
    plans: list[_Plan],
    effects: tuple[float, float, dict[str, float]],
    person: tuple[str, str, str | None],
) -> dict[str, Any]:
    """An answer to every question, then only the visible ones kept (the definition's own
    skip logic, ``questionnaires.visible_keys``, decides). ``effects``: the latent base,
    the trend and logit shifts of single items (the seeded weak spots)."""
    base, trend, shifts = effects
    p_metric = {
        "awareness": _sigmoid(1.6 + base + trend),
        "participation": _sigmoid(0.3 + base + 0.8 * trend),
        "satisfaction": _sigmoid(1.0 + 0.8 * base + 0.5 * trend),
    }
    age, sex, street_code = person
    drafted = {
        plan.key: _answer_one(rng, plan, _shifted(p_metric, plan, shifts), age, sex, street_code)
        for plan in plans
    }
    answers = {k: v for k, v in drafted.items() if v is not None}
    visible = visible_keys(defn, answers)
    return {k: v for k, v in answers.items() if k in visible}


def _shifted(p_metric: dict[str, float], plan: _Plan, shifts: dict[str, float]) -> dict[str, float]:
    """The metric probabilities, with a seeded item's own shift on the logit scale."""
    shift = shifts.get(plan.key)
    if shift is None or plan.metric is None:
        return p_metric
    p = p_metric[plan.metric]
    return {**p_metric, plan.metric: _sigmoid(float(np.log(p / (1 - p))) + shift)}


def _answer_one(
    rng: random.Random,
    plan: _Plan,
    p_metric: dict[str, float],
    age: str,
    sex: str,
    street_code: str | None,
) -> Any:
    kind = plan.kind
    if kind == "age_group":
        return age
    if kind == "sex":
        return sex
    if kind == "region":
        return street_code
    if kind == "text":
        return None
    if kind == "number":
        return rng.randint(plan.low, plan.high)
    options = plan.options
    if not options or (not plan.required and rng.random() < 0.05):
        return None
    if plan.metric is None:
        if kind == "multiple":
            return rng.sample(options, rng.randint(1, min(3, len(options))))
        return rng.choice(options)
    is_positive = rng.random() < p_metric[plan.metric]
    if kind == "scale":
        # Occasionally a non-substantive answer ("说不清").
        if plan.non_substantive is not None and rng.random() < 0.03:
            return plan.non_substantive
        if is_positive and plan.top:
            top = plan.top
            return top[0] if len(top) == 1 or rng.random() < 0.55 else top[1]
        if plan.rest:
            return rng.choices(plan.rest, weights=plan.rest_weights)[0]
        return options[-1]
    pool = plan.positive if is_positive and plan.positive else (plan.negative or plan.positive)
    if kind == "multiple":
        return rng.sample(pool, rng.randint(1, min(3, len(pool))))
    return rng.choice(pool)
