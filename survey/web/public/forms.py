"""WTForms classes built from a questionnaire definition: one field class per question kind.

A form class is built once per (definition checksum, region options) and cached. Besides the
WTForms fields it offers two checks:

* :func:`screen_submission` rejects what no honest browser sends (unknown or repeated fields,
  option values that were never offered, control characters): the view answers 400.
* :meth:`QuestionnaireForm.check` applies the questionnaire rules a person can break (required
  answers, "其他" text, text length, number range) to the *visible* questions only, and puts a
  Chinese message on each field that needs fixing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields import Field

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms < 3.3 takes (value, label) tuples
    SelectChoice = None  # type: ignore[assignment,misc]
from wtforms.widgets import CheckboxInput
from wtforms.widgets import ListWidget

from questionnaires import OTHER_VALUE
from questionnaires import Definition
from questionnaires import Question
from questionnaires import visible_keys
from questionnaires._model import DEFAULT_TEXT_MAX_LENGTH
from questionnaires._model import OTHER_MAX_LENGTH
from survey.cache import cached
from survey.errors import BadSubmission
from survey.services.region_options import RegionGroups
from survey.services.region_options import RegionOptions

#: The hidden field every submission carries besides the answers: the signed form
#: instance, also the page's CSRF token (``survey.services.form_tokens``).
INSTANCE_FIELD = "_inst"
#: A separate CSRF token that pages served before the form instance became the CSRF
#: token still carry: accepted and ignored, so such a page still submits.
LEGACY_CSRF_FIELD = "csrf_token"
#: The honeypot: a text field no person sees (hidden without CSS or JavaScript, and from
#: screen readers) that form-filling scripts fill in. Not a possible question key.
HONEYPOT_FIELD = "contact-note"


class QuestionField(Field):
    """Base of the question fields: the question, its answer, and the rules people can break.

    The rules are static (:meth:`rules`: question, answer, "其他" text -> messages) so that
    :meth:`QuestionnaireForm.check_data` applies exactly the same rules to a submission
    without building the form; the form is only built to re-render it with its errors.
    """

    question: Question
    number: int
    #: True when the field takes several values (check boxes).
    multiple = False

    def __init__(self, question: Question, number: int, **kwargs: Any) -> None:
        super().__init__(question.text, **kwargs)
        self.question = question
        self.number = number

    def answer(self) -> str | list[str] | None:
        """The submitted answer in the shape ``questionnaires`` expects."""
        return single_answer(self.data)

    def problems(self, form: QuestionnaireForm) -> list[str]:
        """Chinese messages for a visible question (empty when the answer is acceptable)."""
        return self.rules(self.question, self.answer(), _other_text(self.question, form))

    @staticmethod
    def rules(q: Question, answer: str | list[str] | None, other: str) -> list[str]:
        """Messages for ``answer`` (as :meth:`answer` returns it) to the visible question ``q``."""
        if q.required and not answer:
            return ["此题为必答题，请选择一项。"]
        return []


def single_answer(data: Any) -> str | None:
    """A one-value answer as submitted: stripped, None when blank or missing."""
    if isinstance(data, str):
        data = data.strip()
    return data or None


def multiple_answer(values: Iterable[str] | None) -> list[str] | None:
    """Selected values, in submission order, without blanks or repeats; None when none."""
    seen: list[str] = []
    for v in values or ():
        if v and v not in seen:
            seen.append(v)
    return seen or None


class SingleChoiceField(QuestionField, RadioField):
    """``single``: one option (radio buttons), optionally with "其他" and its text."""

    def __init__(self, question: Question, number: int, **kwargs: Any) -> None:
        choices = _choices(question)
        super().__init__(question, number, choices=choices, validate_choice=False, **kwargs)

    @staticmethod
    def rules(q: Question, answer: str | list[str] | None, other: str) -> list[str]:
        """Required answer, then the text of "其他" when it was chosen."""
        found = QuestionField.rules(q, answer, other)
        if not found:
            found = _other_problems(q, answer, other)
        return found


class ScaleField(SingleChoiceField):
    """``scale``: one point of a rating scale (满意 ... 很不满意, 不了解)."""


class MultipleChoiceField(QuestionField, SelectMultipleField):
    """``multiple``: any number of options (check boxes), optionally with "其他"."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
    multiple = True

    def __init__(self, question: Question, number: int, **kwargs: Any) -> None:
        choices = _choices(question)
        super().__init__(question, number, choices=choices, validate_choice=False, **kwargs)

    def answer(self) -> list[str] | None:
        """Selected values, in submission order, without blanks or repeats."""
        return multiple_answer(self.data)

    @staticmethod
    def rules(q: Question, answer: str | list[str] | None, other: str) -> list[str]:
        """At least one option when required, then the "其他" text."""
        if q.required and not answer:
            return ["此题为必答题，请至少选择一项。"]
        return _other_problems(q, answer, other)


class TextAnswerField(QuestionField, TextAreaField):
    """``text``: free text up to ``max_length`` characters."""

    def __init__(self, question: Question, number: int, **kwargs: Any) -> None:
        self.max_length = _max_length(question)
        kwargs.setdefault("render_kw", {"maxlength": self.max_length, "rows": 3})
        super().__init__(question, number, **kwargs)

    @staticmethod
    def rules(q: Question, answer: str | list[str] | None, other: str) -> list[str]:
        """Required text and its length limit."""
        if not answer:
            return ["此题为必答题，请填写。"] if q.required else []
        limit = _max_length(q)
        if len(answer) > limit:
            return [f"最多可填写{limit}个字，您填写了{len(answer)}个字，请精简。"]
        return []


def _max_length(q: Question) -> int:
    return q.max_length or DEFAULT_TEXT_MAX_LENGTH


class NumberAnswerField(QuestionField, StringField):
    """``number``: a number, within ``min`` and ``max`` when they are set."""

    def __init__(self, question: Question, number: int, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "maxlength": 20})
        super().__init__(question, number, **kwargs)

    @staticmethod
    def rules(q: Question, answer: str | list[str] | None, other: str) -> list[str]:
        """Required, numeric, within range."""
        if not answer:
            return ["此题为必答题，请填写一个数字。"] if q.required else []
        assert isinstance(answer, str)
        try:
            value = float(answer)
        except ValueError:
            return ["请填写数字，例如 3 或 2.5。"]
        if not math.isfinite(value) or len(answer) > 20:
            return ["请填写数字，例如 3 或 2.5。"]
        if (q.min is not None and value < q.min) or (q.max is not None and value > q.max):
            return [f"请填写{_fmt(q.min)}到{_fmt(q.max)}之间的数字。"]
        return []


class RegionField(QuestionField, SelectField):
    """``region``: a district or street of the point's city, chosen from a grouped list."""

    def __init__(
        self, question: Question, number: int, groups: RegionGroups, **kwargs: Any
    ) -> None:
        super().__init__(question, number, choices=[], validate_choice=False, **kwargs)
        self.groups = groups


def _choices(question: Question) -> list[Any]:
    """WTForms choices of a question's options (``SelectChoice`` from WTForms 3.3 on)."""
    if SelectChoice is None:  # pragma: no cover - WTForms < 3.3
        return [(o.value, o.label) for o in question.options]
    return [SelectChoice(value=o.value, label=o.label) for o in question.options]


def _other_text(q: Question, form: Form) -> str:
    """The stripped "其他" text of ``q`` in a built form ("" when none)."""
    if not q.allow_other or q.other_key is None:
        return ""
    return (form[q.other_key].data or "").strip()


def _other_problems(q: Question, answer: str | list[str] | None, text: str) -> list[str]:
    if not q.allow_other or q.other_key is None:
        return []
    chosen = [answer] if isinstance(answer, str) else (answer or [])
    if OTHER_VALUE in chosen and not text:
        return ["您选择了“其他”，请填写具体内容。"]
    if len(text) > OTHER_MAX_LENGTH:
        return [f"“其他”最多可填写{OTHER_MAX_LENGTH}个字。"]
    return []


def _fmt(value: float | None) -> str:
    if value is None:
        return "任意"
    return str(int(value)) if float(value).is_integer() else str(value)


#: What :meth:`QuestionnaireForm.check_data` needs of one question: the question, whether it
#: takes several values, and its field class's rules.
CheckRule = tuple[Question, bool, Any]


class Checked(NamedTuple):
    """A submission that passed every rule: its answers and "其他" texts by question key."""

    answers: dict[str, str | list[str]]
    others: dict[str, str]


class QuestionnaireForm(Form):
    """Base of the generated form classes."""

    definition: Definition
    #: Field name -> (allowed values or None for free input, may repeat).
    screen_rules: dict[str, tuple[frozenset[str] | None, bool]]
    #: The rules of every question, in display order (see :meth:`check_data`).
    check_rules: tuple[CheckRule, ...]

    def question_fields(self) -> Iterable[QuestionField]:
        """The question fields, in display order."""
        for q in self.definition.questions:
            field = self[q.key]
            assert isinstance(field, QuestionField)
            yield field

    def answers(self) -> dict[str, str | list[str]]:
        """Answered questions: key -> value or values (hidden questions included)."""
        out: dict[str, str | list[str]] = {}
        for field in self.question_fields():
            value = field.answer()
            if value:
                out[field.question.key] = value
        return out

    def others(self) -> dict[str, str]:
        """Free text of "其他" answers by question key."""
        out: dict[str, str] = {}
        for q in self.definition.questions:
            if q.other_key:
                text = (self[q.other_key].data or "").strip()
                if text:
                    out[q.key] = text
        return out

    def check(self) -> bool:
        """Apply the rules to the visible questions; put Chinese messages on failing fields."""
        visible = visible_keys(self.definition, self.answers())
        ok = True
        for field in self.question_fields():
            field.errors = []
            if field.question.key in visible:
                field.errors = field.problems(self)
                ok = ok and not field.errors
        return ok

    @classmethod
    def check_data(cls, data: MultiDict[str, str]) -> Checked | None:
        """Apply :meth:`check`'s rules to screened form data without building the form.

        Returns the answers and "其他" texts (as :meth:`answers` and :meth:`others` would)
        when every visible question passes, else None: the caller then builds the form and
        calls :meth:`check` to put the messages next to the questions.
        """
        answers: dict[str, str | list[str]] = {}
        texts: dict[str, str] = {}
        for q, multiple, _ in cls.check_rules:
            value = (
                multiple_answer(data.getlist(q.key)) if multiple else single_answer(data.get(q.key))
            )
            if value:
                answers[q.key] = value
            if q.other_key:
                text = (data.get(q.other_key) or "").strip()
                if text:
                    texts[q.key] = text
        visible = visible_keys(cls.definition, answers)
        for q, _, rules in cls.check_rules:
            if q.key in visible and rules(q, answers.get(q.key), texts.get(q.key, "")):
                return None
        return Checked(answers, texts)

    def first_error(self) -> QuestionField | None:
        """The first field with an error, for the summary link at the top."""
        for field in self.question_fields():
            if field.errors:
                return field
        return None


def form_class(defn: Definition, regions: RegionOptions) -> type[QuestionnaireForm]:
    """The WTForms class of ``defn`` with ``regions`` as region options (cached)."""
    return cached("form_classes", (defn.checksum, regions), lambda: _build(defn, regions))


def _build(defn: Definition, regions: RegionOptions) -> type[QuestionnaireForm]:
    rules: dict[str, tuple[frozenset[str] | None, bool]] = {
        LEGACY_CSRF_FIELD: (None, False),
        INSTANCE_FIELD: (None, False),
        HONEYPOT_FIELD: (None, False),
    }
    checks: list[CheckRule] = []
    attrs: dict[str, Any] = {"definition": defn, "screen_rules": rules}
    for number, q in enumerate(defn.questions, start=1):
        if q.type == "single":
            attrs[q.key] = SingleChoiceField(q, number)
        elif q.type == "scale":
            attrs[q.key] = ScaleField(q, number)
        elif q.type == "multiple":
            attrs[q.key] = MultipleChoiceField(q, number)
        elif q.type == "text":
            attrs[q.key] = TextAnswerField(q, number)
        elif q.type == "number":
            attrs[q.key] = NumberAnswerField(q, number)
        elif q.type == "region":
            groups = regions.districts if q.level == "district" else regions.streets
            attrs[q.key] = RegionField(q, number, groups)
        else:  # pragma: no cover - the loader only admits the types above
            raise ValueError(f"unknown question type {q.type!r}")
        rules[q.key] = (_allowed(q, regions), q.type == "multiple")
        field_cls = attrs[q.key].field_class
        checks.append((q, field_cls.multiple, field_cls.rules))
        if q.other_key:
            attrs[q.other_key] = StringField(
                "其他（请注明）", render_kw={"maxlength": OTHER_MAX_LENGTH}
            )
            rules[q.other_key] = (None, False)
    attrs["check_rules"] = tuple(checks)
    return type(f"Form_{defn.key.replace('-', '_')}_v{defn.version}", (QuestionnaireForm,), attrs)


def _allowed(q: Question, regions: RegionOptions) -> frozenset[str] | None:
    """Values a browser can send for ``q`` ("" means no answer); None for free input."""
    if q.type in ("single", "scale", "multiple"):
        return frozenset(o.value for o in q.options)
    if q.type == "region":
        groups = regions.districts if q.level == "district" else regions.streets
        return frozenset(code for _, items in groups for code, _ in items)
    return None


#: Control characters no form field accepts (tab, line feed and carriage return are fine).
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def screen_submission(
    form_cls: type[QuestionnaireForm], pairs: Sequence[tuple[str, str]]
) -> MultiDict[str, str]:
    """Refuse bodies no honest browser sends; return them as a ``MultiDict`` otherwise."""
    rules = form_cls.screen_rules
    seen: set[str] = set()
    for name, value in pairs:
        rule = rules.get(name)
        if rule is None:
            raise BadSubmission("提交的内容包含问卷中没有的项目，请返回后重新填写。")
        allowed, may_repeat = rule
        if name in seen and not may_repeat:
            raise BadSubmission("提交的内容有重复项，请返回后重新填写。")
        seen.add(name)
        if allowed is not None:
            if value != "" and value not in allowed:
                raise BadSubmission("提交的选项不在问卷选项之中，请返回后重新填写。")
        elif _CONTROL_CHARS.search(value):
            raise BadSubmission("提交的内容包含无法识别的字符，请返回后重新填写。")
    return MultiDict(pairs)
