"""Importing the region tree from CSV or XLSX: validate every row, then all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from survey.errors import ImportFileError
from survey.extensions import db
from survey.models import LEVELS
from survey.models import Region
from survey.models import User
from survey.services import audit
from survey.services.names import REGION_CODE_RULE
from survey.services.names import control_characters
from survey.services.names import is_region_code
from survey.services.names import printable
from survey.services.regions import CHILD_LEVEL
from survey.services.regions import create_region

# Header names accepted for each column (compared case-insensitively, spaces removed).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "代码", "区划代码", "区域编码", "区域代码"),
    "name": ("name", "名称", "区域名称", "名字"),
    "level": ("level", "级别", "层级", "类型"),
    "parent": ("parent", "parent_code", "parentcode", "上级编码", "上级代码", "上级区域编码"),
}
LEVEL_ALIASES: dict[str, str] = {
    "city": "city",
    "市": "city",
    "district": "district",
    "区": "district",
    "县": "district",
    "区县": "district",
    "区/县": "district",
    "street": "street",
    "街道": "street",
    "镇": "street",
    "乡": "street",
    "街道/镇": "street",
    "community": "community",
    "社区": "community",
    "村": "community",
    "社区/村": "community",
}
MAX_ROWS = 50_000
#: Largest total size of an XLSX file's parts once inflated (a ZIP bomb is refused unread).
MAX_XLSX_INFLATED = 32 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    """One problem with one row; ``row`` is the 1-based line/row number in the file."""

    row: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.message}"


@dataclass
class ImportReport:
    """What an import did, or every reason it did nothing."""

    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        """True when the file had no bad rows."""
        return not self.errors


@dataclass(frozen=True)
class _Row:
    number: int
    code: str
    name: str
    level: str
    parent: str


def read_rows(filename: str, data: bytes) -> list[tuple[int, list[str]]]:
    """(row number, cells) for every non-empty row of a CSV or XLSX file, header included."""
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        return _read_xlsx(data)
    if lower.endswith((".csv", ".txt")):
        return _read_csv(data)
    raise ImportFileError("只支持 CSV 或 XLSX 文件。")


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
    # Excel in China saves CSV as GBK unless told otherwise; accept both.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise ImportFileError("无法识别文件编码，请保存为 UTF-8 编码的 CSV。")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式有误：{exc}") from exc
    return [(i, [c.strip() for c in r]) for i, r in enumerate(rows, start=1) if any(r)]


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    """Rows of the first sheet; any file openpyxl cannot read is an ``ImportFileError``.

    The file comes from a browser, so nothing about it is trusted: a ZIP that would inflate
    beyond :data:`MAX_XLSX_INFLATED` bytes is refused before it is parsed, XML entities are
    refused (openpyxl parses with defusedxml when it is installed, as it is here), and any
    error while reading the workbook or its sheet XML (broken XML, missing parts, an entity
    bomb) means the file cannot be read: a 400 with a message, never a 500.
    """
    _check_inflated_size(data)
    from openpyxl import load_workbook

    book = None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        out: list[tuple[int, list[str]]] = []
        for i, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else _cell_text(v) for v in values]
            if any(cells):
                out.append((i, cells))
            if len(out) > MAX_ROWS + 1:
                break
    except Exception as exc:  # untrusted file: every failure means "cannot be read"
        raise ImportFileError("无法读取 XLSX 文件，请确认文件未损坏。") from exc
    finally:
        if book is not None:
            book.close()
    return out


def _check_inflated_size(data: bytes) -> None:
    """Refuse an XLSX (a ZIP) that is not a ZIP or would inflate beyond the limit."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError("无法读取 XLSX 文件，请确认文件未损坏。") from exc
    if inflated > MAX_XLSX_INFLATED:
        raise ImportFileError("XLSX 文件解压后过大，请只保留区域表后重新保存。")


def _cell_text(value: object) -> str:
    # Codes typed into Excel often become numbers: 999901 -> 999901.0.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(header: Sequence[str]) -> dict[str, int]:
    normalised = [h.replace(" ", "").replace("_", "").lower() for h in header]
    columns: dict[str, int] = {}
    for key, aliases in HEADER_ALIASES.items():
        wanted = {a.replace("_", "").lower() for a in aliases}
        for index, name in enumerate(normalised):
            if name in wanted:
                columns[key] = index
                break
    missing = [k for k in HEADER_ALIASES if k not in columns]
    if missing:
        names = "、".join(f"{k}（{HEADER_ALIASES[k][1]}）" for k in missing)
        raise ImportFileError(f"表头缺少列：{names}。第一行应为：编码,名称,级别,上级编码")
    return columns


def parse_rows(rows: list[tuple[int, list[str]]]) -> tuple[list[_Row], list[RowError]]:
    """Map cells to fields and report empty fields and unknown levels."""
    if not rows:
        raise ImportFileError("文件是空的。")
    if len(rows) > MAX_ROWS + 1:
        raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行。")
    columns = _header_map(rows[0][1])
    parsed: list[_Row] = []
    errors: list[RowError] = []
    for number, cells in rows[1:]:

        def cell(key: str, cells: list[str] = cells) -> str:
            index = columns[key]
            return cells[index].strip() if index < len(cells) else ""

        code, name, level_raw, parent = (cell(k) for k in ("code", "name", "level", "parent"))
        problems = [
            label for label, v in (("编码", code), ("名称", name), ("级别", level_raw)) if not v
        ]
        if problems:
            errors.append(RowError(number, f"{'、'.join(problems)}为空"))
            continue
        level = LEVEL_ALIASES.get(level_raw.lower())
        if level is None:
            errors.append(
                RowError(number, f"级别“{level_raw}”无效（可用：市、区/县、街道/镇、社区/村）")
            )
            continue
        problem = _cell_problem(code, name, parent)
        if problem:
            errors.append(RowError(number, problem))
            continue
        parsed.append(_Row(number, code, name, level, parent))
    return parsed, errors


def _cell_problem(code: str, name: str, parent: str) -> str | None:
    """Why the code, parent code or name of a row cannot be stored, or None."""
    if not is_region_code(code):
        return f"编码“{printable(code)[:40]}”无效：{REGION_CODE_RULE}"
    if parent and not is_region_code(parent):
        return f"上级编码“{printable(parent)[:40]}”无效：{REGION_CODE_RULE}"
    bad = control_characters(name)
    if bad:
        return f"名称不能包含控制字符（如换行、制表符）：{', '.join(bad[:5])}"
    if len(name) > 100:
        return "名称不超过 100 个字符"
    return None


def validate(rows: list[_Row]) -> list[RowError]:
    """Check duplicates, parents, level order and cycles against the file and the database."""
    errors: list[RowError] = []
    existing = {r.code: r for r in db.session.execute(db.select(Region)).scalars()}
    first_seen: dict[str, int] = {}
    by_code: dict[str, _Row] = {}
    for row in rows:
        if row.code in first_seen:
            errors.append(
                RowError(row.number, f"编码 {row.code} 重复（与第 {first_seen[row.code]} 行）")
            )
            continue
        first_seen[row.code] = row.number
        by_code[row.code] = row

    for row in by_code.values():
        errors.extend(_check_row(row, by_code, existing))
    return sorted(errors, key=lambda e: e.row)


def _check_row(row: _Row, by_code: dict[str, _Row], existing: dict[str, Region]) -> list[RowError]:
    old = existing.get(row.code)
    if old is not None:
        same_parent = (old.parent.code if old.parent else "") == row.parent
        if old.name == row.name and old.level == row.level and same_parent:
            return []
        return [RowError(row.number, f"编码 {row.code} 已存在（{old.name}），与文件内容不一致")]
    if row.parent == row.code:
        return [RowError(row.number, "上级编码不能是自己（循环）")]
    if _in_cycle(row, by_code):
        return [RowError(row.number, f"上级关系形成循环（编码 {row.code}）")]
    if not row.parent:
        if row.level != "city":
            return [RowError(row.number, "上级编码为空；只有“市”级区域可以没有上级")]
        return []
    parent_level = (
        by_code[row.parent].level
        if row.parent in by_code
        else existing[row.parent].level
        if row.parent in existing
        else None
    )
    if parent_level is None:
        return [RowError(row.number, f"上级编码 {row.parent} 不存在")]
    if CHILD_LEVEL.get(parent_level) != row.level:
        expected = CHILD_LEVEL.get(parent_level)
        return [
            RowError(
                row.number,
                f"级别顺序不对：{_level_cn(parent_level)}下面应为"
                f"{_level_cn(expected) if expected else '（不能再有下级）'}，"
                f"而不是{_level_cn(row.level)}",
            )
        ]
    return []


def _level_cn(level: str | None) -> str:
    from survey.models.region import LEVEL_NAMES

    return LEVEL_NAMES.get(level or "", level or "")


def _in_cycle(row: _Row, by_code: dict[str, _Row]) -> bool:
    seen = {row.code}
    node = row
    while node.parent in by_code:
        node = by_code[node.parent]
        if node.code in seen:
            return node.code == row.code or _in_cycle(node, by_code)
        seen.add(node.code)
    return False


def import_regions(filename: str, data: bytes, actor: User | None = None) -> ImportReport:
    """Validate the whole file; create its regions only if every row is good. Flushes only."""
    parsed, errors = parse_rows(read_rows(filename, data))
    errors = sorted(errors + validate(parsed), key=lambda e: e.row)
    report = ImportReport(errors=errors)
    if errors:
        return report
    existing = {r.code: r for r in db.session.execute(db.select(Region)).scalars()}
    pending = [r for r in parsed if r.code not in existing]
    report.unchanged = len(parsed) - len(pending)
    # Parents first: sort by level depth, then file order.
    for row in sorted(pending, key=lambda r: (LEVELS.index(r.level), r.number)):
        parent = existing[row.parent] if row.parent else None
        existing[row.code] = create_region(row.code, row.name, row.level, parent)
        report.created += 1
    audit.record(
        actor,
        "region_import",
        "region",
        None,
        file=filename[:100],
        created=report.created,
        unchanged=report.unchanged,
    )
    return report
