"""The resident form's screening and rules, applied to an interview from a device."""

from __future__ import annotations

from flask_login import current_user

from questionnaires import Definition
from survey.errors import InvalidInput
from survey.services import field_sync
from survey.services.field_sync import FieldRecord
from survey.services.field_sync import UnitContext
from survey.web.public.forms import QuestionnaireForm
from survey.web.public.forms import form_class
from survey.web.public.forms import screen_submission


def plan_form(unit_id: int) -> tuple[Definition, type[QuestionnaireForm]]:
    """The questionnaire definition and form class of a plan, through one of the signed-in
    interviewer's units in it."""
    context = field_sync.contexts(current_user, [unit_id])[unit_id]
    return context.definition, form_class(context.definition, context.regions)


def check_answers(record: FieldRecord, unit: UnitContext) -> None:
    """Screen the record's answers and apply the questionnaire's rules (a complete
    interview: every rule; a partial one: screening only). Fills ``record.answers`` and
    ``record.others``; ``InvalidInput`` names the record otherwise."""
    form_cls = form_class(unit.definition, unit.regions)
    try:
        data = screen_submission(form_cls, record.pairs)
    except InvalidInput as exc:
        raise InvalidInput(f"记录 {record.uuid}：{exc}") from None
    if record.disposition == "partial":
        form = form_cls(formdata=data)
        record.answers, record.others = form.answers(), form.others()
        return
    checked = form_cls.check_data(data)
    if checked is None:
        form = form_cls(formdata=data)
        form.check()
        bad = form.first_error()
        where = f"第{bad.number}题：{bad.errors[0]}" if bad and bad.errors else "答案不完整"
        raise InvalidInput(f"记录 {record.uuid}：{where}")
    record.answers, record.others = checked.answers, checked.others
