"""The columns of the entry template of a questionnaire version, and reading a header back.

One row per paper questionnaire: the serial number, the collection point (or community),
the date, then one column per question; a multiple-choice question gets one 0/1 column per
option, and a question with "其他" a column for its free text. Every heading ends with its
key in brackets (``[aware_report:hotline]``), which is how an import finds the columns
whatever the clerk did to their order; the serial column's key also names the
questionnaire and version (``[serial:civilized-city:1]``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from questionnaires import Definition
from questionnaires import Option
from questionnaires import Question
from survey.errors import ImportFileError

#: Column kinds: the three fixed columns, then per question.
FIXED = ("serial", "point", "date")
_KEY = re.compile(r"\[([^\[\]]+)\]\s*$")


@dataclass(frozen=True)
class Column:
    """One template column."""

    key: str
    kind: str  # serial | point | date | choice | option | other_text | text | number | region
    heading: str
    number: int = 0  # the question's number (1-based), 0 for the fixed columns
    question: Question | None = None
    option: Option | None = None

    @property
    def title(self) -> str:
        """The short name and the question's text (first 40 characters)."""
        if self.question is None:
            return self.short
        text = self.question.text
        return f"{self.short} {text[:40]}{'…' if len(text) > 40 else ''}"

    @property
    def short(self) -> str:
        """A short name for messages: "Q5 拨打12345市民服务热线", "编号", ..."""
        if self.question is None:
            return {"serial": "编号", "point": "点位", "date": "日期"}[self.kind]
        if self.option is not None:
            return f"Q{self.number}（{self.option.label}）"
        if self.kind == "other_text":
            return f"Q{self.number}（其他，请注明）"
        return f"Q{self.number}"


def serial_key(defn: Definition) -> str:
    """Key of the serial column: names the questionnaire and its version."""
    return f"serial:{defn.key}:{defn.version}"


def layout(defn: Definition) -> tuple[Column, ...]:
    """Every column of ``defn``'s template, in order."""
    cols = [
        Column("serial", "serial", f"问卷编号 [{serial_key(defn)}]"),
        Column("point", "point", "点位或社区 [point]"),
        Column("date", "date", "填写日期 [date]"),
    ]
    for number, q in enumerate(defn.questions, start=1):
        title = f"{number}. {q.text}"
        if q.type == "multiple":
            for o in q.options:
                cols.append(
                    Column(
                        f"{q.key}:{o.value}",
                        "option",
                        f"{title}：{o.label} [{q.key}:{o.value}]",
                        number,
                        q,
                        o,
                    )
                )
        elif q.type in ("single", "scale"):
            cols.append(Column(q.key, "choice", f"{title} [{q.key}]", number, q))
        else:
            cols.append(Column(q.key, q.type, f"{title} [{q.key}]", number, q))
        if q.other_key:
            cols.append(
                Column(
                    q.other_key,
                    "other_text",
                    f"{number}. 其他（请注明） [{q.other_key}]",
                    number,
                    q,
                )
            )
    return tuple(cols)


def heading_key(heading: str) -> str | None:
    """The bracketed key at the end of a heading, or None."""
    found = _KEY.search(heading or "")
    return found.group(1).strip() if found else None


def version_of(header: Sequence[str]) -> tuple[str, int]:
    """(questionnaire key, version) named by the serial column of a header row."""
    for cell in header:
        key = heading_key(cell)
        if key and key.startswith("serial:"):
            parts = key.split(":")
            if len(parts) == 3 and parts[2].isdigit():
                return parts[1], int(parts[2])
    raise ImportFileError(
        "第一行不是录入模板的表头：找不到“问卷编号 [serial:…]”列。"
        "请在管理后台“纸质问卷”页面或用 survey paper template 下载模板，在模板中录入后再导入。"
    )


def match_header(columns: Sequence[Column], header: Sequence[str]) -> list[Column | None]:
    """For each file column, its template column (None: an empty extra column).

    A missing, unknown or repeated column refuses the file: the template of another version
    or a damaged header would otherwise put answers under the wrong question.
    """
    by_key = {c.key: c for c in columns}
    by_key["serial"] = columns[0]
    found: list[Column | None] = []
    problems: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(header):
        key = heading_key(cell)
        if key is not None and key.startswith("serial:"):
            key = "serial"
        if key is None:
            if cell.strip():
                problems.append(f"第 {letter(index)} 列“{cell[:30]}”不是模板中的列")
            found.append(None)
            continue
        column = by_key.get(key)
        if column is None:
            problems.append(f"第 {letter(index)} 列 [{key[:40]}] 不是本版问卷的题目")
        elif key in seen:
            problems.append(f"第 {letter(index)} 列 [{key}] 重复")
        seen.add(key)
        found.append(column)
    missing = [c.short for c in columns if c.key not in seen and c.kind != "serial"]
    if "serial" not in seen:
        missing.insert(0, "编号")
    if missing:
        problems.append("缺少列：" + "、".join(missing[:20]) + ("等" if len(missing) > 20 else ""))
    if problems:
        raise ImportFileError(
            "表头与本版问卷的录入模板不一致（" + "；".join(problems[:10]) + "）。"
            "请重新下载模板，把数据粘贴到模板中对应的列后再导入。"
        )
    return found


def letter(index: int) -> str:
    """Spreadsheet column letter of the 0-based ``index`` (0 -> A, 26 -> AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name
