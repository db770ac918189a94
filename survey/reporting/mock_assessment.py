"""The 模拟测评 page's figures for one sample plan.

* The three rates (and the satisfaction score) from the plan's own design
  (``survey.reporting.field_estimates``), with 95% intervals, n and target status.
* Beside them the QR figures of the same period and region and the difference QR − sampled
  with its interval, overall and per district.
* AAPOR outcome rates (RR1, RR3, COOP1) per plan, district and interviewer. Every contact
  record counts as one case with its recorded (final) disposition.
* Progress: interviews per district × age group × sex against the quotas, per interviewer
  against their targets, per interviewer and day.
* Interviewer quality: interviews per day, median duration, share of 不了解/说不清 answers,
  share of straight-lined grids, and the interviewer effect (rho, deff) per metric.

Interviews flagged out of the estimates (``QualityFlag.EXCLUDED``) are counted in progress
and quality but left out of the estimates; the page says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import pandas as pd

from analysis import AnalysisError
from analysis import aapor_rates
from analysis import interviewer_effect
from analysis import svy_estimates
from analysis import target_status
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import SamplePlan
from survey.models import User
from survey.reporting import field_frames
from survey.reporting.field_estimates import difference
from survey.reporting.field_estimates import field_design
from survey.reporting.field_estimates import merged_cells
from survey.reporting.field_estimates import qr_estimates
from survey.services.questionnaires import definition_of
from survey.services.targets import get_targets

METRIC_LABELS: dict[str, str] = {
    "awareness": "知晓率",
    "participation": "参与率",
    "satisfaction": "满意度（满意率）",
    "satisfaction_score": "满意度得分",
}
STATUS_NAMES = {"met": "达标", "not met": "未达标", "undecided": "尚难判定"}
#: Fewer interviews than this in a group: the figure is shown as "样本不足" in words.
MIN_N = 10


@dataclass
class Figure:
    """One estimate with its interval and n (None values: not estimable)."""

    n: int
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    status: str = ""

    @property
    def too_few(self) -> bool:
        return self.n < MIN_N or self.estimate is None


@dataclass
class MockReport:
    """Everything the 模拟测评 page shows for a plan."""

    plan: SamplePlan
    metrics: list[tuple[str, Figure]] = field(default_factory=list)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    rates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    quotas: list[dict[str, Any]] = field(default_factory=list)
    interviewers: list[dict[str, Any]] = field(default_factory=list)
    daily: list[dict[str, Any]] = field(default_factory=list)
    effects: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)


def _figure(row: pd.Series | None, n: int, top: float = 1.0) -> Figure:
    """The row's estimate; its interval clipped to the metric's range (0-1, or 0-100 for the
    score): a mean's t interval with few communities can reach past it."""
    if row is None or not np.isfinite(row.get("estimate", np.nan)):
        return Figure(n)
    low, high = float(row["ci_low"]), float(row["ci_high"])
    return Figure(n, float(row["estimate"]), max(low, 0.0), min(high, top))


def _top(metric: str) -> float:
    return 100.0 if metric == "satisfaction_score" else 1.0


def _names(ids: Any, model: Any) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    rows = db.session.execute(db.select(model).where(model.id.in_(wanted))).scalars()
    return {
        r.id: getattr(r, "display_name", "") or getattr(r, "name", "") or r.username for r in rows
    }


def mock_report(plan: SamplePlan) -> MockReport:
    """Build the page's figures (reads the plan's interviews, attempts and QR responses)."""
    report = MockReport(plan)
    version = db.session.get(QuestionnaireVersion, plan.questionnaire_version_id)
    assert version is not None
    frame = field_frames.interviews(plan)
    attempts = field_frames.attempts(plan)
    districts = _names([s.district_id for s in plan.strata], Region)
    assigned = [a.interviewer_id for u in plan.units for a in u.assignments]
    people = _names([*attempts["interviewer"], *assigned], User)
    report.counts = {
        "interviews": len(frame),
        "excluded": int(frame["excluded"].sum()),
        "attempts": len(attempts),
    }
    usable = frame[~frame["excluded"] & frame["age_group"].notna() & frame["sex"].notna()]
    _estimates(report, usable, version.questionnaire_id, districts)
    _rates(report, attempts, districts, people)
    _progress(report, frame, districts, people)
    _quality(report, frame, definition_of(version), people)
    report.flags = field_frames.field_flags(plan)
    for f in report.flags:
        f["interviewer_name"] = people.get(int(f["interviewer"]), "")
    return report


def _estimates(
    report: MockReport, usable: pd.DataFrame, questionnaire_id: int, districts: dict[int, str]
) -> None:
    plan = report.plan
    field_by: dict[str, dict[Any, pd.Series]] = {}
    try:
        design = field_design(usable, field_frames.population(plan))
        overall = svy_estimates(design, list(METRIC_LABELS), method="mean")
        by_district = svy_estimates(design, list(METRIC_LABELS), by="district", method="mean")
        if merged_cells(design):
            report.notes.append(
                f"事后分层时有 {merged_cells(design)} 个年龄×性别格样本少于 5 人，已与相邻格合并。"
            )
    except AnalysisError as exc:
        report.notes.append(f"抽样样本尚不能估计（{exc}）：需要每个区至少两个社区有访问。")
        overall, by_district = {}, {}
    targets = get_targets(questionnaire_id)
    for metric, label in METRIC_LABELS.items():
        row = overall[metric].iloc[0] if metric in overall else None
        fig = _figure(row, len(usable), _top(metric))
        if metric in targets and row is not None and not fig.too_few:
            status = target_status(overall[metric], targets[metric].threshold)
            fig.status = STATUS_NAMES.get(str(status["status"].iloc[0]), "")
        report.metrics.append((label, fig))
        if metric in by_district:
            field_by[metric] = {r["district"]: r for _, r in by_district[metric].iterrows()}
    _comparison(report, usable, questionnaire_id, overall, field_by, districts)


def _comparison(
    report: MockReport,
    usable: pd.DataFrame,
    questionnaire_id: int,
    overall: dict[str, pd.DataFrame],
    field_by: dict[str, dict[Any, pd.Series]],
    districts: dict[int, str],
) -> None:
    qr = field_frames.qr_responses(report.plan, questionnaire_id)
    pop = field_frames.population(report.plan, by_district=True)
    try:
        qr_all = qr_estimates(qr, pop)
        qr_by = qr_estimates(qr, pop, by="district")
    except (AnalysisError, KeyError, ValueError) as exc:
        report.notes.append(f"同期扫码样本不能估计（{exc}）。")
        return
    n_field = usable.groupby("district").size()
    n_qr = qr.groupby("district").size()
    for metric, label in METRIC_LABELS.items():
        groups = [("全市（方案范围）", overall.get(metric), qr_all[metric], len(usable), len(qr))]
        by = qr_by[metric].set_index("district")
        for d, name in districts.items():
            f_row = field_by.get(metric, {}).get(d)
            f_frame = pd.DataFrame([f_row]) if f_row is not None else None
            q_frame = by.loc[[d]] if d in by.index else None
            groups.append((name, f_frame, q_frame, int(n_field.get(d, 0)), int(n_qr.get(d, 0))))
        for name, f_frame, q_frame, nf, nq in groups:
            report.comparison.append(
                _compare_row(label, name, f_frame, q_frame, nf, nq, _top(metric))
            )


def _compare_row(
    label: str, name: str, f_frame: Any, q_frame: Any, nf: int, nq: int, top: float
) -> dict[str, Any]:
    f = _figure(f_frame.iloc[0] if f_frame is not None else None, nf, top)
    q = _figure(q_frame.iloc[0] if q_frame is not None else None, nq, top)
    row: dict[str, Any] = {"metric": label, "group": name, "field": f, "qr": q, "diff": None}
    if f_frame is not None and q_frame is not None and not f.too_few and not q.too_few:
        diff = difference(q_frame.reset_index(drop=True), f_frame.reset_index(drop=True)).iloc[0]
        row["diff"] = (float(diff["difference"]), float(diff["ci_low"]), float(diff["ci_high"]))
    return row


def _rates(
    report: MockReport, attempts: pd.DataFrame, districts: dict[int, str], people: dict[int, str]
) -> None:
    def table(keys: pd.Series | None, names: dict[int, str]) -> list[dict[str, Any]]:
        groups = attempts.assign(k=0 if keys is None else keys)
        counts = pd.crosstab(groups["k"], groups["disposition"]) if len(groups) else pd.DataFrame()
        if counts.empty:
            return []
        rates = aapor_rates(counts)
        out = []
        for key, row in rates.iterrows():
            label = "全部" if keys is None else names.get(int(key), str(key))
            out.append({"group": label, "counts": counts.loc[key].to_dict(), **row.to_dict()})
        return out

    report.rates = {
        "plan": table(None, {}),
        "district": table(attempts["district"], districts),
        "interviewer": table(attempts["interviewer"], people),
    }


def _progress(
    report: MockReport, frame: pd.DataFrame, districts: dict[int, str], people: dict[int, str]
) -> None:
    done = frame.groupby(["district", "age_group", "sex"]).size()
    for q in report.plan.quotas:
        got = int(done.get((q.district_id, q.age_group, q.sex), 0))
        report.quotas.append(
            {"district": districts.get(q.district_id, ""), "age_group": q.age_group,
             "sex": q.sex, "target": q.target, "done": got}
        )  # fmt: skip
    targets: dict[int, int] = {}
    for unit in report.plan.units:
        for a in unit.assignments:
            targets[a.interviewer_id] = targets.get(a.interviewer_id, 0) + a.target
    per_day = frame.groupby(["interviewer", "day"]).size()
    for (who, day), n in per_day.items():
        report.daily.append({"interviewer": people.get(int(who), ""), "day": day, "n": int(n)})
    for who, target in sorted(targets.items()):
        n = int((frame["interviewer"] == who).sum())
        report.interviewers.append(
            {"id": who, "name": people.get(who, ""), "target": target, "done": n,
             "per_day": None, "median_duration": None, "odd_share": None,
             "straight_share": None, "excluded": 0}
        )  # fmt: skip


def _quality(report: MockReport, frame: pd.DataFrame, defn: Any, people: dict[int, str]) -> None:
    odd = field_frames.non_substantive_shares(frame, defn)
    frame = frame.assign(odd=frame["response_id"].map(odd))
    by_id = {row["id"]: row for row in report.interviewers}
    for who, g in frame.groupby("interviewer"):
        row = by_id.setdefault(int(who), {"id": int(who), "name": people.get(int(who), ""),
                                          "target": 0, "done": len(g)})  # fmt: skip
        days = g["day"].nunique()
        row.update(
            per_day=len(g) / days if days else None,
            median_duration=float(g["duration"].median()) if g["duration"].notna().any() else None,
            odd_share=float(g["odd"].mean()) if g["odd"].notna().any() else None,
            straight_share=float(g["straight"].mean()),
            excluded=int(g["excluded"].sum()),
        )
    report.interviewers = sorted(by_id.values(), key=lambda r: r["name"])
    if frame["interviewer"].nunique() >= 2:
        effect = interviewer_effect(frame, interviewer="interviewer", outcomes=list(METRIC_LABELS))
        for metric, label in METRIC_LABELS.items():
            e = effect.loc[metric]
            report.effects.append(
                {
                    "metric": label,
                    "rho": e["rho"],
                    "deff": e["deff"],
                    "mbar": e["mbar"],
                    "n": int(e["n"]),
                }
            )
