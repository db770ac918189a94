"""Residents' comments by topic: an editable TOML lexicon and a jieba-based classifier.

The lexicon (``questionnaires/lexicon/topics.toml``) lists topics, each with its words and
the unit usually responsible. A comment is segmented with jieba (the lexicon's words are
added to the segmenter's dictionary, so "乱停乱放" stays one token) and put in every topic
one of whose words is a token of the comment; a word of three or more characters also
matches as a substring, which catches it when jieba cuts it otherwise. A comment in no
topic is "unclassified" (:data:`UNCLASSIFIED`), counted and listed, never dropped.

jieba loads its dictionary lazily (about a second) and logs to stderr while doing so. A
process builds one private tokenizer, quietly, on first use (:func:`tokenizer`); later
calls reuse it.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from questionnaires._errors import DefinitionError
from questionnaires._errors import Problem

__all__ = [
    "UNCLASSIFIED",
    "UNCLASSIFIED_NAME",
    "Lexicon",
    "Topic",
    "bundled_lexicon_path",
    "classify",
    "classify_many",
    "load_lexicon",
    "segment",
    "tokenizer",
    "topic_keys",
    "topic_scores",
]

#: Key of the pseudo-topic of comments that match no topic.
UNCLASSIFIED = "unclassified"
UNCLASSIFIED_NAME = "未分类"
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Topic:
    """One topic of the lexicon."""

    key: str
    name: str
    unit: str
    words: tuple[str, ...]
    item: str | None = None
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """The topics in file order, with a word -> topic keys look-up."""

    topics: tuple[Topic, ...]

    @property
    def by_key(self) -> dict[str, Topic]:
        """Topics by key."""
        return {t.key: t for t in self.topics}

    def name_of(self, key: str) -> str:
        """Chinese name of a topic key (未分类 for the unclassified pseudo-topic)."""
        if key == UNCLASSIFIED:
            return UNCLASSIFIED_NAME
        found = self.by_key.get(key)
        return found.name if found is not None else key

    @property
    def words(self) -> frozenset[str]:
        """Every word of every topic."""
        return frozenset(w for t in self.topics for w in t.words)


def bundled_lexicon_path() -> Path:
    """The lexicon shipped beside the questionnaires."""
    return Path(__file__).resolve().parent / "lexicon" / "topics.toml"


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read and check a lexicon file (default: the bundled one).

    Raises
    ------
    DefinitionError
        Listing every problem (bad TOML, missing fields, repeated keys, empty words).
    """
    source = Path(path) if path is not None else bundled_lexicon_path()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError([Problem(str(source), "", f"cannot read lexicon: {exc}")]) from exc
    problems: list[tuple[str, str]] = [
        (str(k), "unknown top-level key (topics are [[topics]] tables)")
        for k in data
        if k != "topics"
    ]
    raw_topics = data.get("topics") or []
    if not isinstance(raw_topics, list):
        problems.append(("topics", "topics must be [[topics]] tables"))
        raw_topics = []
    topics = [_topic(i, raw, problems) for i, raw in enumerate(raw_topics)]
    if not topics:
        problems.append(("topics", "the lexicon has no topics"))
    keys = [t.key for t in topics if t is not None]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(("topics", f"repeated topic key {key!r}"))
    if problems:
        raise DefinitionError(Problem(str(source), k, m) for k, m in problems)
    return Lexicon(tuple(t for t in topics if t is not None))


def _topic(i: int, raw: Any, problems: list[tuple[str, str]]) -> Topic | None:
    where = f"topics[{i}]"
    if not isinstance(raw, dict):
        problems.append((where, "a topic must be a table"))
        return None
    key, name, unit = (raw.get(f) for f in ("key", "name", "unit"))
    words = raw.get("words")
    before = len(problems)
    if not isinstance(key, str) or not _KEY.match(key) or key == UNCLASSIFIED:
        problems.append((f"{where}.key", "key must match [a-z][a-z0-9_]*"))
    for field, value in (("name", name), ("unit", unit)):
        if not isinstance(value, str) or not value.strip():
            problems.append((f"{where}.{field}", "must be non-empty text"))
    if not isinstance(words, list) or not words:
        problems.append((f"{where}.words", "needs at least one word"))
    elif not all(isinstance(w, str) and w.strip() and " " not in w.strip() for w in words):
        problems.append((f"{where}.words", "every word must be non-empty text without spaces"))
    context = raw.get("context", [])
    if not isinstance(context, list) or not all(
        isinstance(w, str) and w.strip() and " " not in w.strip() for w in context
    ):
        problems.append((f"{where}.context", "context must be a list of words without spaces"))
    item = raw.get("item")
    if item is not None and not isinstance(item, str):
        problems.append((f"{where}.item", "must be a question key"))
    if len(problems) > before:
        return None
    unique = tuple(dict.fromkeys(w.strip() for w in words))
    weak = tuple(dict.fromkeys(w.strip() for w in context if w.strip() not in unique))
    return Topic(str(key), str(name).strip(), str(unit).strip(), unique, item, weak)


@cache
def tokenizer() -> Any:
    """This process's jieba tokenizer, built once and quietly (its start-up log is off)."""
    import jieba  # imported here: only classification pays for it

    jieba.setLogLevel(logging.WARNING)
    with _LOCK:
        made = jieba.Tokenizer()
        made.initialize()
    return made


#: Score of a topic word and of a context word.
WORD_SCORE, CONTEXT_SCORE = 2, 1
#: A second topic is kept beside the best one when it scores at least this much (two
#: topic words): a comment about stalls blocking a market lane names both.
SECOND_TOPIC_SCORE = 4

_Index = dict[str, tuple[tuple[str, int], ...]]


@cache
def _prepared(lexicon: Lexicon) -> tuple[_Index, tuple[tuple[str, str, int], ...]]:
    """Add the lexicon's words to the tokenizer (once per lexicon) and build look-ups:
    token -> (topic, score) pairs, and the words of 3+ characters matched as substrings."""
    tk = tokenizer()
    index: dict[str, dict[str, int]] = {}
    long_words: list[tuple[str, str, int]] = []
    with _LOCK:
        for topic in lexicon.topics:
            scored = [(w, WORD_SCORE) for w in topic.words]
            scored += [(w, CONTEXT_SCORE) for w in topic.context]
            for word, score in scored:
                tk.add_word(word, freq=max(tk.suggest_freq(word), 2000))
                per_topic = index.setdefault(word.lower(), {})
                per_topic[topic.key] = max(per_topic.get(topic.key, 0), score)
                if len(word) >= 3:
                    long_words.append((word.lower(), topic.key, score))
    return {w: tuple(k.items()) for w, k in index.items()}, tuple(long_words)


def segment(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """jieba tokens of ``text`` (with ``lexicon``'s words in the dictionary, if given)."""
    if lexicon is not None:
        _prepared(lexicon)
    return [t for t in tokenizer().lcut(text, HMM=True) if t.strip()]


def topic_scores(text: str, lexicon: Lexicon) -> dict[str, int]:
    """Score of every topic with a match: 2 per distinct topic word, 1 per context word."""
    index, long_words = _prepared(lexicon)
    lowered = text.lower()
    matched: dict[tuple[str, str], int] = {}
    for token in segment(lowered, lexicon):
        for key, score in index.get(token, ()):
            matched[(key, token)] = score
    for word, key, score in long_words:
        if word in lowered:
            matched[(key, word)] = score
    scores: dict[str, int] = {}
    for (key, _word), score in matched.items():
        scores[key] = scores.get(key, 0) + score
    return scores


def classify(text: str, lexicon: Lexicon) -> tuple[str, ...]:
    """Topic keys of a comment, in lexicon order; ``(UNCLASSIFIED,)`` when none matches.

    The best-scoring topic (all of them on a tie), plus any other topic with at least
    :data:`SECOND_TOPIC_SCORE`; a comment matched only by context words keeps its best
    context topic.
    """
    scores = topic_scores(text, lexicon)
    if not scores:
        return (UNCLASSIFIED,)
    best = max(scores.values())
    keep = {k for k, v in scores.items() if v == best or v >= SECOND_TOPIC_SCORE}
    return tuple(t.key for t in lexicon.topics if t.key in keep)


def classify_many(texts: Iterable[str], lexicon: Lexicon) -> list[tuple[str, ...]]:
    """:func:`classify` of each text."""
    return [classify(t, lexicon) for t in texts]


def topic_keys(lexicon: Lexicon) -> Sequence[str]:
    """Every topic key, then the unclassified pseudo-topic."""
    return [*(t.key for t in lexicon.topics), UNCLASSIFIED]
