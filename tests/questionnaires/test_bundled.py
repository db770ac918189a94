"""The questionnaire shipped with the package."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from questionnaires import METRICS
from questionnaires import Definition
from questionnaires import bundled_paths
from questionnaires import load_file
from questionnaires import score_answers
from questionnaires import visible_keys

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def defn() -> Definition:
    paths = [p for p in bundled_paths() if p.name == "civilized_city.toml"]
    assert len(paths) == 1
    return load_file(paths[0])


def test_every_bundled_file_loads() -> None:
    assert bundled_paths()
    for path in bundled_paths():
        assert path.suffix == ".toml" and path.is_file()
        load_file(path)  # raises DefinitionError on any problem


def test_identity(defn: Definition) -> None:
    assert defn.key == "civilized-city"
    assert defn.version >= 1
    assert "文明城市" in defn.title
    assert defn.thank_you and len(defn.thank_you) <= 80


def test_length_fits_three_minutes(defn: Definition) -> None:
    assert 20 <= len(defn.questions) <= 30
    assert len({s.key for s in defn.sections}) == len(defn.sections) >= 3


def test_all_metrics_present(defn: Definition) -> None:
    for metric in METRICS:
        assert len(defn.metric_questions(metric)) >= 3, metric
        for q in defn.metric_questions(metric):
            assert q.positive and q.positive <= set(q.option_values)


def test_satisfaction_uses_declared_scales(defn: Definition) -> None:
    scale_items = [q for q in defn.metric_questions("satisfaction") if q.type == "scale"]
    assert len(scale_items) >= 7
    assert all(q.scale is not None for q in scale_items)
    sat = defn.question("sat_overall")
    assert [o.label for o in sat.options if o.substantive] == [
        "满意",
        "比较满意",
        "有待加强",
        "很不满意",
    ]
    assert sat.positive == {"satisfied", "fairly_satisfied"}


def test_demographics(defn: Definition) -> None:
    keys = defn.demographic_keys()
    assert set(keys) == {"age_group", "sex", "residence"}
    age = defn.question(keys["age_group"])
    assert age.option_values == ("18-29", "30-39", "40-49", "50-59", "60+")
    assert defn.question(keys["sex"]).option_values == ("male", "female")
    residence = defn.question(keys["residence"])
    assert (residence.type, residence.level, residence.options) == ("region", "street", ())


def test_options_are_ascii_and_labels_chinese(defn: Definition) -> None:
    for q in defn.questions:
        assert re.search(r"[\u4e00-\u9fff]", q.text), q.key
        for o in q.options:
            assert o.value.isascii(), (q.key, o.value)
            assert re.search(r"[\u4e00-\u9fff]", o.label), (q.key, o.label)


def test_skip_logic_for_volunteers(defn: Definition) -> None:
    assert any(q.show_if for q in defn.questions)
    assert "volunteer_frequency" not in visible_keys(defn, {"volunteered": "no"})
    assert "volunteer_frequency" in visible_keys(defn, {"volunteered": "yes"})


def test_best_and_worst_respondent(defn: Definition) -> None:
    best: dict[str, str | list[str]] = {}
    worst: dict[str, str | list[str]] = {}
    for q in defn.questions:
        if q.metric is None:
            continue
        positives = sorted(q.positive)
        negatives = [o.value for o in q.options if o.substantive and o.value not in q.positive]
        best[q.key] = positives if q.type == "multiple" else positives[0]
        worst[q.key] = negatives[:1] if q.type == "multiple" else negatives[-1]
    top = score_answers(defn, best)
    assert (top.awareness, top.participation, top.satisfaction) == (1.0, 1.0, 1.0)
    bottom = score_answers(defn, worst)
    assert (bottom.awareness, bottom.participation, bottom.satisfaction) == (0.0, 0.0, 0.0)
    assert bottom.satisfaction_score == 0.0


def test_header_documents_the_format_and_rule() -> None:
    text = (ROOT / "questionnaires" / "civilized_city.toml").read_text(encoding="utf-8")
    header = text.split("\nkey =", 1)[0]
    for word in ("show_if", "metric", "positive", "demographic", "substantive", "VISIBLE"):
        assert word in header


def test_toml_is_package_data() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    assert "*.toml" in cfg["options.package_data"]["questionnaires"]
