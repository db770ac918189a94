"""Population counts (district x age group x sex), the targets of weighting: import from CSV
or XLSX (all or nothing, every bad row numbered), table, and export as the import template.

Valid age-group and sex codes are those of the questionnaires' demographic questions; a file
may give the code (``18-29``, ``male``) or the option's label (``18—29岁``, ``男``). Counts are
entered per district (区/县), the design stratum; an import replaces the counts of the
districts in the file and leaves the others alone. City admin only (the view checks; the
service refuses other staff too).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from questionnaires import Definition
from survey.errors import Forbidden
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import PopulationCount
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.numbers import parse_int
from survey.services import audit
from survey.services.csv_files import csv_bytes
from survey.services.questionnaires import definition_of
from survey.services.region_import import ImportFileError
from survey.services.region_import import read_rows
from survey.spreadsheet_text import safe_cell

#: Audit actions of this module (Chinese names for the audit page).
ACTION_NAMES: dict[str, str] = {"population_import": "导入人口数"}
HEADERS: tuple[str, ...] = ("区县编码", "区县名称", "年龄段", "性别", "人口数")
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("区县编码", "区域编码", "编码", "代码", "区划代码", "code", "region_code"),
    "age_group": ("年龄段", "年龄组", "年龄", "age_group", "age"),
    "sex": ("性别", "sex", "gender"),
    "count": ("人口数", "人数", "人口", "常住人口", "count", "population"),
}
MAX_ROWS = 100_000
#: Largest count of one district x age group x sex cell: far above any real district, far
#: below the 32-bit column (a bigger number is a typo, refused with its row).
MAX_CELL_COUNT = 100_000_000
_ASCII_INTEGER = re.compile(r"-?[0-9]+")


class PopulationImportError(InvalidInput):
    """An import that changed nothing: every problem as (row number, message); row 0 is the
    file as a whole (format, encoding, header)."""

    def __init__(self, errors: Sequence[tuple[int, str]]) -> None:
        self.errors: list[tuple[int, str]] = sorted(errors)
        super().__init__("；".join(f"第 {r} 行：{m}" if r else m for r, m in self.errors[:20]))


@dataclass(frozen=True)
class ImportSummary:
    """What an import replaced."""

    districts: int
    cells: int
    total: int


@dataclass(frozen=True)
class Codes:
    """Valid age-group and sex codes with their labels, in questionnaire order."""

    age_groups: dict[str, str]
    sexes: dict[str, str]

    def age_code(self, text: str) -> str | None:
        return _lookup(text, self.age_groups)

    def sex_code(self, text: str) -> str | None:
        return _lookup(text, self.sexes)


def _lookup(text: str, options: dict[str, str]) -> str | None:
    if text in options:
        return text
    for code, label in options.items():
        if text == label or text.lower() == code.lower():
            return code
    return None


def demographic_codes(definitions: Sequence[Definition] | None = None) -> Codes:
    """Age-group and sex options of the stored questionnaires' demographic questions."""
    if definitions is None:
        versions = db.session.execute(db.select(QuestionnaireVersion)).scalars()
        definitions = [definition_of(v) for v in versions]
    ages: dict[str, str] = {}
    sexes: dict[str, str] = {}
    for defn in definitions:
        keys = defn.demographic_keys()
        for role, target in (("age_group", ages), ("sex", sexes)):
            if role in keys:
                for option in defn.question(keys[role]).options:
                    target.setdefault(option.value, option.label)
    return Codes(ages, sexes)


def _require_city_admin(actor: User | None) -> None:
    if actor is not None and actor.role != "city_admin":
        raise Forbidden("只有市级管理员可以修改人口数。")


def _columns(header: Sequence[str]) -> dict[str, int]:
    normalised = [h.replace(" ", "").lower() for h in header]
    columns: dict[str, int] = {}
    for key, aliases in HEADER_ALIASES.items():
        wanted = {a.lower() for a in aliases}
        found = [i for i, name in enumerate(normalised) if name in wanted]
        if found:
            columns[key] = found[0]
    missing = [HEADER_ALIASES[k][0] for k in HEADER_ALIASES if k not in columns]
    if missing:
        raise PopulationImportError(
            [(0, f"表头缺少列：{'、'.join(missing)}。第一行应为：{','.join(HEADERS)}")]
        )
    return columns


def parse_population(
    rows: list[tuple[int, list[str]]], districts: dict[str, Region], codes: Codes
) -> tuple[list[tuple[int, str, str, int]], list[tuple[int, str]]]:
    """Cells (region id, age code, sex code, count) and every problem, with row numbers."""
    if not rows:
        raise PopulationImportError([(0, "文件是空的。")])
    if len(rows) > MAX_ROWS + 1:
        raise PopulationImportError([(0, f"一次最多导入 {MAX_ROWS} 行。")])
    columns = _columns(rows[0][1])
    cells: list[tuple[int, str, str, int]] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[int, str, str], int] = {}
    for number, values in rows[1:]:
        field = {k: (values[i].strip() if i < len(values) else "") for k, i in columns.items()}
        problems = _check_row(field, districts, codes)
        if problems:
            errors += [(number, p) for p in problems]
            continue
        region = districts[field["code"]]
        age, sex = codes.age_code(field["age_group"]), codes.sex_code(field["sex"])
        assert age is not None and sex is not None
        key = (region.id, age, sex)
        if key in seen:
            errors.append((number, f"与第 {seen[key]} 行重复（{region.name} {age} {sex}）"))
            continue
        seen[key] = number
        count = parse_int(field["count"], maximum=MAX_CELL_COUNT)
        assert count is not None  # checked by _check_row
        cells.append((region.id, age, sex, count))
    return cells, errors


def _check_row(field: dict[str, str], districts: dict[str, Region], codes: Codes) -> list[str]:
    empty = [HEADER_ALIASES[k][0] for k in HEADER_ALIASES if not field[k]]
    if empty:
        return [f"{'、'.join(empty)}为空"]
    problems = []
    region = districts.get(field["code"])
    if region is None:
        problems.append(f"区域编码 {field['code']} 不存在")
    elif region.level != "district":
        problems.append(f"{region.name}（{region.code}）不是区/县：人口数按区/县填写")
    if codes.age_code(field["age_group"]) is None:
        valid = "、".join(codes.age_groups) or "（问卷未定义年龄段）"
        problems.append(f"年龄段“{field['age_group']}”无效（可用：{valid}）")
    if codes.sex_code(field["sex"]) is None:
        valid = "、".join(f"{c}/{lab}" for c, lab in codes.sexes.items()) or "（问卷未定义性别）"
        problems.append(f"性别“{field['sex']}”无效（可用：{valid}）")
    count = field["count"]
    if parse_int(count, maximum=MAX_CELL_COUNT) is None:
        problems.append(_count_problem(count))
    return problems


def _count_problem(count: str) -> str:
    """Why ``count`` is not a population count (ASCII digits, 0..MAX_CELL_COUNT)."""
    if not _ASCII_INTEGER.fullmatch(count.strip()):
        return f"人口数“{count}”不是整数"
    if count.strip().startswith("-"):
        return f"人口数 {count} 不能为负数"
    return f"人口数 {count} 超出上限（每格最多 {MAX_CELL_COUNT:,} 人）"


def import_population(filename: str, data: bytes, actor: User | None = None) -> ImportSummary:
    """Validate the whole file, then replace the counts of its districts. Flushes only.

    Raises
    ------
    PopulationImportError
        With every bad row; nothing is changed.
    """
    _require_city_admin(actor)
    try:
        rows = read_rows(filename, data)
    except ImportFileError as exc:
        raise PopulationImportError([(0, str(exc))]) from exc
    regions = {r.code: r for r in db.session.execute(db.select(Region)).scalars()}
    cells, errors = parse_population(rows, regions, demographic_codes())
    if errors:
        raise PopulationImportError(errors)
    if not cells:
        raise PopulationImportError([(0, "文件中没有数据行。")])
    district_ids = sorted({c[0] for c in cells})
    db.session.execute(
        db.delete(PopulationCount).where(PopulationCount.region_id.in_(district_ids))
    )
    db.session.add_all(
        PopulationCount(region_id=r, age_group=a, sex=s, count=n) for r, a, s, n in cells
    )
    db.session.flush()
    summary = ImportSummary(len(district_ids), len(cells), sum(c[3] for c in cells))
    audit.record(
        actor,
        "population_import",
        "population",
        None,
        file=filename[:100],
        districts=summary.districts,
        cells=summary.cells,
        total=summary.total,
    )
    return summary


@dataclass(frozen=True)
class PopulationRow:
    """One cell of the table view and of the template."""

    region_id: int
    code: str
    name: str
    age_group: str
    age_label: str
    sex: str
    sex_label: str
    count: int | None


def population_rows(codes: Codes | None = None) -> list[PopulationRow]:
    """Every district x age group x sex cell with its current count (None when not set)."""
    codes = codes or demographic_codes()
    districts = db.session.execute(
        db.select(Region).where(Region.level == "district").order_by(Region.code)
    ).scalars()
    counts = {
        (p.region_id, p.age_group, p.sex): p.count
        for p in db.session.execute(db.select(PopulationCount)).scalars()
    }
    rows = []
    for district in districts:
        ages = dict(codes.age_groups)
        sexes = dict(codes.sexes)
        for (region_id, age, sex), _count in counts.items():  # codes no questionnaire lists
            if region_id == district.id:
                ages.setdefault(age, age)
                sexes.setdefault(sex, sex)
        for age, age_label in ages.items():
            for sex, sex_label in sexes.items():
                count = counts.get((district.id, age, sex))
                rows.append(
                    PopulationRow(
                        district.id,
                        district.code,
                        district.name,
                        age,
                        age_label,
                        sex,
                        sex_label,
                        count,
                    )
                )
    return rows


def export_population(fmt: str = "csv") -> bytes:
    """The current counts as an import template (Chinese headers; codes in the cells).

    CSV is UTF-8 with a byte-order mark so that Excel opens it correctly.
    """
    rows = [_template_row(r) for r in population_rows()]
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "人口数"
        sheet.append(list(HEADERS))
        for row in rows:
            sheet.append([safe_cell(v) for v in row])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    if fmt != "csv":
        raise InvalidInput(f"未知的文件格式：{fmt}")
    return csv_bytes(HEADERS, rows)


def _template_row(row: PopulationRow) -> list[Any]:
    return [
        row.code,
        row.name,
        row.age_group,
        row.sex_label,
        "" if row.count is None else row.count,
    ]
