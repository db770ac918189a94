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
from questionnaires._masking import mask_personal
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
from questionnaires._topics import UNCLASSIFIED
from questionnaires._topics import UNCLASSIFIED_NAME
from questionnaires._topics import Lexicon
from questionnaires._topics import Topic
from questionnaires._topics import bundled_lexicon_path
from questionnaires._topics import classify
from questionnaires._topics import load_lexicon
from questionnaires._topics import topic_keys

__all__ = [
    "DEMOGRAPHICS",
    "METRICS",
    "OTHER_VALUE",
    "QUESTION_TYPES",
    "REGION_LEVELS",
    "UNCLASSIFIED",
    "UNCLASSIFIED_NAME",
    "Definition",
    "DefinitionError",
    "Lexicon",
    "Option",
    "Problem",
    "Question",
    "Scores",
    "Section",
    "ShowIf",
    "Topic",
    "bundled_lexicon_path",
    "bundled_paths",
    "classify",
    "load_file",
    "load_lexicon",
    "load_text",
    "mask_personal",
    "score_answers",
    "topic_keys",
    "visible_keys",
]
