"""Importing typed-in paper questionnaires: every cell checked, then all rows or none.

A file is a filled entry template (XLSX, or CSV in UTF-8 or GBK). Every bad cell is listed
with its row, column and reason; if there is one, nothing is stored. Good rows are stored
through the QR flow's own services: the point, its placement and its integrity screen come
from ``survey.services.resident``, the response is written by
``survey.services.responses.write_response`` (same scoring, same per-response flags), with
``source='paper'``, no device, form instance, network or browser, and no clock
(``Screen(timed=False)``). Each stored response's serial number goes into
``paper_responses``, UNIQUE per point: a file imported twice stores nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import select

from questionnaires import Definition
from survey.errors import ImportFileError
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import PaperResponse
from survey.models import Questionnaire
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.models.base import utcnow
from survey.services import access
from survey.services import resident
from survey.services.paper.cells import SERIAL_MAX
from survey.services.paper.cells import Answers
from survey.services.paper.cells import CellError
from survey.services.paper.cells import Row
from survey.services.paper.cells import RowCheck
from survey.services.paper.cells import cells_of
from survey.services.paper.cells import normal
from survey.services.paper.cells import parse_date
from survey.services.paper.columns import Column
from survey.services.paper.columns import layout
from survey.services.paper.columns import match_header
from survey.services.paper.columns import version_of
from survey.services.paper.sheet import read_table
from survey.services.questionnaires import definition_of
from survey.services.resident import PointInfo
from survey.timeutil import CST
from survey.timeutil import local_day

#: Most rows of one file.
MAX_ROWS = 50_000
#: Progress callback: rows done so far (checking, then storing).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Target:
    """The questionnaire version a file was typed for, its columns and its period."""

    version: QuestionnaireVersion
    defn: Definition
    columns: tuple[Column, ...]
    first_day: dt.date
    last_day: dt.date


def target_of(key: str, number: int) -> Target:
    """The stored version ``number`` of questionnaire ``key``; ``ImportFileError`` if none."""
    version = db.session.execute(
        select(QuestionnaireVersion)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Questionnaire.key == key, QuestionnaireVersion.version == number)
    ).scalar_one_or_none()
    if version is None:
        raise ImportFileError(f"模板所属的问卷“{key}”第 {number} 版不存在，请重新下载模板。")
    defn = definition_of(version)
    first, last = period_of(version)
    return Target(version, defn, layout(defn), first, last)


def period_of(version: QuestionnaireVersion) -> tuple[dt.date, dt.date]:
    """The days a paper of ``version`` may be dated: from the day the version was loaded
    to the day it was closed, or today (China time)."""
    last = local_day(version.closed_at) if version.closed_at else local_day(utcnow())
    return local_day(version.created_at), last


@dataclass
class Parsed:
    """A file read and matched to its template."""

    filename: str
    target: Target
    rows: list[Row]


def read_file(filename: str, data: bytes) -> Parsed:
    """Read a filled template; a file that is not one is an ``ImportFileError``."""
    raw = read_table(filename, data, MAX_ROWS)
    if not raw:
        raise ImportFileError("文件是空的。请在录入模板中录入后再导入。")
    header = raw[0][1]
    target = target_of(*version_of(header))
    matched = match_header(target.columns, header)
    if len(raw) > MAX_ROWS + 1:
        raise ImportFileError(f"一次最多导入 {MAX_ROWS} 份问卷，请把文件拆开分批导入。")
    rows = [Row(number, *cells_of(matched, values)) for number, values in raw[1:]]
    if not rows:
        raise ImportFileError("文件中只有表头，没有录入任何问卷。")
    return Parsed(filename, target, rows)


@dataclass(frozen=True)
class _PointRef:
    id: int
    code: str
    version_id: int
    path: str


class Points:
    """Resolves what a clerk typed in the point column, within the importer's scope."""

    def __init__(self, target: Target, user: User | None) -> None:
        self.version_id = target.version.id
        rows = db.session.execute(
            select(
                CollectionPoint.id,
                CollectionPoint.code,
                CollectionPoint.questionnaire_version_id,
                Region.path,
                Region.code,
                Region.name,
            )
            .join(Region, Region.id == CollectionPoint.region_id)
            .join(QuestionnaireVersion)
            .where(QuestionnaireVersion.questionnaire_id == target.version.questionnaire_id)
        ).all()
        self.by_code = {r[1]: _PointRef(*r[:4]) for r in rows}
        self.by_region: dict[str, list[_PointRef]] = defaultdict(list)
        for r in rows:
            if r[2] == self.version_id:
                self.by_region[r[4]].append(_PointRef(*r[:4]))
                self.by_region[normal(r[5])].append(_PointRef(*r[:4]))
        self.root: str | None = None
        self.nothing = user is not None and access.sees_nothing(user)
        if user is not None and not self.nothing:
            root = access.scope_root(user)
            self.root = root.path if root is not None else None
        self.infos: dict[str, PointInfo] = {}
        self.memo: dict[str, tuple[PointInfo | None, str]] = {}
        self.regions: dict[int, Callable[[str], tuple[str | None, str]]] = {}

    def region(self, point: PointInfo, defn: Definition) -> Callable[[str], tuple[str | None, str]]:
        """The region lookup of ``point``'s city (one per point)."""
        if point.id not in self.regions:
            self.regions[point.id] = _region_lookup(point, defn)
        return self.regions[point.id]

    def resolve(self, text: str) -> tuple[PointInfo | None, str]:
        """The point of a typed value, or None and the reason."""
        value = normal(text)
        if value not in self.memo:
            self.memo[value] = self._resolve(value)
        return self.memo[value]

    def _resolve(self, value: str) -> tuple[PointInfo | None, str]:
        if not value:
            return None, "缺少点位（填写点位编码，或只有一个点位的社区名称）"
        token = value.replace("｜", " ").replace("|", " ").split()[0].upper()
        ref = self.by_code.get(token)
        if ref is None:
            found = self.by_region.get(value) or self.by_region.get(token) or []
            if len(found) > 1:
                return None, f"该社区有 {len(found)} 个点位，请填写点位编码"
            if not found:
                return None, "未知点位：不是本问卷的点位编码，也不是有本问卷点位的社区"
            ref = found[0]
        if ref.version_id != self.version_id:
            return None, f"点位 {ref.code} 使用的不是本版问卷，请用该点位所用版本的模板录入"
        if self.nothing or (self.root is not None and not ref.path.startswith(self.root)):
            return None, f"点位 {ref.code} 不在您的管辖范围内，不能为它导入"
        if ref.code not in self.infos:
            self.infos[ref.code] = resident.find_point(ref.code)
        return self.infos[ref.code], ""


@dataclass
class Ready:
    """A row that passed every check, ready to store."""

    number: int
    serial: str
    point: PointInfo
    submitted: dt.datetime
    answers: Answers


@dataclass
class Checked:
    """A whole file checked: the rows to store, or every bad cell."""

    parsed: Parsed
    ready: list[Ready] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    already: int = 0  # rows whose serial is stored already (a file imported again)
    #: (row, point id, point code, serial) of every row whose point and serial are good.
    keyed: list[tuple[Row, int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every cell is good."""
        return not self.errors


def check(parsed: Parsed, user: User | None, progress: Progress | None = None) -> Checked:
    """Check every cell of every row; nothing is written."""
    target = parsed.target
    points = Points(target, user)
    rule = RowCheck(target.defn, target.columns)
    fixed = {c.kind: c for c in target.columns[:3]}
    out = Checked(parsed)
    seen: dict[tuple[int, str], int] = {}
    total = len(parsed.rows)
    for done, row in enumerate(parsed.rows, start=1):
        ready = _check_row(row, rule, fixed, points, target, seen, out.keyed)
        if ready is not None:
            out.ready.append(ready)
        if progress is not None and (done % 500 == 0 or done == total):
            progress("check", done, total)
    out.already = _stored_serials(out, rule, fixed["serial"])
    out.errors = sorted(rule.errors, key=lambda e: (e.row, len(e.column), e.column))
    return out


def _check_row(
    row: Row,
    rule: RowCheck,
    fixed: dict[str, Column],
    points: Points,
    target: Target,
    seen: dict[tuple[int, str], int],
    keyed: list[tuple[Row, int, str, str]],
) -> Ready | None:
    before = len(rule.errors)
    serial = normal(row.cells.get("serial", ""))
    if not serial:
        rule.error(row, fixed["serial"], "缺少问卷编号（每份纸质问卷的编号）")
    elif len(serial) > SERIAL_MAX:
        rule.error(row, fixed["serial"], f"编号最多 {SERIAL_MAX} 个字符")
    point, reason = points.resolve(row.cells.get("point", ""))
    if point is None:
        rule.error(row, fixed["point"], reason)
    day = _day(row, rule, fixed["date"], target)
    region = points.region(point, target.defn) if point is not None else None
    answers = rule.answers(row, region)
    if serial and point is not None:
        first = seen.setdefault((point.id, serial), row.number)
        if first != row.number:
            rule.error(row, fixed["serial"], f"编号重复：与第 {first} 行同一点位、同一编号")
        else:
            keyed.append((row, point.id, point.code, serial))
    if len(rule.errors) > before or point is None or day is None:
        return None
    return Ready(row.number, serial, point, submitted_at(day), answers)


def _day(row: Row, rule: RowCheck, column: Column, target: Target) -> dt.date | None:
    text = row.cells.get("date", "")
    if not normal(text):
        rule.error(row, column, "缺少填写日期")
        return None
    day = parse_date(text)
    if day is None:
        rule.error(row, column, "日期无法识别，请写成 2026-12-01 这样的格式")
        return None
    if not target.first_day <= day <= target.last_day:
        rule.error(
            row,
            column,
            f"日期不在本问卷的收集期内（{target.first_day:%Y-%m-%d} 至 "
            f"{target.last_day:%Y-%m-%d}）",
        )
        return None
    return day


def submitted_at(day: dt.date) -> dt.datetime:
    """When a paper dated ``day`` counts as answered: noon China time, or now if earlier."""
    noon = dt.datetime.combine(day, dt.time(12), CST).astimezone(dt.UTC)
    return min(noon, utcnow())


def _region_lookup(point: PointInfo, defn: Definition) -> Callable[[str], tuple[str | None, str]]:
    names = _region_names(resident.region_options(point, defn))

    def lookup(text: str) -> tuple[str | None, str]:
        found = names.get(normal(text)) or names.get(normal(text).upper())
        if found is None:
            return None, "不是本市的区（县）或街道（镇）：请从下拉列表中选择"
        if found == "":
            return None, "有同名的区域，请填写“区/街道”或区域编码"
        return found, ""

    return lookup


def _region_names(options: resident.RegionOptions) -> dict[str, str]:
    """Typed text -> region code: the code, "区/街道", or a name unique in the city."""
    from survey.cache import cached

    def build() -> dict[str, str]:
        out: dict[str, str] = {}
        names: dict[str, set[str]] = defaultdict(set)
        for district, streets in options.streets:
            for code, name in streets:
                out[code.upper()] = code
                out[normal(f"{district}/{name}")] = code
                names[normal(name)].add(code)
        for _, districts in options.districts:
            for code, name in districts:
                out[code.upper()] = code
                names[normal(name)].add(code)
        for name, codes in names.items():
            out.setdefault(name, next(iter(codes)) if len(codes) == 1 else "")
        return out

    return cached("region_options", ("paper_names", options), build)


def _stored_serials(out: Checked, rule: RowCheck, column: Column) -> int:
    """Refuse rows whose (point, serial) is stored already; how many there were."""
    wanted: dict[int, set[str]] = defaultdict(set)
    for _, point_id, _, serial in out.keyed:
        wanted[point_id].add(serial)
    stored: set[Any] = set()
    for point_id, serials in wanted.items():
        listed = sorted(serials)
        for start in range(0, len(listed), 500):
            stored.update(
                db.session.execute(
                    select(PaperResponse.point_id, PaperResponse.serial).where(
                        PaperResponse.point_id == point_id,
                        PaperResponse.serial.in_(listed[start : start + 500]),
                    )
                ).all()
            )
    if not stored:
        return 0
    for row, point_id, code, serial in out.keyed:
        if (point_id, serial) in stored:
            rule.error(row, column, f"点位 {code} 的编号 {serial} 已经导入过，不能重复导入")
    out.ready = [r for r in out.ready if (r.point.id, r.serial) not in stored]
    return len(stored)
