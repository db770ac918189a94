"""Immutable model of a parsed questionnaire definition.

Every object is a frozen dataclass built by :mod:`questionnaires._loader`; nothing here reads
files or validates input. ``Definition.to_dict()`` gives the canonical, JSON-ready form the
checksum is computed from (and that a web app may store next to a questionnaire version).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

#: Question types a definition may use.
QUESTION_TYPES: tuple[str, ...] = ("single", "multiple", "scale", "text", "number", "region")

#: The three 两率一度 metrics: 知晓率, 参与率, 满意度.
METRICS: tuple[str, ...] = ("awareness", "participation", "satisfaction")

#: Demographic roles a question can play for weighting.
DEMOGRAPHICS: tuple[str, ...] = ("age_group", "sex", "residence")

#: Levels a region question can ask for.
REGION_LEVELS: tuple[str, ...] = ("district", "street")

#: Types whose answers are option values declared in the file.
CHOICE_TYPES: tuple[str, ...] = ("single", "multiple", "scale")

#: Option value added by ``allow_other = true``; its free text goes in ``Question.other_key``.
OTHER_VALUE = "other"
#: Label of the option added by ``allow_other = true``.
OTHER_LABEL = "其他"

#: Default ``max_length`` of a text question.
DEFAULT_TEXT_MAX_LENGTH = 200

#: Longest free text of a "其他" option (the QR form and the paper import).
OTHER_MAX_LENGTH = 100


@dataclass(frozen=True)
class Option:
    """One answer option.

    ``value`` is the stable ASCII code stored in the database, ``label`` the Chinese text shown.
    ``score`` (0-100) is set on scale options only. A non-substantive option (``substantive =
    false``, e.g. 不了解/说不清) is a valid answer that satisfies ``required`` but is treated as
    *not answered* by scoring: it counts neither as positive nor as negative.
    """

    value: str
    label: str
    score: float | None = None
    substantive: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-ready form."""
        return {
            "value": self.value,
            "label": self.label,
            "score": self.score,
            "substantive": self.substantive,
        }


@dataclass(frozen=True)
class ShowIf:
    """Skip logic: show the question only when the earlier ``question`` was answered with one of
    ``values`` (for a multiple-choice question: when any selected value is among them) and that
    earlier question is itself visible."""

    question: str
    values: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-ready form."""
        return {"question": self.question, "values": sorted(self.values)}


@dataclass(frozen=True)
class Question:
    """One question; ``key`` is its stable id and HTML form field name."""

    key: str
    type: str
    text: str
    section: str = ""
    help: str | None = None
    required: bool = True
    options: tuple[Option, ...] = ()
    allow_other: bool = False
    show_if: ShowIf | None = None
    metric: str | None = None
    positive: frozenset[str] = frozenset()
    demographic: str | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    level: str | None = None
    scale: str | None = None

    @property
    def option_values(self) -> tuple[str, ...]:
        """Values of the options, in order."""
        return tuple(o.value for o in self.options)

    def option(self, value: str) -> Option | None:
        """The option with this value, or ``None``."""
        for o in self.options:
            if o.value == value:
                return o
        return None

    @property
    def other_key(self) -> str | None:
        """Form field holding the free text of the "其他" option (``allow_other`` only)."""
        return f"{self.key}__other" if self.allow_other else None

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-ready form."""
        return {
            "key": self.key,
            "type": self.type,
            "text": self.text,
            "section": self.section,
            "help": self.help,
            "required": self.required,
            "options": [o.to_dict() for o in self.options],
            "allow_other": self.allow_other,
            "show_if": self.show_if.to_dict() if self.show_if else None,
            "metric": self.metric,
            "positive": sorted(self.positive),
            "demographic": self.demographic,
            "max_length": self.max_length,
            "min": self.min,
            "max": self.max,
            "level": self.level,
            "scale": self.scale,
        }


@dataclass(frozen=True)
class Section:
    """A titled group of questions shown together."""

    key: str
    title: str
    questions: tuple[Question, ...]

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-ready form."""
        return {
            "key": self.key,
            "title": self.title,
            "questions": [q.to_dict() for q in self.questions],
        }


@dataclass(frozen=True)
class Definition:
    """A whole questionnaire version, as loaded from one TOML file.

    ``checksum`` is the SHA-256 hex digest of the canonical JSON of :meth:`to_dict`, so a file
    whose content changed (comments and formatting aside) gets a different checksum.
    ``source`` is where it was loaded from (a path, or ``"<string>"``); it is excluded from
    equality and from the checksum.
    """

    key: str
    version: int
    title: str
    description: str
    thank_you: str
    sections: tuple[Section, ...]
    checksum: str = ""
    source: str = field(default="<string>", compare=False)
    _by_key: Mapping[str, Question] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {q.key: q for s in self.sections for q in s.questions})

    @property
    def questions(self) -> tuple[Question, ...]:
        """All questions, flat, in display order."""
        return tuple(self._by_key.values())

    def question(self, key: str) -> Question:
        """The question with this key; raises ``KeyError`` if there is none."""
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def demographic_keys(self) -> dict[str, str]:
        """Map each declared demographic role (``age_group``, ``sex``, ``residence``) to the key
        of the question that asks it; roles not declared are absent."""
        return {q.demographic: q.key for q in self.questions if q.demographic}

    def metric_questions(self, metric: str) -> tuple[Question, ...]:
        """Questions feeding ``metric`` (one of :data:`METRICS`), in order."""
        return tuple(q for q in self.questions if q.metric == metric)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-ready form of the content (without ``checksum`` and ``source``)."""
        return {
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "thank_you": self.thank_you,
            "sections": [s.to_dict() for s in self.sections],
        }
