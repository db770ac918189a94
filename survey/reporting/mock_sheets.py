"""A sample plan on paper: one A4 assignment sheet per interviewer, and the plan as XLSX."""

from __future__ import annotations

import io
from dataclasses import dataclass
from dataclasses import field

from openpyxl import Workbook

from survey.extensions import db
from survey.models import SamplePlan
from survey.models import User

SEX_NAMES = {"male": "男", "female": "女"}


@dataclass
class Sheet:
    """What one interviewer takes into the field."""

    name: str
    username: str
    rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(int(r["target"]) for r in self.rows)  # type: ignore[call-overload]


def plan_sheets(plan: SamplePlan) -> list[Sheet]:
    """Sheets by interviewer (username order); each lists their communities and targets."""
    sheets: dict[int, Sheet] = {}
    for unit in plan.units:
        for a in unit.assignments:
            if a.interviewer_id not in sheets:
                person = db.session.get(User, a.interviewer_id)
                assert person is not None
                sheets[a.interviewer_id] = Sheet(
                    person.display_name or person.username, person.username
                )
            sheets[a.interviewer_id].rows.append(
                {
                    "district": unit.district.name,
                    "community": unit.community.name,
                    "code": unit.community.code,
                    "target": a.target,
                    "probability": unit.probability,
                    "certainty": unit.certainty,
                }
            )
    return sorted(sheets.values(), key=lambda s: s.username)


def plan_xlsx(plan: SamplePlan) -> bytes:
    """Workbook: 说明, 抽中社区, 配额, 访问员分配."""
    book = Workbook()
    info = book.active
    info.title = "说明"
    for row in (
        ("方案", plan.name),
        ("时间", f"{plan.starts_on} 至 {plan.ends_on}"),
        ("随机种子", plan.seed),
        (
            "抽样方法",
            "按区分层，社区按规模成比例系统抽样（PPS）；入样概率≥1 的社区为必选（概率 1）",
        ),
        ("每社区访问数", plan.interviews_per_unit),
    ):
        info.append(row)
    units = book.create_sheet("抽中社区")
    units.append(("区县", "社区编码", "社区", "规模", "入样概率", "必选", "计划访问数"))
    for u in plan.units:
        units.append(
            (u.district.name, u.community.code, u.community.name, u.size, u.probability,
             "是" if u.certainty else "否", u.interviews)
        )  # fmt: skip
    quotas = book.create_sheet("配额")
    quotas.append(("区县编号", "年龄段", "性别", "配额"))
    for q in plan.quotas:
        quotas.append((q.district_id, q.age_group, SEX_NAMES.get(q.sex, q.sex), q.target))
    people = book.create_sheet("访问员分配")
    people.append(("访问员", "账号", "区县", "社区", "目标份数"))
    for sheet in plan_sheets(plan):
        for r in sheet.rows:
            people.append((sheet.name, sheet.username, r["district"], r["community"], r["target"]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
