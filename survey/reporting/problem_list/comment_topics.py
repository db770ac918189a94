"""Residents' comments by topic: counts per topic, area and week, with masked examples.

The comments are the answers to the questionnaire's free-text questions in the filter's
scope (period, region, channel, flagged responses out unless included). Each is classified
with the lexicon (:func:`questionnaires.classify`, jieba inside; a comment may be in two
topics) and counted per topic x area (street or community) x week; comments in no topic are
counted as 未分类 and listed, never dropped. Every text that leaves this module is masked
(:func:`questionnaires.mask_personal`): phone numbers, ID numbers and names never reach a
page, export or the API.

Classification is memoised per process by text (the same comment text is classified once).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires import UNCLASSIFIED
from questionnaires import Definition
from questionnaires import Lexicon
from questionnaires import classify
from questionnaires import load_lexicon
from questionnaires import mask_personal
from survey.models import Answer
from survey.models import Response
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import included_condition
from survey.reporting.region_index import RegionIndex
from survey.reporting.results import _ToDict
from survey.reporting.statement import base_conditions

#: Examples kept per topic (the newest first) and per topic x area.
EXAMPLES = 5
#: Longest comment text read (questionnaires cap text answers at a few hundred characters).
MAX_TEXT = 1000


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The bundled lexicon, read once per process."""
    return load_lexicon()


@lru_cache(maxsize=50_000)
def topics_of(text: str, lex: Lexicon) -> tuple[str, ...]:
    """Topics of a comment text (memoised)."""
    return classify(text, lex)


@dataclass(frozen=True)
class Comment(_ToDict):
    """One comment, masked, with where and when it was written."""

    response_id: int
    text: str
    area: str
    week: dt.date | None
    topics: tuple[str, ...]


@dataclass(frozen=True)
class TopicSummary(_ToDict):
    """One topic: how many comments, where, which weeks, and examples."""

    key: str
    name: str
    unit: str
    item: str | None
    count: int
    share: float | None
    by_area: dict[str, int]
    by_week: dict[str, int]
    examples: list[Comment]
    top_areas: list[tuple[int, str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class TopicCount(_ToDict):
    """Comments of a topic in one area and week."""

    topic: str
    area_key: int
    area: str
    week: dt.date | None
    count: int


@dataclass(frozen=True)
class TopicReport(_ToDict):
    """Every topic (then 未分类) with counts and masked examples."""

    comments: int
    classified: int
    topics: list[TopicSummary]
    counts: list[TopicCount]
    level: str
    notes: list[str] = field(default_factory=list)

    @property
    def unclassified(self) -> TopicSummary | None:
        """The 未分类 pseudo-topic."""
        return next((t for t in self.topics if t.key == UNCLASSIFIED), None)


def text_questions(defn: Definition) -> list[str]:
    """Keys of the free-text questions."""
    return [q.key for q in defn.questions if q.type == "text"]


def comment_rows(
    bind: Session | Connection, flt: ReportFilter, defn: Definition, regions: RegionIndex
) -> Iterator[Any]:
    """(response id, text, region id, week, submitted at, area key-less) rows, newest first."""
    keys = text_questions(defn)
    if not keys:
        return iter(())
    conditions: list[Any] = base_conditions(flt, regions, with_previous=False)
    if not flt.include_flagged:
        conditions.append(included_condition(Response.flags))
    conditions += [Answer.question_key.in_(keys), Answer.text.is_not(None), Answer.text != ""]
    statement = (
        select(Response.id, Answer.text, Response.region_id, Response.week_start)
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .where(*conditions)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    conn = bind if isinstance(bind, Connection) else bind.connection()
    # Options on the statement, not the connection: Connection.execution_options() changes
    # the session's connection in place, and a later INSERT (the read audit) would then go
    # through a server-side cursor on PostgreSQL.
    return iter(conn.execute(statement, execution_options={"yield_per": 2000}))


def comment_topics(
    bind: Session | Connection,
    flt: ReportFilter,
    defn: Definition,
    *,
    level: str = "street",
    lex: Lexicon | None = None,
) -> TopicReport:
    """Comments by topic, area and week for the filter."""
    lex = lex or lexicon()
    regions = RegionIndex.load(bind)
    tally = _Tally(lex, regions, level)
    for row in comment_rows(bind, flt, defn, regions):
        tally.add(int(row[0]), str(row[1])[:MAX_TEXT], int(row[2]), row[3])
    return tally.report()


class _Tally:
    """Counts and examples accumulated comment by comment."""

    def __init__(self, lex: Lexicon, regions: RegionIndex, level: str) -> None:
        self.lex = lex
        self.regions = regions
        self.level = level
        self.total = 0
        self.classified = 0
        self.cells: Counter[tuple[str, int, dt.date | None]] = Counter()
        self.examples: dict[str, list[Comment]] = {}
        self.areas: dict[int, str] = {}

    def area(self, region_id: int) -> tuple[int, str]:
        key = self.regions.group_of(region_id, self.level)
        if key not in self.areas:
            self.areas[key] = self.regions.group_label(key, self.level)
        return key, self.areas[key]

    def add(self, response_id: int, text: str, region_id: int, week: dt.date | None) -> None:
        topics = topics_of(text, self.lex)
        self.total += 1
        self.classified += topics != (UNCLASSIFIED,)
        key, name = self.area(region_id)
        for topic in topics:
            self.cells[(topic, key, week)] += 1
            kept = self.examples.setdefault(topic, [])
            if len(kept) < EXAMPLES:
                kept.append(Comment(response_id, mask_personal(text), name, week, topics))

    def report(self) -> TopicReport:
        counts = [
            TopicCount(topic, area, self.areas[area], week, n)
            for (topic, area, week), n in sorted(
                self.cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or dt.date.min)
            )
        ]
        summaries = [self._summary(t.key, t.name, t.unit, t.item) for t in self.lex.topics]
        summaries.sort(key=lambda s: -s.count)
        summaries.append(self._summary(UNCLASSIFIED, "未分类", "", None))
        notes = [
            "一条意见可能同时属于两个主题，各主题条数之和可能大于意见总数。",
            "电话号码、身份证号和姓名已自动遮盖（规则见词表说明），遮盖可能有遗漏或过度。",
            "“未分类”的意见不属于词表中的任何主题，请据此补充词表（questionnaires/lexicon/topics.toml）。",
        ]
        return TopicReport(self.total, self.classified, summaries, counts, self.level, notes)

    def _summary(self, key: str, name: str, unit: str, item: str | None) -> TopicSummary:
        by_area: Counter[str] = Counter()
        by_week: Counter[str] = Counter()
        by_key: Counter[int] = Counter()
        for (topic, area, week), n in self.cells.items():
            if topic == key:
                by_area[self.areas[area]] += n
                by_key[area] += n
                by_week[week.isoformat() if week else ""] += n
        top = [(k, self.areas[k], n) for k, n in by_key.most_common() if k > 0][:3]
        count = sum(by_area.values())
        return TopicSummary(
            key=key,
            name=name,
            unit=unit,
            item=item,
            count=count,
            share=count / self.total if self.total else None,
            by_area=dict(by_area.most_common()),
            by_week=dict(sorted(by_week.items())),
            examples=list(self.examples.get(key, [])),
            top_areas=top,
        )
