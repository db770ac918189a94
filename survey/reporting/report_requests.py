"""Reports for staff: the filter a staff member asks for, confined to their scope, and the
report functions of ``survey.reporting`` run on the request's session.

Scope lives here, in one place: a district officer's reports cover their subtree only (the
filter's ``scope_path``), a region outside it is ``NotFound``, an officer without a region
sees nothing. Bad filter values are ``InvalidInput`` (400).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import replace

from survey import reporting
from survey.errors import InvalidInput
from survey.errors import NotFound
from survey.extensions import db
from survey.models import Channel
from survey.models import Questionnaire
from survey.models import QuestionnaireVersion
from survey.models import User
from survey.reporting import ReportFilter
from survey.reporting.charts import images as charts
from survey.reporting.statement import newest_week
from survey.services import access
from survey.services import estimate_settings
from survey.timeutil import CST

#: Weeks the dashboard shows when no period is asked for (compared with as many before).
DEFAULT_WEEKS = 4


@dataclass(frozen=True)
class ReportRequest:
    """What a page or API call asks for, parsed but not yet checked against the database."""

    questionnaire: str = ""  # questionnaire key; empty: the newest questionnaire
    version_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    region_id: int | None = None
    channel_id: int | None = None
    weighting: str = "none"
    level: str = "district"
    include_flagged: bool = False
    #: ``Response.source`` to keep (qr, paper, door_to_door, intercept, phone); None: all.
    source: str | None = None


@dataclass(frozen=True)
class ReportChoices:
    """What the filter form offers: questionnaires, their versions, channels."""

    questionnaires: list[Questionnaire]
    versions: list[QuestionnaireVersion]
    channels: list[Channel]


def _questionnaire(key: str) -> Questionnaire:
    query = db.select(Questionnaire)
    query = query.where(Questionnaire.key == key) if key else query.order_by(Questionnaire.id)
    found = db.session.execute(query).scalars().first()
    if found is None:
        raise NotFound("问卷不存在。" if key else "还没有问卷：请先导入问卷定义。")
    return found


def report_filter(user: User, req: ReportRequest) -> ReportFilter:
    """The filter of ``req`` within the user's scope (``NotFound`` outside it)."""
    if access.sees_nothing(user):
        raise NotFound("您的账号未分配管辖区域，暂无可查看的数据。")
    questionnaire = _questionnaire(req.questionnaire)
    if req.version_id is not None:
        version = db.session.get(QuestionnaireVersion, req.version_id)
        if version is None or version.questionnaire_id != questionnaire.id:
            raise NotFound("问卷版本不存在。")
    if req.channel_id is not None and db.session.get(Channel, req.channel_id) is None:
        raise NotFound("渠道不存在。")
    region = access.region_in_scope(user, req.region_id) if req.region_id else None
    root = access.scope_root(user)
    return ReportFilter(
        questionnaire_id=questionnaire.id,
        version_id=req.version_id,
        date_from=req.date_from,
        date_to=req.date_to,
        region_path=region.path if region is not None else None,
        channel_id=req.channel_id,
        weighting=req.weighting,  # type: ignore[arg-type]
        include_flagged=req.include_flagged,
        scope_path=root.path if root is not None else None,
        level=req.level,  # type: ignore[arg-type]
        source=req.source,
        min_cell_n=estimate_settings.min_cell_n(),
    )


def default_period(
    user: User, req: ReportRequest, *, today: dt.date | None = None
) -> ReportRequest:
    """``req`` over the dashboard's default period: the last :data:`DEFAULT_WEEKS` complete
    weeks up to the newest complete week with responses in the user's scope (the current,
    unfinished week only when it is the only one with responses), so that the change since
    the previous period compares whole weeks."""
    flt = report_filter(user, req)
    today = today or dt.datetime.now(CST).date()
    end = newest_week(db.session, flt, before=today) or newest_week(db.session, flt)
    if end is None:
        end = today - dt.timedelta(days=today.weekday())
    start = end - dt.timedelta(weeks=DEFAULT_WEEKS - 1)
    return replace(req, date_from=start, date_to=end + dt.timedelta(days=6))


def choices(flt: ReportFilter) -> ReportChoices:
    """Questionnaires, the versions of the filter's questionnaire, active channels."""
    return ReportChoices(
        questionnaires=list(
            db.session.execute(db.select(Questionnaire).order_by(Questionnaire.id)).scalars()
        ),
        versions=list(
            db.session.execute(
                db.select(QuestionnaireVersion)
                .where(QuestionnaireVersion.questionnaire_id == flt.questionnaire_id)
                .order_by(QuestionnaireVersion.version.desc())
            ).scalars()
        ),
        channels=list(
            db.session.execute(
                db.select(Channel).where(Channel.active.is_(True)).order_by(Channel.id)
            ).scalars()
        ),
    )


def dashboard(flt: ReportFilter) -> reporting.Dashboard:
    """Everything on the dashboard for ``flt``."""
    return reporting.dashboard(db.session, flt)


def estimate_table(flt: ReportFilter, by: str) -> reporting.GroupTable:
    """One table of the dashboard by ``by`` (``reporting.TABLE_BY``)."""
    if by not in reporting.TABLE_BY:
        raise InvalidInput(f"未知的分组：{by}（可选：{'、'.join(reporting.TABLE_BY)}）")
    return reporting.estimate_table(db.session, flt, by)


def trend(flt: ReportFilter) -> dict[str, reporting.TrendSeries]:
    """The weekly series of every metric."""
    return reporting.trend(db.session, flt)


def trend_chart(flt: ReportFilter, metric: str, fmt: str) -> bytes:
    """The trend chart of ``metric`` as SVG or PNG."""
    if metric not in reporting.METRICS:
        raise NotFound("未知的指标。")
    return charts.trend_chart(trend(flt)[metric], fmt)
