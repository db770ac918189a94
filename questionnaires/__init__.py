"""Questionnaire definitions for the 两率一度 survey engine: model, loader, skip logic, scoring.

Pure Python (stdlib ``tomllib`` + dataclasses): no Flask, no database. One TOML file per
questionnaire version; the format is documented in the header of the bundled
``civilized_city.toml``.

>>> from questionnaires import bundled_paths, load_file, score_answers
>>> defn = load_file(bundled_paths()[0])
>>> score_answers(defn, {}).awareness is None
True
"""

from __future__ import annotations

from questionnaires._errors import DefinitionError
from questionnaires._errors import Problem
from questionnaires._loader import bundled_paths
from questionnaires._loader import load_file
from questionnaires._loader import load_text
from questionnaires._model import DEMOGRAPHICS
from questionnaires._model import METRICS
from questionnaires._model import OTHER_VALUE
from questionnaires._model import QUESTION_TYPES
from questionnaires._model import REGION_LEVELS
from questionnaires._model import Definition
from questionnaires._model import Option
from questionnaires._model import Question
from questionnaires._model import Section
from questionnaires._model import ShowIf
from questionnaires._scoring import Scores
from questionnaires._scoring import score_answers
from questionnaires._skip import visible_keys

__all__ = [
    "DEMOGRAPHICS",
    "METRICS",
    "OTHER_VALUE",
    "QUESTION_TYPES",
    "REGION_LEVELS",
    "Definition",
    "DefinitionError",
    "Option",
    "Problem",
    "Question",
    "Scores",
    "Section",
    "ShowIf",
    "bundled_paths",
    "load_file",
    "load_text",
    "score_answers",
    "visible_keys",
]
