"""The 问题清单 (weak spots and comments by topic) and the 整改台账 (with "did it get better"),
for staff within their scope; the ledger's XLSX and the briefing's ledger section."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from questionnaires import Definition
from survey.extensions import db
from survey.models import PROBLEM_KINDS
from survey.models import PROBLEM_STATUSES
from survey.models import Problem
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.reporting import ReportFilter
from survey.reporting.exports.briefing import Briefing
from survey.reporting.problem_list.comment_topics import TopicReport
from survey.reporting.problem_list.comment_topics import comment_topics
from survey.reporting.problem_list.comment_topics import lexicon
from survey.reporting.problem_list.effect import Effect
from survey.reporting.problem_list.effect import before_after
from survey.reporting.problem_list.item_small_area import item_small_area
from survey.reporting.problem_list.ledger_xlsx import LedgerLine
from survey.reporting.problem_list.ledger_xlsx import ledger_xlsx
from survey.reporting.problem_list.weak_spots import AREA_LEVELS
from survey.reporting.problem_list.weak_spots import WeakSpotReport
from survey.reporting.problem_list.weak_spots import item_label
from survey.reporting.problem_list.weak_spots import weak_spots
from survey.reporting.questions.pages import VersionFilter
from survey.reporting.questions.pages import newest_version
from survey.services import audit
from survey.services import problems
from survey.services.questionnaires import definition_of

#: Statuses whose before/after figures are shown (the work is reported done).
DONE = ("fixed", "verified")


@dataclass(frozen=True)
class ProblemList:
    """The 问题清单 page: weak spots and comments by topic for one filter."""

    weak: WeakSpotReport
    topics: TopicReport
    level: str


def area_level(level: str) -> str:
    """The area level of the weak spots: street unless community is asked."""
    return level if level in AREA_LEVELS else "street"


def problem_list(vf: VersionFilter, level: str = "street", sort: str = "gap") -> ProblemList:
    """Weak spots (city-wide test, rows in the user's scope) and topics in scope."""
    chosen = area_level(level)
    weak = weak_spots(
        db.session, vf.filter, vf.definition, level=chosen, sort=sort, small_area=item_small_area
    )
    topics = comment_topics(db.session, vf.filter, vf.definition, level=chosen)
    return ProblemList(weak, topics, chosen)


@dataclass(frozen=True)
class LedgerEntry:
    """A problem with its evidence, item text and (when done) before/after figures."""

    problem: Problem
    evidence: dict[str, Any]
    item_text: str
    effect: Effect | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the API)."""
        p = self.problem
        return {
            "id": p.id,
            "region": p.region.name,
            "region_code": p.region.code,
            "kind": p.kind,
            "kind_name": PROBLEM_KINDS.get(p.kind, p.kind),
            "item": p.item,
            "item_text": self.item_text,
            "topic": p.topic,
            "title": p.title,
            "basis": p.basis,
            "unit": p.unit,
            "deadline": p.deadline.isoformat(),
            "status": p.status,
            "status_name": PROBLEM_STATUSES.get(p.status, p.status),
            "evidence": self.evidence,
            "effect": self.effect.to_dict() if self.effect is not None else None,
        }


def definition_for(questionnaire_id: int) -> Definition:
    """The newest version's definition of a questionnaire (items of the ledger)."""
    return definition_of(newest_version(questionnaire_id))


def ledger(user: User, flt: ReportFilter) -> list[LedgerEntry]:
    """The problems of the filter's questionnaire in the user's scope, with their effect."""
    defn = definition_for(flt.questionnaire_id)
    found = problems.list_problems(user, flt.questionnaire_id)
    return [entry(p, defn, flt) for p in found]


def entry(problem: Problem, defn: Definition, flt: ReportFilter) -> LedgerEntry:
    """One ledger entry; the before/after contrast only for a problem reported done."""
    item = problem.item
    text = item_label(defn.question(item).text) if item and item in defn else ""
    effect = None
    if item and problem.status in DONE:
        effect = before_after(db.session, flt, defn, item, problem.region.path, problem.deadline)
    return LedgerEntry(problem, problems.evidence_of(problem), text, effect)


def effect_text(effect: Effect | None) -> str:
    """The before/after figure in words (the ledger and the export)."""
    if effect is None:
        return ""
    if effect.difference is None or effect.ci_low is None or effect.ci_high is None:
        return f"整改效果：{effect.verdict}（{effect.reason}）"
    return (
        f"整改效果：满意率 {_pct(effect.before)}（{_interval(effect.before_ci)}，"
        f"n={effect.n_before}）→ {_pct(effect.after)}（{_interval(effect.after_ci)}，"
        f"n={effect.n_after}），变化 {effect.difference * 100:+.1f} 个百分点"
        f"（95%置信区间 {effect.ci_low * 100:+.1f} 至 {effect.ci_high * 100:+.1f}，"
        f"p={effect.p_value:.3f}），{effect.verdict}"
    )


def _interval(ci: tuple[float | None, float | None]) -> str:
    low, high = ci
    return "无区间" if low is None or high is None else f"{_pct(low)}–{_pct(high)}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def ledger_lines(entries: Sequence[LedgerEntry]) -> list[LedgerLine]:
    """Export rows: 区域, 问题, 依据 (basis, masked examples, effect), unit, deadline, status."""
    out = []
    for e in entries:
        p = e.problem
        parts = [p.basis] if p.basis else []
        examples = e.evidence.get("examples") or []
        if examples:
            parts.append("群众意见摘录：" + "；".join(str(x) for x in examples[:3]))
        if e.effect is not None:
            parts.append(effect_text(e.effect))
        out.append(
            LedgerLine(
                area=p.region.name,
                title=p.title,
                basis="\n".join(parts),
                unit=p.unit,
                deadline=p.deadline,
                status=PROBLEM_STATUSES.get(p.status, p.status),
            )
        )
    return out


def export_ledger(user: User, flt: ReportFilter) -> bytes:
    """The ledger XLSX (audit-logged)."""
    entries = ledger(user, flt)
    body = ledger_xlsx(ledger_lines(entries))
    audit.record(user, "export_problems", "questionnaire", flt.questionnaire_id, rows=len(entries))
    return body


def suggested_unit(topic: str | None, item: str | None) -> str:
    """The lexicon's usual responsible unit for a topic (or an item's first topic)."""
    lex = lexicon()
    for t in lex.topics:
        if (topic and t.key == topic) or (not topic and item and t.item == item):
            return t.unit
    return ""


def versions_of(questionnaire_id: int) -> list[QuestionnaireVersion]:
    """Versions of a questionnaire, newest first."""
    query = db.select(QuestionnaireVersion).where(
        QuestionnaireVersion.questionnaire_id == questionnaire_id
    )
    return list(db.session.execute(query.order_by(QuestionnaireVersion.version.desc())).scalars())


def with_ledger(brief: Briefing, flt: ReportFilter) -> Briefing:
    """The briefing with its ledger section (open problems, the ones that moved)."""
    section = briefing_section(flt)
    return replace(
        brief,
        ledger_open=section["open"],
        ledger_moved=section["moved"],
        ledger_total=section["total"],
    )


def briefing_section(flt: ReportFilter, today: dt.date | None = None) -> dict[str, Any]:
    """The briefing's ledger section for the filter's area (no user: the filter's scope):
    open problems, and the done ones whose figures moved significantly."""
    defn = definition_for(flt.questionnaire_id)
    query = db.select(Problem).join(Region, Region.id == Problem.region_id)
    query = query.where(Problem.questionnaire_id == flt.questionnaire_id)
    for path in (flt.scope_path, flt.region_path):
        if path:
            query = query.where(Region.path.startswith(path))
    rows = db.session.execute(query.order_by(Problem.deadline, Problem.id)).scalars().all()
    today = today or dt.date.today()
    open_rows, moved = [], []
    for p in rows:
        if p.status not in DONE:
            late = "（已逾期）" if p.deadline < today else ""
            open_rows.append(
                [p.region.name, p.title, p.unit, p.deadline.isoformat() + late, p.status_name]
            )
            continue
        e = entry(p, defn, flt)
        if e.effect is not None and e.effect.significant:
            moved.append([p.region.name, p.title, p.unit, effect_text(e.effect)])
    return {"open": open_rows, "moved": moved, "total": len(rows)}
