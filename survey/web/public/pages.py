"""The resident pages as HTML: pre-rendered once where everyone sees the same page.

A blank questionnaire is the same for every resident of a point but for its signed form
instance (``survey.services.form_tokens``), so it is rendered once per point and form
class and split around it; a thank-you page depends on the questionnaire version only. Both
are kept in the ``pages`` cache of ``survey.cache``.
"""

from __future__ import annotations

from flask import render_template
from flask import request
from markupsafe import Markup

from questionnaires import Definition
from survey.cache import cached
from survey.services.resident import PointInfo
from survey.web.public.forms import HONEYPOT_FIELD
from survey.web.public.forms import INSTANCE_FIELD
from survey.web.public.forms import QuestionnaireForm

_INSTANCE_SLOT = "@@survey-instance-slot@@"


def form_page(
    point: PointInfo,
    defn: Definition,
    form: QuestionnaireForm | None,
    instance: str,
    sections_html: Markup | None = None,
) -> str:
    """The questionnaire page of ``point`` with ``form`` (answers and messages) filled in,
    carrying the page's form instance again."""
    return render_template(
        "public/questionnaire.html",
        point=point,
        defn=defn,
        form=form,
        sections_html=sections_html,
        instance=instance,
        instance_field=INSTANCE_FIELD,
        honeypot_field=HONEYPOT_FIELD,
    )


def blank_page(
    point: PointInfo, defn: Definition, form_cls: type[QuestionnaireForm]
) -> tuple[str, str]:
    """The unanswered page of a point, split around its form instance."""

    def render() -> tuple[str, str]:
        html = render_template(
            "public/questionnaire.html",
            point=point,
            defn=defn,
            form=None,
            sections_html=_blank_sections(form_cls),
            instance=_INSTANCE_SLOT,
            instance_field=INSTANCE_FIELD,
            honeypot_field=HONEYPOT_FIELD,
        )
        before, after = html.split(_INSTANCE_SLOT)
        return before, after

    return cached("pages", ("blank", point.code, form_cls, request.script_root), render)


def _blank_sections(form_cls: type[QuestionnaireForm]) -> Markup:
    """The question blocks of an unanswered form: the same for everyone, rendered once."""
    return cached(
        "pages",
        ("sections", form_cls),
        lambda: Markup(
            render_template("public/_sections.html", defn=form_cls.definition, form=form_cls())
        ),
    )


def thanks_page(point: PointInfo, defn: Definition) -> str:
    """The thank-you page: it depends on the questionnaire version only."""
    key = ("thanks", point.version_id, point.checksum, request.script_root)
    return cached(
        "pages", key, lambda: render_template("public/thanks.html", point=point, defn=defn)
    )
