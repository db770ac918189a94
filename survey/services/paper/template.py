"""The XLSX entry template of a questionnaire version (one row per paper questionnaire).

Sheet 录入: the header (each heading ends with its key, see :mod:`.columns`), then empty
rows whose cells carry data-validation dropdowns: the Chinese option labels, 1/0 for the
options of a multiple-choice question, the points in the user's scope, the city's districts
and streets, dates within the questionnaire's period. Sheet 填写说明: how to fill it in, the
skip logic in words ("Q9 只在 Q8 选择“参加过”时填写") and every option's code. Sheet 选项
(hidden): the dropdown lists.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from questionnaires import Definition
from questionnaires import Question
from survey.errors import NotFound
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Questionnaire
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.services import access
from survey.services.paper.columns import Column
from survey.services.paper.columns import layout
from survey.services.paper.columns import letter
from survey.services.paper.importing import period_of
from survey.services.questionnaires import definition_of
from survey.services.region_options import RegionOptions
from survey.services.region_options import query_region_options
from survey.spreadsheet_text import safe_cell

#: Rows of the entry sheet that carry the dropdowns.
TEMPLATE_ROWS = 10_000
_TYPE_NAMES = {
    "single": "单选",
    "scale": "单选（量表）",
    "multiple": "多选（每个选项一列，选中填 1）",
    "text": "文字",
    "number": "数字",
    "region": "区域（下拉选择）",
}
_HEAD = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class TemplateFile:
    """A generated template: its file name and bytes."""

    filename: str
    data: bytes


def find_version(key: str, number: int | None = None) -> QuestionnaireVersion:
    """Version ``number`` of questionnaire ``key`` (the newest when None); 404 if none."""
    query = (
        select(QuestionnaireVersion)
        .join(Questionnaire, Questionnaire.id == QuestionnaireVersion.questionnaire_id)
        .where(Questionnaire.key == key)
        .order_by(QuestionnaireVersion.version.desc())
    )
    if number is not None:
        query = query.where(QuestionnaireVersion.version == number)
    version = db.session.execute(query.limit(1)).scalar_one_or_none()
    if version is None:
        raise NotFound(f"没有问卷 {key}" + (f" 第 {number} 版" if number else "") + "。")
    return version


def version_by_id(version_id: int | None) -> QuestionnaireVersion:
    """A stored version by id; 404 if none."""
    version = db.session.get(QuestionnaireVersion, version_id) if version_id else None
    if version is None:
        raise NotFound("请选择问卷版本。")
    return version


def build_template(version: QuestionnaireVersion, user: User | None) -> TemplateFile:
    """The entry template of ``version`` with the points ``user`` may import for."""
    defn = definition_of(version)
    columns = layout(defn)
    points = _points(version, user)
    regions = _regions(points)
    book = Workbook()
    entry = book.active
    assert entry is not None
    entry.title = "录入"
    guide = book.create_sheet("填写说明")
    lists = book.create_sheet("选项")
    lists.sheet_state = "hidden"
    _entry_sheet(entry, lists, defn, columns, version, [p[1] for p in points], regions)
    _guide_sheet(guide, defn, columns, version)
    buffer = io.BytesIO()
    book.save(buffer)
    name = f"paper-template-{defn.key}-v{defn.version}.xlsx"
    return TemplateFile(name, buffer.getvalue())


def _points(version: QuestionnaireVersion, user: User | None) -> list[tuple[int, str]]:
    """(city id, "CODE 名称") of the version's points in the user's scope."""
    query = (
        select(CollectionPoint.code, CollectionPoint.label, Region.path)
        .join(Region, Region.id == CollectionPoint.region_id)
        .where(CollectionPoint.questionnaire_version_id == version.id)
        .order_by(Region.path, CollectionPoint.code)
    )
    if user is not None:
        query = query.where(access.region_condition(user))
    return [
        (int(path.strip("/").split("/")[0]), f"{code} {label}")
        for code, label, path in db.session.execute(query)
    ]


def _regions(points: Sequence[tuple[int, str]]) -> list[RegionOptions]:
    return [query_region_options(city) for city in sorted({p[0] for p in points})]


def _entry_sheet(
    sheet: Worksheet,
    lists: Worksheet,
    defn: Definition,
    columns: Sequence[Column],
    version: QuestionnaireVersion,
    points: list[str],
    regions: list[RegionOptions],
) -> None:
    sheet.append([safe_cell(c.heading) for c in columns])
    sheet.freeze_panes = "D2"
    sheet.row_dimensions[1].height = 90
    for index, column in enumerate(columns):
        cell = sheet.cell(row=1, column=index + 1)
        cell.font = Font(bold=True)
        cell.fill = _HEAD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter(index)].width = 12 if column.kind == "option" else 18
    sheet.column_dimensions["C"].number_format = "yyyy-mm-dd"
    writer = _Lists(lists)
    for index, column in enumerate(columns):
        check = _validation(column, writer, version, points, regions)
        if check is not None:
            check.add(f"{letter(index)}2:{letter(index)}{TEMPLATE_ROWS + 1}")
            sheet.add_data_validation(check)


class _Lists:
    """Writes dropdown lists into the hidden sheet, one column each."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.used = 0

    def add(self, title: str, values: Sequence[str]) -> str:
        """The absolute range of a new list of ``values``."""
        self.used += 1
        col = letter(self.used - 1)
        self.sheet.cell(row=1, column=self.used, value=safe_cell(title))
        for i, value in enumerate(values or ["（无）"], start=2):
            self.sheet.cell(row=i, column=self.used, value=safe_cell(value))
        return f"'选项'!${col}$2:${col}${max(len(values), 1) + 1}"


def _validation(
    column: Column,
    lists: _Lists,
    version: QuestionnaireVersion,
    points: list[str],
    regions: list[RegionOptions],
) -> DataValidation | None:
    q = column.question
    if column.kind == "point":
        return _list(lists.add("点位", points), "请从下拉列表选择点位（也可只填点位编码）")
    if column.kind == "date":
        first = period_of(version)[0]
        check = DataValidation(
            type="date",
            operator="greaterThanOrEqual",
            formula1=f"DATE({first.year},{first.month},{first.day})",
        )
        check.error = f"请填写 {first:%Y-%m-%d} 之后的日期，例如 {first:%Y-%m-%d}"
        check.showErrorMessage = True
        return check
    if column.kind == "choice" and q is not None:
        labels = [o.label for o in q.options]
        return _list(lists.add(q.key, labels), "请从下拉列表选择：" + "、".join(labels))
    if column.kind == "option":
        return _list('"1,0"', "选中填 1，未选填 0 或留空")
    if column.kind == "region" and q is not None:
        return _list(lists.add(q.key, _region_labels(q, regions)), "请从下拉列表选择区域")
    if column.kind == "number" and q is not None:
        return _number(q)
    if column.kind in ("text", "other_text") and q is not None:
        limit = (q.max_length or 200) if column.kind == "text" else 100
        check = DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(limit))
        check.error = f"最多 {limit} 个字"
        check.showErrorMessage = True
        return check
    return None


def _list(formula: str, message: str) -> DataValidation:
    check = DataValidation(type="list", formula1=formula, allow_blank=True)
    check.error = message
    check.errorTitle = "输入有误"
    check.showErrorMessage = True
    return check


def _number(q: Question) -> DataValidation:
    low = q.min if q.min is not None else -1e15
    high = q.max if q.max is not None else 1e15
    check = DataValidation(
        type="decimal", operator="between", formula1=f"{low:g}", formula2=f"{high:g}"
    )
    check.error = "请填写数字" + (f"（{low:g}—{high:g}）" if q.min is not None else "")
    check.showErrorMessage = True
    return check


def _region_labels(q: Question, regions: list[RegionOptions]) -> list[str]:
    out: list[str] = []
    for options in regions:
        if q.level == "district":
            out += [name for _, items in options.districts for _, name in items]
        else:
            out += [
                f"{district}/{name}" for district, items in options.streets for _, name in items
            ]
    return out


def _guide_sheet(
    sheet: Worksheet, defn: Definition, columns: Sequence[Column], version: QuestionnaireVersion
) -> None:
    first, last = period_of(version)
    end = f"{last:%Y-%m-%d}" if version.closed_at else "今天"
    for line in (
        f"{defn.title}（第 {defn.version} 版）纸质问卷录入模板",
        "每一行录入一份纸质问卷。请勿修改第一行表头（方括号中是系统用来识别列的代码）。",
        "问卷编号：纸质问卷上的编号，同一点位内不能重复；同一份文件再次导入时，已导入的编号会被拒绝。",
        "点位或社区：从下拉列表选择点位（或只填点位编码）；社区只有一个本问卷点位时也可填社区名称。",
        f"填写日期：问卷填写的日期，须在 {first:%Y-%m-%d} 至 {end} 之间，如 {first:%Y-%m-%d}。",
        "单选题：从下拉列表选择选项文字，也可填下表中的选项序号或代码。",
        "多选题：每个选项一列，选中填 1，未选填 0 或留空。",
        "按跳题规则不需回答的题目必须留空；必答题不能留空。",
        "只要有一个单元格有误，整个文件都不会导入，系统会列出每个有误的单元格（行、列、原因）。",
        "",
    ):
        sheet.append([safe_cell(line)])
    sheet.append(
        ["题号", "题目", "所在列", "题型", "是否必答", "跳题规则", "选项（序号 = 代码：文字）"]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.fill = _HEAD
    numbers = {c.question.key: c.number for c in columns if c.question is not None}
    for q in defn.questions:
        cols = [letter(i) for i, c in enumerate(columns) if c.question is q]
        sheet.append(
            [
                safe_cell(value)
                for value in (
                    f"Q{numbers[q.key]}",
                    q.text,
                    f"{cols[0]}" if len(cols) == 1 else f"{cols[0]}—{cols[-1]}",
                    _TYPE_NAMES.get(q.type, q.type),
                    "必答" if q.required else "选答",
                    _skip_words(defn, q, numbers),
                    "；".join(
                        f"{i} = {o.value}：{o.label}" for i, o in enumerate(q.options, start=1)
                    ),
                )
            ]
        )
    for col, width in zip("ABCDEFG", (8, 50, 10, 22, 10, 40, 80), strict=True):
        sheet.column_dimensions[col].width = width


def _skip_words(defn: Definition, q: Question, numbers: dict[str, int]) -> str:
    """The skip logic of ``q`` in words, e.g. "Q9 只在 Q8 选择“参加过”时填写，否则留空"."""
    if q.show_if is None:
        return "所有人都填写"
    controller = defn.question(q.show_if.question)
    labels = "或".join(f"“{o.label}”" for o in controller.options if o.value in q.show_if.values)
    codes = "、".join(
        f"{i}={o.value}"
        for i, o in enumerate(controller.options, start=1)
        if o.value in q.show_if.values
    )
    return (
        f"Q{numbers[q.key]} 只在 Q{numbers[controller.key]} 选择{labels}（{codes}）时填写，否则留空"
    )
