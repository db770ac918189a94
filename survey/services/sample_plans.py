"""Sample plans of mock assessments (抽样方案): the frame, storing a draw, quotas, scope.

The draw itself (systematic PPS from a recorded seed) is statistics and lives in
``analysis``; ``survey.reporting.sample_draw`` runs it on the frame this module reads and
hands the drawn units back to :func:`store_plan`. Strata are the districts (区/县) below
the plan's region; units are their communities (社区/村), each with a measure of size the
staff enter (residents or households). Quotas by age group × sex split each district's
interviews in proportion to its stored population counts (largest remainders).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import PlanQuota
from survey.models import PlanStratum
from survey.models import PlanUnit
from survey.models import PopulationCount
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import SamplePlan
from survey.models import User
from survey.models.sample_plan import FIELD_MODES
from survey.services import access
from survey.services import audit

#: Audit actions of this module (Chinese names for the audit page).
ACTION_NAMES: dict[str, str] = {"plan_create": "创建抽样方案"}


@dataclass(frozen=True)
class PlanRequest:
    """What staff ask for: a questionnaire version, region, period, seed and sizes."""

    name: str
    version_id: int
    region_id: int
    starts_on: dt.date
    ends_on: dt.date
    seed: int
    units_per_district: int
    interviews_per_unit: int
    sizes: Mapping[str, float]
    mode: str = "door_to_door"


@dataclass(frozen=True)
class FrameUnit:
    """A community of the frame with its district (stratum) and measure of size."""

    district_id: int
    community_id: int
    code: str
    size: float


@dataclass(frozen=True)
class DrawnUnit:
    """A drawn community with its inclusion probability."""

    district_id: int
    community_id: int
    size: float
    probability: float
    certainty: bool


def check_request(actor: User, req: PlanRequest) -> Region:
    """The plan's region after checking the request; ``InvalidInput`` says what is wrong."""
    access.require_write(actor)
    region = access.region_in_scope(actor, req.region_id)
    if db.session.get(QuestionnaireVersion, req.version_id) is None:
        raise InvalidInput("问卷版本不存在。")
    problems = []
    if not req.name.strip():
        problems.append("请填写方案名称。")
    if req.ends_on < req.starts_on:
        problems.append("结束日期不能早于开始日期。")
    if req.mode not in FIELD_MODES:
        problems.append("访问方式须为入户、拦截或电话。")
    if not 1 <= req.units_per_district <= 500 or not 1 <= req.interviews_per_unit <= 1000:
        problems.append("每区抽取社区数须在 1—500 之间，每社区访问数须在 1—1000 之间。")
    if not 0 <= req.seed < 2**63:
        problems.append("随机种子须为非负整数。")
    if problems:
        raise InvalidInput("".join(problems))
    return region


def frame(region: Region, sizes: Mapping[str, float]) -> list[FrameUnit]:
    """Every community below ``region`` with its size, ordered by district and code.

    Every community needs a size above 0 and every size a community of the region:
    anything else is refused, naming the codes (nothing is left out silently).
    """
    rows = db.session.execute(
        db.select(Region).where(Region.path.startswith(region.path), Region.level == "community")
    ).scalars()
    communities = sorted(rows, key=lambda r: r.path)
    codes = {c.code for c in communities}
    unknown = sorted(set(sizes) - codes)
    missing = sorted(codes - set(sizes))
    bad = sorted(code for code, size in sizes.items() if code in codes and not size > 0)
    problems = []
    if not communities:
        problems.append("所选区域下没有社区/村，无法抽样。")
    if unknown:
        problems.append(f"规模表中的社区不在所选区域内：{'、'.join(unknown[:10])}。")
    if missing:
        problems.append(f"以下社区缺少规模（人口或户数）：{'、'.join(missing[:10])}。")
    if bad:
        problems.append(f"规模须大于 0：{'、'.join(bad[:10])}。")
    if problems:
        raise InvalidInput("".join(problems))
    out = []
    for c in communities:
        district = _district_id(c)
        out.append(FrameUnit(district, c.id, c.code, float(sizes[c.code])))
    return out


def _district_id(community: Region) -> int:
    ids = community.ancestor_ids()
    found = db.session.execute(
        db.select(Region.id).where(Region.id.in_(ids), Region.level == "district")
    ).scalar_one_or_none()
    if found is None:
        raise InvalidInput(f"社区 {community.code} 不属于任何区/县。")
    return int(found)


def store_plan(
    actor: User, req: PlanRequest, units: Sequence[FrameUnit], drawn: Sequence[DrawnUnit]
) -> SamplePlan:
    """Store the plan, its strata, drawn units and quotas; flush and return it."""
    plan = SamplePlan(
        name=req.name.strip(),
        questionnaire_version_id=req.version_id,
        region_id=req.region_id,
        starts_on=req.starts_on,
        ends_on=req.ends_on,
        seed=req.seed,
        mode=req.mode,
        interviews_per_unit=req.interviews_per_unit,
        created_by_id=actor.id,
    )
    db.session.add(plan)
    for district_id in sorted({u.district_id for u in units}):
        in_frame = [u for u in units if u.district_id == district_id]
        chosen = [d for d in drawn if d.district_id == district_id]
        plan.strata.append(
            PlanStratum(
                district_id=district_id,
                units_drawn=len(chosen),
                frame_units=len(in_frame),
                frame_size=sum(u.size for u in in_frame),
            )
        )
    for d in drawn:
        plan.units.append(
            PlanUnit(
                district_id=d.district_id,
                community_id=d.community_id,
                size=d.size,
                probability=d.probability,
                certainty=d.certainty,
                interviews=req.interviews_per_unit,
            )
        )
    plan.quotas.extend(_quotas(plan))
    db.session.flush()
    audit.record(actor, "plan_create", "sample_plan", plan.id, seed=req.seed, units=len(drawn))
    return plan


def _quotas(plan: SamplePlan) -> list[PlanQuota]:
    out: list[PlanQuota] = []
    for stratum in plan.strata:
        wanted = sum(u.interviews for u in plan.units if u.district_id == stratum.district_id)
        counts = db.session.execute(
            db.select(PopulationCount.age_group, PopulationCount.sex, PopulationCount.count)
            .where(PopulationCount.region_id == stratum.district_id)
            .order_by(PopulationCount.age_group, PopulationCount.sex)
        ).all()
        total = sum(c for _, _, c in counts)
        if total <= 0:
            name = db.session.get(Region, stratum.district_id)
            raise InvalidInput(
                f"{name.name if name else '区县'}没有人口数，无法按年龄×性别分配配额。"
            )
        for (age, sex, _), target in zip(
            counts, split(wanted, [c for *_, c in counts]), strict=True
        ):
            out.append(
                PlanQuota(district_id=stratum.district_id, age_group=age, sex=sex, target=target)
            )
    return out


def split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` by largest remainders (sums to total)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (out[i] - exact[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def plans_visible(actor: User) -> list[SamplePlan]:
    """Plans whose region lies in the actor's scope, newest first."""
    rows = db.session.execute(
        db.select(SamplePlan)
        .join(Region, SamplePlan.region_id == Region.id)
        .where(access.region_condition(actor))
        .order_by(SamplePlan.starts_on.desc(), SamplePlan.id.desc())
    ).scalars()
    return list(rows)


def plan_in_scope(actor: User, plan_id: int) -> SamplePlan:
    """The plan if the actor may see it, else 404."""
    plan = db.session.get(SamplePlan, plan_id)
    if plan is None or not access.can_see_region(actor, plan.region):
        raise NotFound("抽样方案不存在或不在您的管辖范围内。")
    return plan


def parse_sizes(text: str) -> dict[str, float]:
    """Community sizes from lines ``code,size`` (comma, tab or space); refuses bad lines."""
    sizes: dict[str, float] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.replace("，", ",").replace("\t", ",").replace(" ", ",").split(",")
        parts = [p.strip() for p in parts if p.strip()]
        if not parts:
            continue
        try:
            if len(parts) != 2:
                raise ValueError
            sizes[parts[0]] = float(parts[1])
        except ValueError:
            problems.append(f"第 {number} 行应为“社区编码,规模”")
    if problems:
        raise InvalidInput("；".join(problems[:10]) + "。")
    return sizes


def region_choices(actor: User) -> list[Region]:
    """Cities and districts in the actor's scope (a plan covers one of them)."""
    rows = db.session.execute(
        access.visible_regions_select(actor).where(Region.level.in_(("city", "district")))
    ).scalars()
    return list(rows)
