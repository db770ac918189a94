"""Parse and validate questionnaire definitions written in TOML.

The format is documented in the header of ``questionnaires/civilized_city.toml``. Loading
collects *every* problem it can find and raises one :class:`DefinitionError` listing them all;
a definition is returned only when there are none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from questionnaires._errors import DefinitionError
from questionnaires._errors import Problem
from questionnaires._model import CHOICE_TYPES
from questionnaires._model import DEFAULT_TEXT_MAX_LENGTH
from questionnaires._model import DEMOGRAPHICS
from questionnaires._model import METRICS
from questionnaires._model import OTHER_LABEL
from questionnaires._model import OTHER_VALUE
from questionnaires._model import QUESTION_TYPES
from questionnaires._model import REGION_LEVELS
from questionnaires._model import Definition
from questionnaires._model import Option
from questionnaires._model import Question
from questionnaires._model import Section
from questionnaires._model import ShowIf

#: Question and section keys: HTML form field names.
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: Questionnaire keys: URL-friendly slugs.
SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
#: Option values: short ASCII codes stored in the database ("yes", "18-29", "60+").
VALUE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
MAX_KEY_LENGTH = 64
MAX_TEXT_MAX_LENGTH = 5000
MIN_SCALE_POINTS = 3
MAX_SCALE_POINTS = 5

_TOP_FIELDS = ("key", "version", "title", "description", "thank_you", "scale", "scales", "sections")
_SECTION_FIELDS = ("key", "title", "scale", "questions")
_SCALE_FIELDS = ("options", "positive")
_OPTION_FIELDS = ("value", "label", "score", "substantive")
_SHOW_IF_FIELDS = ("question", "values")
_QUESTION_FIELDS = (
    "key",
    "type",
    "text",
    "help",
    "required",
    "options",
    "allow_other",
    "show_if",
    "metric",
    "positive",
    "demographic",
    "max_length",
    "min",
    "max",
    "level",
    "scale",
)
#: Fields that only make sense for some question types.
_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "options": ("single", "multiple", "scale"),
    "allow_other": ("single", "multiple"),
    "max_length": ("text",),
    "min": ("number",),
    "max": ("number",),
    "level": ("region",),
    "scale": ("scale",),
}
#: Question types each demographic role may use.
_DEMOGRAPHIC_TYPES: dict[str, tuple[str, ...]] = {
    "age_group": ("single",),
    "sex": ("single",),
    "residence": ("region",),
}
#: Question types each metric may use.
_METRIC_TYPES: dict[str, tuple[str, ...]] = {
    "awareness": ("single", "multiple", "scale"),
    "participation": ("single", "multiple", "scale"),
    "satisfaction": ("single", "scale"),
}


@dataclass(frozen=True)
class _Choice:
    """A question's options as parsed: whether they are sound, the positive answers of a
    scale, the named scale they came from."""

    options: tuple[Option, ...]
    ok: bool
    positive: frozenset[str] = frozenset()
    scale_name: str | None = None


@dataclass
class _Scale:
    """A named scale table, validated once."""

    options: tuple[Option, ...]
    positive: frozenset[str]
    ok: bool


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _quote(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _type_name(value: object) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


class _Builder:
    """Turns parsed TOML into a :class:`Definition`, recording problems as it goes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.scales: dict[str, _Scale] = {}
        self.question_keys: list[str] = []
        self.questions: dict[str, Question] = {}
        self.demographic_owner: dict[str, str] = {}

    # -- helpers ----------------------------------------------------------------------------

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, key, message))

    def check_fields(
        self, table: Mapping[str, Any], allowed: tuple[str, ...], key: str, what: str
    ) -> None:
        for name in table:
            if name not in allowed:
                self.add(key, f"unknown field '{name}' in {what} (allowed: {_quote(allowed)})")

    def get_str(
        self, table: Mapping[str, Any], name: str, key: str, *, required: bool, what: str
    ) -> str | None:
        if name not in table:
            if required:
                self.add(key, f"missing required field '{name}' in {what}")
            return None
        value = table[name]
        if not isinstance(value, str):
            self.add(key, f"field '{name}' must be a string, not {_type_name(value)}")
            return None
        value = value.strip()
        if required and not value:
            self.add(key, f"field '{name}' must not be empty")
            return None
        return value

    def get_bool(self, table: Mapping[str, Any], name: str, key: str, default: bool) -> bool:
        if name not in table:
            return default
        value = table[name]
        if not isinstance(value, bool):
            self.add(key, f"field '{name}' must be true or false, not {_type_name(value)}")
            return default
        return value

    def get_str_list(self, table: Mapping[str, Any], name: str, key: str) -> list[str] | None:
        if name not in table:
            return None
        value = table[name]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(key, f"field '{name}' must be an array of strings")
            return None
        return list(value)

    def get_table_list(
        self, table: Mapping[str, Any], name: str, key: str, what: str
    ) -> list[dict[str, Any]] | None:
        value = table[name]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add(key, f"field '{name}' must be an array of tables ({what})")
            return None
        return value

    # -- options and scales -----------------------------------------------------------------

    def parse_options(
        self, raw: list[dict[str, Any]], key: str, *, scored: bool, allow_other: bool = False
    ) -> tuple[Option, ...]:
        options: list[Option] = []
        seen: set[str] = set()
        for i, table in enumerate(raw, start=1):
            what = f"option {i}"
            self.check_fields(table, _OPTION_FIELDS, key, what)
            value = self.get_str(table, "value", key, required=True, what=what)
            label = self.get_str(table, "label", key, required=True, what=what)
            if value is not None:
                if not VALUE_RE.match(value) or len(value) > MAX_KEY_LENGTH:
                    self.add(
                        key,
                        f"invalid option value '{value}': use ASCII letters, digits and "
                        f"'_', '-', '.', '+' (at most {MAX_KEY_LENGTH} characters)",
                    )
                elif value in seen:
                    self.add(key, f"duplicate option value '{value}'")
                seen.add(value)
            substantive = self.get_bool(table, "substantive", key, True)
            score: float | None = None
            if "score" in table:
                raw_score = table["score"]
                if not scored:
                    self.add(key, f"option '{value}': 'score' is only allowed on scale options")
                elif not substantive:
                    self.add(
                        key,
                        f"option '{value}': a non-substantive option must not have a score",
                    )
                elif not _is_number(raw_score) or not math.isfinite(raw_score):
                    self.add(key, f"option '{value}': score must be a number")
                elif not 0 <= raw_score <= 100:
                    self.add(key, f"option '{value}': score {raw_score} is outside 0-100")
                else:
                    score = float(raw_score)
            elif scored and substantive:
                self.add(key, f"option '{value}': missing score (scale options need 0-100)")
            options.append(Option(value or "", label or "", score, substantive))
        if allow_other:
            if OTHER_VALUE in seen:
                self.add(
                    key,
                    f"duplicate option value '{OTHER_VALUE}' "
                    "(allow_other = true already adds it; remove the option)",
                )
            else:
                options.append(Option(OTHER_VALUE, OTHER_LABEL))
        return tuple(options)

    def check_scale_points(self, options: tuple[Option, ...], key: str) -> bool:
        """Check the 3-5 substantive points rule; return whether the scale is usable."""
        points = sum(1 for o in options if o.substantive)
        if not MIN_SCALE_POINTS <= points <= MAX_SCALE_POINTS:
            self.add(
                key,
                f"a scale needs {MIN_SCALE_POINTS} to {MAX_SCALE_POINTS} substantive points, "
                f"found {points}",
            )
            return False
        return True

    def check_positive(self, positive: list[str], options: tuple[Option, ...], key: str) -> bool:
        ok = True
        by_value = {o.value: o for o in options}
        for value in positive:
            opt = by_value.get(value)
            if opt is None:
                self.add(
                    key,
                    f"positive value '{value}' is not among the options ({_quote(list(by_value))})",
                )
                ok = False
            elif not opt.substantive:
                self.add(key, f"positive value '{value}' is a non-substantive option")
                ok = False
        return ok

    def parse_scales(self, raw: object) -> None:
        if not isinstance(raw, dict):
            self.add("", "field 'scales' must be a table of named scales ([scales.NAME])")
            return
        for name, table in raw.items():
            key = f"scales.{name}"
            if not KEY_RE.match(name):
                self.add(key, f"invalid scale name '{name}': use [a-z][a-z0-9_]*")
            if not isinstance(table, dict):
                self.add(key, "a scale must be a table with 'options'")
                self.scales[name] = _Scale((), frozenset(), False)
                continue
            self.check_fields(table, _SCALE_FIELDS, key, "scale")
            n_before = len(self.problems)
            options: tuple[Option, ...] = ()
            if "options" not in table:
                self.add(key, "missing required field 'options' in scale")
            else:
                raw_opts = self.get_table_list(table, "options", key, "options")
                if raw_opts is not None:
                    options = self.parse_options(raw_opts, key, scored=True)
                    self.check_scale_points(options, key)
            positive = self.get_str_list(table, "positive", key)
            ok = len(self.problems) == n_before
            if positive is not None:
                if not positive:
                    self.add(key, "field 'positive' must not be empty")
                elif ok:
                    self.check_positive(positive, options, key)
                pos = frozenset(positive)
            else:
                pos = _top_two(options)
            self.scales[name] = _Scale(options, pos, len(self.problems) == n_before)

    # -- questions --------------------------------------------------------------------------

    def parse_question(
        self, table: dict[str, Any], label: str, section_key: str, default_scale: str | None
    ) -> Question | None:
        key = self.question_key(table, label)
        self.check_fields(table, _QUESTION_FIELDS, key, "question")
        qtype = self.question_type(table, key)
        text = self.get_str(table, "text", key, required=True, what="question")
        help_text = self.get_str(table, "help", key, required=False, what="question") or None
        required = self.get_bool(table, "required", key, True)
        if qtype is not None:
            self.check_type_fields(table, key, qtype)
        allow_other = self.get_bool(table, "allow_other", key, False) and qtype in (
            "single",
            "multiple",
        )
        choice = self.question_options(table, key, qtype, default_scale, allow_other)
        metric, positive = self.question_metric(table, key, qtype, choice)
        demographic = self.question_demographic(table, key, qtype)
        max_length = self.text_max_length(table, key) if qtype == "text" else None
        low, high = self.number_bounds(table, key) if qtype == "number" else (None, None)
        level = self.region_level(table, key) if qtype == "region" else None
        show_if = self.parse_show_if(table, key)
        if qtype is None or text is None:
            return None
        return Question(
            key=key,
            type=qtype,
            text=text,
            section=section_key,
            help=help_text,
            required=required,
            options=choice.options,
            allow_other=allow_other,
            show_if=show_if,
            metric=metric,
            positive=positive if metric is not None else frozenset(),
            demographic=demographic,
            max_length=max_length,
            min=low,
            max=high,
            level=level,
            scale=choice.scale_name,
        )

    def question_key(self, table: dict[str, Any], label: str) -> str:
        """The question's key (``label`` when missing), checked for form and uniqueness."""
        key = table.get("key") if isinstance(table.get("key"), str) else None
        if key is None:
            self.add(label, "missing required field 'key' in question")
            return label
        if not KEY_RE.match(key) or len(key) > MAX_KEY_LENGTH:
            self.add(
                key,
                f"invalid question key '{key}': use a lowercase letter then lowercase letters, "
                f"digits or '_' (at most {MAX_KEY_LENGTH} characters)",
            )
        elif key in self.questions or key in self.question_keys:
            self.add(key, f"duplicate question key '{key}'")
        return key  # type: ignore[no-any-return]

    def question_type(self, table: dict[str, Any], key: str) -> str | None:
        qtype = self.get_str(table, "type", key, required=True, what="question")
        if qtype is not None and qtype not in QUESTION_TYPES:
            self.add(
                key, f"unknown question type '{qtype}' (expected one of {_quote(QUESTION_TYPES)})"
            )
            return None
        return qtype

    def check_type_fields(self, table: dict[str, Any], key: str, qtype: str) -> None:
        """Fields that do not apply to the question's type."""
        for name, types in _TYPE_FIELDS.items():
            if name in table and qtype not in types:
                self.add(
                    key,
                    f"field '{name}' does not apply to a '{qtype}' question (only {_quote(types)})",
                )
        if qtype == "region" and "options" in table:
            self.add(key, "a region question takes its options from the database; remove 'options'")

    def question_options(
        self,
        table: dict[str, Any],
        key: str,
        qtype: str | None,
        default_scale: str | None,
        allow_other: bool,
    ) -> _Choice:
        """The options of a single, multiple or scale question (none for other types)."""
        if qtype in ("single", "multiple"):
            if "options" not in table:
                self.add(key, f"missing required field 'options' in a '{qtype}' question")
                return _Choice((), False)
            raw = self.get_table_list(table, "options", key, "options")
            n_before = len(self.problems)
            options: tuple[Option, ...] = ()
            if raw is not None:
                options = self.parse_options(raw, key, scored=False, allow_other=allow_other)
                if len(options) < 2:
                    self.add(key, f"a '{qtype}' question needs at least 2 options")
            return _Choice(options, raw is not None and len(self.problems) == n_before)
        if qtype == "scale":
            return self.scale_options(table, key, default_scale)
        return _Choice((), True)

    def scale_options(self, table: dict[str, Any], key: str, default_scale: str | None) -> _Choice:
        """A scale question's inline options, or those of its named scale."""
        own_ref = table.get("scale")
        if own_ref is not None and not isinstance(own_ref, str):
            self.add(key, "field 'scale' must be the name of a [scales.NAME] table")
            own_ref = None
        if "options" in table:
            if own_ref is not None:
                self.add(key, "give either 'scale' or inline 'options', not both")
            raw = self.get_table_list(table, "options", key, "options")
            n_before = len(self.problems)
            options: tuple[Option, ...] = ()
            if raw is not None:
                options = self.parse_options(raw, key, scored=True)
                self.check_scale_points(options, key)
            ok = raw is not None and len(self.problems) == n_before
            return _Choice(options, ok, positive=_top_two(options))
        ref = own_ref if own_ref is not None else default_scale
        if ref is None:
            self.add(
                key,
                "a scale question needs 'scale = \"NAME\"' (or a section/questionnaire "
                "default 'scale') or inline 'options'",
            )
            return _Choice((), False)
        if ref not in self.scales:
            known = _quote(list(self.scales)) or "none declared"
            self.add(key, f"unknown scale '{ref}' (declared scales: {known})")
            return _Choice((), False)
        scale = self.scales[ref]
        return _Choice(scale.options, scale.ok, positive=scale.positive, scale_name=ref)

    def question_metric(
        self, table: dict[str, Any], key: str, qtype: str | None, choice: _Choice
    ) -> tuple[str | None, frozenset[str]]:
        """The metric a question scores and its positive answers."""
        metric = self.get_str(table, "metric", key, required=False, what="question") or None
        if metric is not None and metric not in METRICS:
            self.add(key, f"unknown metric '{metric}' (expected one of {_quote(METRICS)})")
            metric = None
        elif metric is not None and qtype is not None and qtype not in _METRIC_TYPES[metric]:
            self.add(
                key,
                f"metric '{metric}' cannot be scored on a '{qtype}' question "
                f"(allowed types: {_quote(_METRIC_TYPES[metric])})",
            )
            metric = None
        positive_list = self.get_str_list(table, "positive", key)
        if positive_list is not None:
            if "metric" not in table:
                self.add(key, "field 'positive' is set but the question has no 'metric'")
            elif not positive_list:
                self.add(key, f"metric item '{key}' has no positive answers ('positive' is empty)")
            elif choice.ok and qtype in CHOICE_TYPES:
                self.check_positive(positive_list, choice.options, key)
            return metric, frozenset(positive_list)
        if metric is not None and qtype == "scale":
            return metric, choice.positive
        if metric is not None:
            self.add(key, f"metric item '{key}' has no positive answers (add positive = [...])")
        return metric, frozenset()

    def question_demographic(
        self, table: dict[str, Any], key: str, qtype: str | None
    ) -> str | None:
        """The demographic role (age group, sex, ...) a question plays, declared once."""
        demographic = (
            self.get_str(table, "demographic", key, required=False, what="question") or None
        )
        if demographic is None:
            return None
        if demographic not in DEMOGRAPHICS:
            self.add(
                key,
                f"unknown demographic '{demographic}' (expected one of {_quote(DEMOGRAPHICS)})",
            )
            return None
        if demographic in self.demographic_owner:
            self.add(
                key,
                f"demographic '{demographic}' is declared twice (already on "
                f"'{self.demographic_owner[demographic]}')",
            )
        else:
            self.demographic_owner[demographic] = key
        allowed = _DEMOGRAPHIC_TYPES[demographic]
        if qtype is not None and qtype not in allowed:
            self.add(
                key,
                f"demographic '{demographic}' must be a {_quote(allowed)} question, not '{qtype}'",
            )
        return demographic

    def text_max_length(self, table: dict[str, Any], key: str) -> int | None:
        raw_len = table.get("max_length", DEFAULT_TEXT_MAX_LENGTH)
        if (
            not isinstance(raw_len, int)
            or isinstance(raw_len, bool)
            or not 1 <= raw_len <= MAX_TEXT_MAX_LENGTH
        ):
            self.add(key, f"max_length must be an integer from 1 to {MAX_TEXT_MAX_LENGTH}")
            return None
        return raw_len

    def number_bounds(self, table: dict[str, Any], key: str) -> tuple[float | None, float | None]:
        for name in ("min", "max"):
            if name in table and (not _is_number(table[name]) or not math.isfinite(table[name])):
                self.add(key, f"field '{name}' must be a number")
        raw_low, raw_high = table.get("min"), table.get("max")
        low = float(raw_low) if _is_number(raw_low) else None
        high = float(raw_high) if _is_number(raw_high) else None
        if low is not None and high is not None and low > high:
            self.add(key, f"min ({raw_low}) is greater than max ({raw_high})")
        return low, high

    def region_level(self, table: dict[str, Any], key: str) -> str | None:
        level = self.get_str(table, "level", key, required=True, what="region question")
        if level is not None and level not in REGION_LEVELS:
            self.add(
                key, f"invalid region level '{level}' (expected one of {_quote(REGION_LEVELS)})"
            )
            return None
        return level

    def parse_show_if(self, table: dict[str, Any], key: str) -> ShowIf | None:
        """Parse ``show_if``; the referenced question is checked later (see check_show_if)."""
        if "show_if" not in table:
            return None
        raw = table["show_if"]
        if not isinstance(raw, dict):
            self.add(key, 'show_if must be a table: { question = "KEY", values = [...] }')
            return None
        self.check_fields(raw, _SHOW_IF_FIELDS, key, "show_if")
        ref = self.get_str(raw, "question", key, required=True, what="show_if")
        if "values" not in raw:
            self.add(key, "missing required field 'values' in show_if")
            return None
        values = self.get_str_list(raw, "values", key)
        if values is not None and not values:
            self.add(key, "show_if 'values' must not be empty")
            return None
        if ref is None or values is None:
            return None
        return ShowIf(ref, frozenset(values))

    def check_show_if(self, q: Question, position: dict[str, int]) -> None:
        """Check that ``q.show_if`` refers to an earlier choice question and its values."""
        cond = q.show_if
        if cond is None:
            return
        ref = cond.question
        if ref == q.key:
            self.add(q.key, "show_if refers to the question itself")
            return
        if ref not in position:
            self.add(q.key, f"show_if refers to unknown question '{ref}'")
            return
        if position[ref] > position[q.key]:
            self.add(q.key, f"show_if refers to later question '{ref}' (it must come earlier)")
            return
        target = self.questions.get(ref)
        if target is None:  # the target itself is broken and already reported
            return
        if target.type not in CHOICE_TYPES:
            self.add(
                q.key,
                f"show_if refers to '{ref}', a '{target.type}' question without fixed options",
            )
            return
        offered = target.option_values
        for value in sorted(cond.values):
            if value not in offered:
                self.add(
                    q.key,
                    f"show_if value '{value}' is not an option of '{ref}' ({_quote(offered)})",
                )

    # -- whole file -------------------------------------------------------------------------

    def build(self, data: dict[str, Any], source: str) -> Definition:
        self.check_fields(data, _TOP_FIELDS, "", "questionnaire")
        slug, version = self.questionnaire_key(data), self.questionnaire_version(data)
        title = self.get_str(data, "title", "", required=True, what="questionnaire")
        description = (
            self.get_str(data, "description", "", required=False, what="questionnaire") or ""
        )
        thank_you = (
            self.get_str(data, "thank_you", "", required=False, what="questionnaire")
            or "感谢您的参与！"
        )
        if "scales" in data:
            self.parse_scales(data["scales"])
        top_scale = self.scale_ref(data, "")
        raw_sections: list[dict[str, Any]] | None = None
        if "sections" not in data:
            self.add("", "missing required field 'sections' (add at least one [[sections]])")
        else:
            raw_sections = self.get_table_list(data, "sections", "", "[[sections]]")
        if raw_sections is not None and not raw_sections:
            self.add("", "the questionnaire has no sections")
        position = _key_positions(raw_sections or [])
        section_keys: set[str] = set()
        sections = [
            self.parse_section(s, i, section_keys, top_scale)
            for i, s in enumerate(raw_sections or [], start=1)
        ]
        for qs in sections:
            for q in qs.questions:
                self.check_show_if(q, position)
        self.check_other_keys()
        if self.problems:
            raise DefinitionError(self.problems)
        assert slug is not None and title is not None and isinstance(version, int)
        defn = Definition(
            key=slug,
            version=version,
            title=title,
            description=description,
            thank_you=thank_you,
            sections=tuple(sections),
            source=source,
        )
        return dataclasses.replace(defn, checksum=checksum_of(defn))

    def questionnaire_key(self, data: dict[str, Any]) -> str | None:
        slug = self.get_str(data, "key", "", required=True, what="questionnaire")
        if slug is not None and (not SLUG_RE.match(slug) or len(slug) > MAX_KEY_LENGTH):
            self.add(
                "",
                f"invalid questionnaire key '{slug}': use a slug such as "
                "'civilized-city' (lowercase letters, digits, single hyphens)",
            )
        return slug

    def questionnaire_version(self, data: dict[str, Any]) -> Any:
        version = data.get("version")
        if "version" not in data:
            self.add("", "missing required field 'version' in questionnaire")
        elif not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.add("", f"version must be a positive integer, not {version!r}")
        return version

    def parse_section(
        self, s: dict[str, Any], i: int, section_keys: set[str], top_scale: str | None
    ) -> Section:
        """One ``[[sections]]`` table with its questions."""
        skey = s.get("key") if isinstance(s.get("key"), str) else None
        if skey is None:
            skey = f"sections[{i}]"
            self.add(skey, "missing required field 'key' in section")
        elif not KEY_RE.match(skey) or len(skey) > MAX_KEY_LENGTH:
            self.add(skey, f"invalid section key '{skey}': use [a-z][a-z0-9_]*")
        elif skey in section_keys:
            self.add(skey, f"duplicate section key '{skey}'")
        section_keys.add(skey)
        self.check_fields(s, _SECTION_FIELDS, skey, "section")
        stitle = self.get_str(s, "title", skey, required=True, what="section")
        sscale = self.scale_ref(s, skey) or top_scale
        questions: list[Question] = []
        raw_qs: list[dict[str, Any]] | None = []
        if "questions" in s:
            raw_qs = self.get_table_list(s, "questions", skey, "[[sections.questions]]")
        if raw_qs is not None and not raw_qs:
            self.add(skey, f"section '{skey}' has no questions")
        for j, qt in enumerate(raw_qs or [], start=1):
            q = self.parse_question(qt, f"{skey}.questions[{j}]", skey, sscale)
            qkey = qt.get("key")
            if isinstance(qkey, str):
                self.question_keys.append(qkey)
            if q is not None:
                if q.key not in self.questions:
                    self.questions[q.key] = q
                questions.append(q)
        return Section(skey, stitle or "", tuple(questions))

    def scale_ref(self, table: Mapping[str, Any], key: str) -> str | None:
        """A section- or questionnaire-level default ``scale = "NAME"``."""
        if "scale" not in table:
            return None
        ref = table["scale"]
        if not isinstance(ref, str):
            self.add(key, "field 'scale' must be the name of a [scales.NAME] table")
            return None
        if ref not in self.scales:
            known = _quote(list(self.scales)) or "none declared"
            self.add(key, f"unknown scale '{ref}' (declared scales: {known})")
            return None
        return ref

    def check_other_keys(self) -> None:
        """The free-text field of "其他" must not collide with a question key."""
        for q in self.questions.values():
            if q.other_key and q.other_key in self.questions:
                self.add(
                    q.other_key, f"question key collides with the 'other' text field of '{q.key}'"
                )


def _key_positions(raw_sections: list[dict[str, Any]]) -> dict[str, int]:
    """Every question key's position (a first pass, so show_if can tell "later" from
    "unknown")."""
    position: dict[str, int] = {}
    for s in raw_sections:
        qs = s.get("questions")
        for q in qs if isinstance(qs, list) else []:
            if isinstance(q, dict) and isinstance(q.get("key"), str):
                position.setdefault(q["key"], len(position))
    return position


def _top_two(options: tuple[Option, ...]) -> frozenset[str]:
    """Default positive set of a scale: its two highest-scoring substantive options."""
    scored = [o for o in options if o.substantive and o.score is not None]
    scored.sort(key=lambda o: o.score or 0.0, reverse=True)
    return frozenset(o.value for o in scored[:2])


def checksum_of(defn: Definition) -> str:
    """SHA-256 hex digest of the canonical JSON of ``defn.to_dict()``."""
    canonical = json.dumps(
        defn.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_text(text: str, source: str = "<string>") -> Definition:
    """Parse and validate a definition from TOML text.

    ``source`` names the text in problems (e.g. the file path). Raises
    :class:`DefinitionError` listing every problem found.
    """
    source = str(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError([Problem(source, "", f"TOML syntax error: {exc}")]) from None
    return _Builder(source).build(data, source)


def load_file(path: str | Path) -> Definition:
    """Load and validate the definition in the TOML file at ``path``.

    Raises :class:`DefinitionError` (never ``OSError``) when the file cannot be read, is not
    UTF-8, or has problems; the error lists every problem found.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DefinitionError([Problem(str(p), "", f"cannot read file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"file is not valid UTF-8 (byte {exc.start})"
        raise DefinitionError([Problem(str(p), "", msg)]) from None
    return load_text(text, str(p))


def bundled_paths() -> list[Path]:
    """The questionnaire files shipped in this package, sorted by name."""
    return sorted(Path(__file__).resolve().parent.glob("*.toml"))
