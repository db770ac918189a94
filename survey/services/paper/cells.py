"""The rules of one typed-in row of a paper questionnaire, cell by cell.

The same rules as the QR form (``survey.web.public.forms``), worded for the clerk: an
option that is not one of the question's, an answer to a question the skip logic hides, a
missing required answer, "其他" without its text, text too long, a number out of range.
A choice cell takes the option's Chinese label (the template's dropdown), its code, or its
number in the list (1, 2, ...); a multiple-choice option column takes 1 (chosen) or 0/empty.
What the rows have in common (the point, the period, duplicate serials) is checked by
:mod:`.importing`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from questionnaires import OTHER_VALUE
from questionnaires import Definition
from questionnaires import Question
from questionnaires import visible_keys
from questionnaires._model import DEFAULT_TEXT_MAX_LENGTH
from questionnaires._model import OTHER_MAX_LENGTH
from survey.services.paper.columns import Column
from survey.services.paper.columns import letter
from survey.spreadsheet_text import safe_cell

#: Longest serial number.
SERIAL_MAX = 40
_TICKS = {"1": True, "√": True, "✓": True, "✔": True, "0": False, "": False}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CellError:
    """One bad cell: the file's row number, its column, what was typed and why it is wrong."""

    row: int
    column: str  # spreadsheet letter
    heading: str
    value: str
    reason: str

    def __str__(self) -> str:
        typed = f"“{self.value[:30]}”" if self.value else "（空）"
        return f"第 {self.row} 行 {self.column} 列（{self.heading}）{typed}：{self.reason}"


@dataclass
class Row:
    """One row as typed: its number in the file and its cells by column key."""

    number: int
    cells: dict[str, str]
    index: dict[str, int] = field(default_factory=dict)  # column key -> 0-based file column


@dataclass
class Answers:
    """A row's answers in the shape ``survey.services.responses`` stores."""

    answers: dict[str, str | list[str]]
    others: dict[str, str]


def normal(text: str) -> str:
    """Compared form of a typed value: NFKC (full-width digits and spaces), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def choice_lookup(q: Question) -> dict[str, str]:
    """Typed text -> option value: the label, the code, or the 1-based number."""
    out: dict[str, str] = {}
    for number, o in enumerate(q.options, start=1):
        out.setdefault(str(number), o.value)
    for o in q.options:
        out[normal(o.value)] = o.value
    for o in q.options:
        out[normal(o.label)] = o.value
        out[normal(str(safe_cell(o.label)))] = o.value  # as the template wrote it
    return out


def parse_date(text: str) -> dt.date | None:
    """A date typed as 2026-12-01, 2026/12/1, 2026年12月1日, 20261201 (or an Excel date)."""
    text = normal(text)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    found = _DATE.match(text)
    if found is None:
        return None
    try:
        return dt.date(*(int(g) for g in found.groups()))
    except ValueError:
        return None


RegionLookup = Callable[[str], tuple[str | None, str]]


@dataclass
class RowCheck:
    """Checks the answers of one row against ``defn`` (the template's ``columns``)."""

    defn: Definition
    columns: Sequence[Column]
    errors: list[CellError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lookups = {
            q.key: choice_lookup(q) for q in self.defn.questions if q.type in ("single", "scale")
        }
        self.first = {c.question.key: c for c in reversed(self.columns) if c.question is not None}
        self.answer_columns = [c for c in self.columns if c.question is not None]

    def error(self, row: Row, column: Column, reason: str) -> None:
        """Record a bad cell of ``row`` in ``column``."""
        self.errors.append(
            CellError(
                row.number,
                letter(row.index.get(column.key, 0)),
                column.short,
                row.cells.get(column.key, ""),
                reason,
            )
        )

    def answers(self, row: Row, region: RegionLookup | None) -> Answers:
        """The row's answers; each bad cell recorded (its question then counts as unknown)."""
        found = Answers({}, {})
        bad: set[str] = set()
        for column in self.answer_columns:
            if not self._read(row, column, found, region):
                bad.add(column.question.key)
        self._skip_logic(row, found, bad)
        return found

    def _read(self, row: Row, column: Column, found: Answers, region: RegionLookup | None) -> bool:
        q = column.question
        assert q is not None
        text = row.cells.get(column.key, "")
        value = normal(text)
        if not value:
            return True
        if _CONTROL.search(text):
            self.error(row, column, "包含无法识别的控制字符，请删除后重新填写")
            return False
        if column.kind == "choice":
            return self._choice(row, column, q, value, found)
        if column.kind == "option":
            return self._tick(row, column, q, value, found)
        if column.kind == "other_text":
            if len(value) > OTHER_MAX_LENGTH:
                self.error(row, column, f"“其他”内容最多 {OTHER_MAX_LENGTH} 个字")
                return False
            found.others[q.key] = value
            return True
        if column.kind == "number":
            return self._number(row, column, q, value, found)
        if column.kind == "region":
            return self._region(row, column, q, value, found, region)
        return self._text(row, column, q, value, found)

    def _choice(self, row: Row, column: Column, q: Question, value: str, found: Answers) -> bool:
        chosen = self.lookups[q.key].get(value)
        if chosen is None:
            labels = "、".join(o.label for o in q.options)
            self.error(
                row, column, f"不是此题的选项（可填：{labels}，或选项序号 1—{len(q.options)}）"
            )
            return False
        found.answers[q.key] = chosen
        return True

    def _tick(self, row: Row, column: Column, q: Question, value: str, found: Answers) -> bool:
        if value.endswith(".0"):
            value = value[:-2]
        ticked = _TICKS.get(value)
        if ticked is None:
            self.error(row, column, "多选题的选项列只能填 1（选中）或 0、留空（未选）")
            return False
        if ticked and column.option is not None:
            chosen = found.answers.setdefault(q.key, [])
            assert isinstance(chosen, list)
            chosen.append(column.option.value)
        return True

    def _number(self, row: Row, column: Column, q: Question, value: str, found: Answers) -> bool:
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")) or len(value) > 20:
            self.error(row, column, "应填写数字，例如 3 或 2.5")
            return False
        if (q.min is not None and number < q.min) or (q.max is not None and number > q.max):
            self.error(
                row,
                column,
                f"应在 {q.min:g} 到 {q.max:g} 之间"
                if q.min is not None and q.max is not None
                else "超出此题允许的范围",
            )
            return False
        found.answers[q.key] = value
        return True

    def _region(
        self,
        row: Row,
        column: Column,
        q: Question,
        value: str,
        found: Answers,
        region: RegionLookup | None,
    ) -> bool:
        if region is None:  # the row's point is bad (reported there): the city is unknown
            return False
        code, reason = region(value)
        if code is None:
            self.error(row, column, reason)
            return False
        found.answers[q.key] = code
        return True

    def _text(self, row: Row, column: Column, q: Question, value: str, found: Answers) -> bool:
        limit = q.max_length or DEFAULT_TEXT_MAX_LENGTH
        if len(value) > limit:
            self.error(row, column, f"最多 {limit} 个字，此处有 {len(value)} 个字")
            return False
        found.answers[q.key] = value
        return True

    def _skip_logic(self, row: Row, found: Answers, bad: set[str]) -> None:
        """Answers to hidden questions, missing required answers, "其他" without text."""
        visible = visible_keys(self.defn, found.answers)
        unsure = set(bad)
        first = self.first
        for q in self.defn.questions:
            cond = q.show_if
            if cond is not None and cond.question in unsure:
                unsure.add(q.key)  # visibility unknown: its controlling answer is bad
                continue
            if q.key in bad:
                continue
            given = q.key in found.answers or q.key in found.others
            if q.key not in visible:
                if given:
                    self._hidden(row, q, found, first[q.key])
            elif q.required and q.key not in found.answers:
                self.error(row, first[q.key], "必答题未填写（此题在本份问卷中应作答）")
            else:
                self._other(row, q, found)

    def _hidden(self, row: Row, q: Question, found: Answers, column: Column) -> None:
        cond = q.show_if
        assert cond is not None
        controller = self.defn.question(cond.question)
        labels = "、".join(f"“{o.label}”" for o in controller.options if o.value in cond.values)
        number = next(c.number for c in self.columns if c.question is controller)
        reason = f"此题只在 Q{number} 选择{labels}时填写，按跳题规则应留空"
        picked = [
            c
            for c in self.columns
            if c.question is q
            and row.cells.get(c.key, "").strip()
            and normal(row.cells[c.key]) not in ("0", "0.0")
        ]
        for c in picked or [column]:
            self.error(row, c, reason)
        found.answers.pop(q.key, None)
        found.others.pop(q.key, None)

    def _other(self, row: Row, q: Question, found: Answers) -> None:
        if not q.other_key:
            return
        answer = found.answers.get(q.key)
        chosen = [answer] if isinstance(answer, str) else (answer or [])
        text = found.others.get(q.key, "")
        column = next(c for c in self.columns if c.key == q.other_key)
        if OTHER_VALUE in chosen and not text:
            self.error(row, column, "选择了“其他”，请填写具体内容")
        elif text and OTHER_VALUE not in chosen:
            self.error(row, column, "填写了“其他”的内容，但此题没有选择“其他”")


def cells_of(
    header: Sequence[Column | None], values: Sequence[str]
) -> tuple[dict[str, str], dict[str, int]]:
    """A file row's cells by column key, and each key's 0-based file column."""
    cells: dict[str, str] = {}
    index: dict[str, int] = {}
    for i, column in enumerate(header):
        if column is None:
            continue
        cells[column.key] = values[i] if i < len(values) else ""
        index[column.key] = i
    return cells, index


def same(values: Mapping[str, str], other: Mapping[str, str], key: str) -> bool:
    """Two typed cells agree (compared as :func:`normal` text)."""
    return normal(values.get(key, "")) == normal(other.get(key, ""))
