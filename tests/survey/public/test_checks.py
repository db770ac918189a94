"""The quick check of a submission (no form built) agrees with the WTForms form's check."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from survey.services import resident
from survey.web.public.forms import form_class
from tests.survey.public.conftest import Sample
from tests.survey.public.conftest import valid_answers

VARIANTS: list[dict[str, Any]] = [
    {},
    {"aware_report": []},
    {"aware_report": ["hotline", "hotline", ""]},
    {"residence": ""},
    {"residence": "  "},
    {"volunteer_frequency": None},
    {"volunteered": "no"},  # hides the follow-up questions; their stale answers stay in
    {"volunteered": "no", "volunteer_frequency": None, "volunteer_kind": None},
    {"volunteer_kind__other": ""},
    {"volunteer_kind__other": "  图书馆  "},
    {"volunteer_kind__other": "长" * 101},
    {"volunteer_kind": ["cleaning"], "volunteer_kind__other": "长" * 101},
    {"suggestions": "很" * 200},
    {"suggestions": "很" * 201},
    {"suggestions": "   "},
    {"sat_overall": None},
    {"age_group": ""},
]


def _pairs(answers: dict[str, Any]) -> MultiDict[str, str]:
    data: MultiDict[str, str] = MultiDict()
    for key, value in answers.items():
        for v in value if isinstance(value, list) else [value]:
            data.add(key, v)
    return data


@pytest.mark.parametrize("change", VARIANTS)
def test_check_data_agrees_with_the_form(
    seeded: Flask, sample: Sample, change: dict[str, Any]
) -> None:
    answers = valid_answers(sample.street_code)
    for k, v in change.items():
        if v is None:
            answers.pop(k, None)
        else:
            answers[k] = v
    with seeded.test_request_context():
        point = resident.find_point(sample.code)
        defn = resident.definition(point)
        form_cls = form_class(defn, resident.region_options(point, defn))
        data = _pairs(answers)
        checked = form_cls.check_data(data)
        form = form_cls(formdata=data)
        ok = form.check()
        assert (checked is not None) == ok
        if checked is not None:
            assert checked.answers == form.answers()
            assert checked.others == form.others()
