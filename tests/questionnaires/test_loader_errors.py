"""Each validation rule of the loader, fed a broken definition.

Every test asserts the problem is reported on the right key (question, section, ``scales.NAME``
or ``""`` for the file) with a precise message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from questionnaires import DefinitionError
from questionnaires import load_file
from questionnaires import load_text
from tests.questionnaires.helpers import HEAD
from tests.questionnaires.helpers import YESNO
from tests.questionnaires.helpers import assert_problem
from tests.questionnaires.helpers import doc
from tests.questionnaires.helpers import problems
from tests.questionnaires.helpers import question

BROKEN = Path(__file__).parent / "broken"

SINGLE = question(f'key = "q1"\ntype = "single"\ntext = "问题一"\n{YESNO}')


def test_minimal_definition_is_valid() -> None:
    assert problems(doc(SINGLE)) == []


# -- file level -------------------------------------------------------------------------------


def test_toml_syntax_error_names_line() -> None:
    text = 'key = "x"\nversion = 1\ntitle = "unterminated\n'
    assert_problem(text, "", "TOML syntax error")
    assert_problem(text, "", "line 3")


@pytest.mark.parametrize("field", ["key", "version", "title"])
def test_missing_top_level_field(field: str) -> None:
    head = "\n".join(line for line in HEAD.splitlines() if not line.startswith(f"{field} ="))
    assert_problem(doc(SINGLE, head=head), "", f"missing required field '{field}'")


def test_missing_sections() -> None:
    assert_problem(HEAD, "", "missing required field 'sections'")


def test_empty_sections_array() -> None:
    head = HEAD.replace("thank_you", "sections = []\nthank_you")
    assert_problem(head, "", "no sections")


@pytest.mark.parametrize("version", ["0", "-2", '"1"', "true", "1.5"])
def test_version_not_positive_int(version: str) -> None:
    head = HEAD.replace("version = 1", f"version = {version}")
    assert_problem(doc(SINGLE, head=head), "", "version must be a positive integer")


@pytest.mark.parametrize("slug", ["Civilized", "civilized_city", "-x", "a--b"])
def test_invalid_questionnaire_key(slug: str) -> None:
    head = HEAD.replace('key = "test-q"', f'key = "{slug}"')
    assert_problem(doc(SINGLE, head=head), "", f"invalid questionnaire key '{slug}'")


def test_unknown_top_level_field() -> None:
    head = HEAD.replace("thank_you", 'titel = "x"\nthank_you')
    assert_problem(doc(SINGLE, head=head), "", "unknown field 'titel'")


# -- sections ---------------------------------------------------------------------------------


def test_empty_section() -> None:
    text = doc(SINGLE) + '\n[[sections]]\nkey = "s2"\ntitle = "空"\n'
    assert_problem(text, "s2", "section 's2' has no questions")


def test_section_missing_title() -> None:
    assert_problem(doc(SINGLE, section='key = "s1"'), "s1", "missing required field 'title'")


def test_section_missing_key() -> None:
    assert_problem(
        doc(SINGLE, section='title = "X"'), "sections[1]", "missing required field 'key'"
    )


def test_duplicate_section_key() -> None:
    other = question(f'key = "q2"\ntype = "single"\ntext = "二"\n{YESNO}')
    text = doc(SINGLE) + f'\n[[sections]]\nkey = "s1"\ntitle = "again"\n{other}'
    assert_problem(text, "s1", "duplicate section key 's1'")


def test_invalid_section_key() -> None:
    assert_problem(
        doc(SINGLE, section='key = "Part 1"\ntitle = "X"'), "Part 1", "invalid section key"
    )


def test_unknown_section_scale() -> None:
    section = 'key = "s1"\ntitle = "X"\nscale = "sat9"'
    assert_problem(doc(SINGLE, section=section), "s1", "unknown scale 'sat9'")


# -- question keys, types, required fields ----------------------------------------------------


def test_duplicate_question_key_across_sections() -> None:
    text = doc(SINGLE) + f'\n[[sections]]\nkey = "s2"\ntitle = "二"\n{SINGLE}'
    assert_problem(text, "q1", "duplicate question key 'q1'")


@pytest.mark.parametrize("key", ["Q1", "1q", "q-1", "问题", "q 1", "_q"])
def test_invalid_question_key(key: str) -> None:
    q = question(f'key = "{key}"\ntype = "single"\ntext = "?"\n{YESNO}')
    assert_problem(doc(q), key, f"invalid question key '{key}'")


def test_question_missing_key() -> None:
    q = question(f'type = "single"\ntext = "?"\n{YESNO}')
    assert_problem(doc(q), "s1.questions[1]", "missing required field 'key'")


@pytest.mark.parametrize("field", ["type", "text"])
def test_question_missing_field(field: str) -> None:
    body = f'key = "q1"\ntype = "single"\ntext = "问题"\n{YESNO}'
    body = "\n".join(line for line in body.splitlines() if not line.startswith(f"{field} ="))
    assert_problem(doc(question(body)), "q1", f"missing required field '{field}'")


def test_unknown_question_type() -> None:
    q = question(f'key = "q1"\ntype = "dropdown"\ntext = "?"\n{YESNO}')
    assert_problem(doc(q), "q1", "unknown question type 'dropdown'")


def test_unknown_question_field() -> None:
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\nrequried = false\n{YESNO}')
    assert_problem(doc(q), "q1", "unknown field 'requried'")


def test_wrong_field_type() -> None:
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\nrequired = "yes"\n{YESNO}')
    assert_problem(doc(q), "q1", "field 'required' must be true or false")


def test_field_not_applicable_to_type() -> None:
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\nmax_length = 10\n{YESNO}')
    assert_problem(doc(q), "q1", "field 'max_length' does not apply to a 'single' question")


# -- options ----------------------------------------------------------------------------------


def test_duplicate_option_value() -> None:
    opts = 'options = [{ value = "yes", label = "是" }, { value = "yes", label = "对" }]'
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\n{opts}')
    assert_problem(doc(q), "q1", "duplicate option value 'yes'")


@pytest.mark.parametrize("value", ["是", "has space", "-x", ""])
def test_invalid_option_value(value: str) -> None:
    opts = f'options = [{{ value = "{value}", label = "是" }}, {{ value = "no", label = "否" }}]'
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\n{opts}')
    fragment = "must not be empty" if not value else f"invalid option value '{value}'"
    assert_problem(doc(q), "q1", fragment)


def test_option_missing_label() -> None:
    opts = 'options = [{ value = "yes" }, { value = "no", label = "否" }]'
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\n{opts}')
    assert_problem(doc(q), "q1", "missing required field 'label' in option 1")


def test_choice_question_without_options() -> None:
    q = question('key = "q1"\ntype = "multiple"\ntext = "?"')
    assert_problem(doc(q), "q1", "missing required field 'options'")


def test_choice_question_with_one_option() -> None:
    q = question(
        'key = "q1"\ntype = "single"\ntext = "?"\noptions = [{ value = "a", label = "A" }]'
    )
    assert_problem(doc(q), "q1", "needs at least 2 options")


def test_allow_other_with_explicit_other_option() -> None:
    opts = 'options = [{ value = "a", label = "A" }, { value = "other", label = "其他" }]'
    q = question(f'key = "q1"\ntype = "multiple"\ntext = "?"\nallow_other = true\n{opts}')
    assert_problem(doc(q), "q1", "duplicate option value 'other'")


def test_score_on_non_scale_option() -> None:
    opts = 'options = [{ value = "a", label = "A", score = 1 }, { value = "b", label = "B" }]'
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\n{opts}')
    assert_problem(doc(q), "q1", "'score' is only allowed on scale options")


def test_other_text_field_collides_with_question_key() -> None:
    q1 = question(f'key = "q1"\ntype = "single"\ntext = "?"\nallow_other = true\n{YESNO}')
    q2 = question('key = "q1__other"\ntype = "text"\ntext = "?"')
    assert_problem(doc(q1 + q2), "q1__other", "collides with the 'other' text field of 'q1'")


# -- scales -----------------------------------------------------------------------------------


def _scale_head(options: str, positive: str = "") -> str:
    return HEAD + f"\n[scales.bad]\noptions = [\n{options}\n]\n{positive}\n"


SCALE_Q = question('key = "q1"\ntype = "scale"\nscale = "bad"\ntext = "?"\nmetric = "satisfaction"')


def test_unknown_scale_reference() -> None:
    q = question('key = "q1"\ntype = "scale"\nscale = "sat5"\ntext = "?"')
    assert_problem(doc(q), "q1", "unknown scale 'sat5' (declared scales: 'sat4')")


def test_scale_question_without_scale() -> None:
    q = question('key = "q1"\ntype = "scale"\ntext = "?"')
    assert_problem(doc(q), "q1", "a scale question needs 'scale")


def test_scale_with_too_few_points() -> None:
    opts = """{ value = "a", label = "满意", score = 100 },
    { value = "b", label = "不满意", score = 0 },
    { value = "c", label = "不了解", substantive = false },"""
    assert_problem(doc(SCALE_Q, head=_scale_head(opts)), "scales.bad", "found 2")


def test_scale_with_too_many_points() -> None:
    opts = ",\n".join(f'{{ value = "v{i}", label = "{i}", score = {i * 10} }}' for i in range(6))
    assert_problem(doc(SCALE_Q, head=_scale_head(opts)), "scales.bad", "3 to 5 substantive points")


def test_scale_score_outside_range() -> None:
    opts = """{ value = "a", label = "满意", score = 120 },
    { value = "b", label = "一般", score = 50 },
    { value = "c", label = "不满意", score = 0 },"""
    assert_problem(doc(SCALE_Q, head=_scale_head(opts)), "scales.bad", "score 120 is outside 0-100")


def test_scale_missing_score() -> None:
    opts = """{ value = "a", label = "满意", score = 100 },
    { value = "b", label = "一般" },
    { value = "c", label = "不满意", score = 0 },"""
    assert_problem(doc(SCALE_Q, head=_scale_head(opts)), "scales.bad", "option 'b': missing score")


def test_scale_non_numeric_score() -> None:
    opts = """{ value = "a", label = "满意", score = "high" },
    { value = "b", label = "一般", score = 50 },
    { value = "c", label = "不满意", score = 0 },"""
    assert_problem(doc(SCALE_Q, head=_scale_head(opts)), "scales.bad", "score must be a number")


def test_non_substantive_scale_option_with_score() -> None:
    opts = """{ value = "a", label = "满意", score = 100 },
    { value = "b", label = "一般", score = 50 },
    { value = "c", label = "不满意", score = 0 },
    { value = "d", label = "不了解", score = 0, substantive = false },"""
    assert_problem(doc(SCALE_Q, head=_scale_head(opts)), "scales.bad", "must not have a score")


def test_scale_positive_not_an_option() -> None:
    opts = """{ value = "a", label = "满意", score = 100 },
    { value = "b", label = "一般", score = 50 },
    { value = "c", label = "不满意", score = 0 },"""
    head = _scale_head(opts, 'positive = ["a", "z"]')
    assert_problem(doc(SCALE_Q, head=head), "scales.bad", "positive value 'z' is not among")


def test_inline_scale_options_are_validated() -> None:
    opts = (
        'options = [{ value = "a", label = "A", score = 1 }, '
        '{ value = "b", label = "B", score = 0 }]'
    )
    q = question(f'key = "q1"\ntype = "scale"\ntext = "?"\n{opts}')
    assert_problem(doc(q), "q1", "3 to 5 substantive points, found 2")


def test_scale_reference_and_inline_options() -> None:
    opts = ",".join(f'{{ value = "v{i}", label = "{i}", score = {i * 10} }}' for i in range(3))
    q = question(f'key = "q1"\ntype = "scale"\nscale = "sat4"\ntext = "?"\noptions = [{opts}]')
    assert_problem(doc(q), "q1", "either 'scale' or inline 'options'")


# -- metrics and positive answers -------------------------------------------------------------


def test_metric_item_without_positive() -> None:
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\nmetric = "awareness"\n{YESNO}')
    assert_problem(doc(q), "q1", "metric item 'q1' has no positive answers")


def test_metric_item_with_empty_positive() -> None:
    q = question(
        f'key = "q1"\ntype = "single"\ntext = "?"\nmetric = "awareness"\npositive = []\n{YESNO}'
    )
    assert_problem(doc(q), "q1", "metric item 'q1' has no positive answers")


def test_positive_value_not_among_options() -> None:
    q = question(
        f'key = "q1"\ntype = "single"\ntext = "?"\nmetric = "participation"\n'
        f'positive = ["yes", "maybe"]\n{YESNO}'
    )
    assert_problem(doc(q), "q1", "positive value 'maybe' is not among the options ('yes', 'no')")


def test_positive_value_non_substantive() -> None:
    q = question(
        'key = "q1"\ntype = "scale"\nscale = "sat4"\ntext = "?"\nmetric = "satisfaction"\n'
        'positive = ["satisfied", "unsure"]'
    )
    assert_problem(doc(q), "q1", "positive value 'unsure' is a non-substantive option")


def test_positive_without_metric() -> None:
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\npositive = ["yes"]\n{YESNO}')
    assert_problem(doc(q), "q1", "'positive' is set but the question has no 'metric'")


def test_unknown_metric() -> None:
    q = question(
        f'key = "q1"\ntype = "single"\ntext = "?"\nmetric = "happiness"\n'
        f'positive = ["yes"]\n{YESNO}'
    )
    assert_problem(doc(q), "q1", "unknown metric 'happiness'")


@pytest.mark.parametrize("qtype", ["text", "number"])
def test_metric_on_unscorable_type(qtype: str) -> None:
    q = question(f'key = "q1"\ntype = "{qtype}"\ntext = "?"\nmetric = "awareness"')
    assert_problem(doc(q), "q1", f"metric 'awareness' cannot be scored on a '{qtype}' question")


def test_metric_on_region_question() -> None:
    q = question(
        'key = "q1"\ntype = "region"\nlevel = "street"\ntext = "?"\nmetric = "participation"'
    )
    assert_problem(doc(q), "q1", "cannot be scored on a 'region' question")


def test_satisfaction_on_multiple_choice() -> None:
    q = question(
        f'key = "q1"\ntype = "multiple"\ntext = "?"\nmetric = "satisfaction"\npositive = ["yes"]\n'
        f"{YESNO}"
    )
    assert_problem(doc(q), "q1", "metric 'satisfaction' cannot be scored on a 'multiple'")


# -- demographics -----------------------------------------------------------------------------


def test_demographic_declared_twice() -> None:
    q1 = question(f'key = "q1"\ntype = "single"\ntext = "?"\ndemographic = "sex"\n{YESNO}')
    q2 = question(f'key = "q2"\ntype = "single"\ntext = "?"\ndemographic = "sex"\n{YESNO}')
    assert_problem(doc(q1 + q2), "q2", "demographic 'sex' is declared twice (already on 'q1')")


def test_unknown_demographic() -> None:
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\ndemographic = "income"\n{YESNO}')
    assert_problem(doc(q), "q1", "unknown demographic 'income'")


def test_demographic_on_wrong_type() -> None:
    q = question('key = "q1"\ntype = "single"\ntext = "?"\ndemographic = "residence"\n' + YESNO)
    assert_problem(doc(q), "q1", "demographic 'residence' must be a 'region' question")


# -- type-specific settings -------------------------------------------------------------------


def test_region_bad_level() -> None:
    q = question('key = "q1"\ntype = "region"\nlevel = "community"\ntext = "?"')
    assert_problem(doc(q), "q1", "invalid region level 'community'")


def test_region_missing_level() -> None:
    q = question('key = "q1"\ntype = "region"\ntext = "?"')
    assert_problem(doc(q), "q1", "missing required field 'level'")


def test_region_with_options() -> None:
    q = question(f'key = "q1"\ntype = "region"\nlevel = "district"\ntext = "?"\n{YESNO}')
    assert_problem(doc(q), "q1", "takes its options from the database")


def test_number_min_greater_than_max() -> None:
    q = question('key = "q1"\ntype = "number"\ntext = "?"\nmin = 10\nmax = 2')
    assert_problem(doc(q), "q1", "min (10) is greater than max (2)")


def test_number_bound_not_a_number() -> None:
    q = question('key = "q1"\ntype = "number"\ntext = "?"\nmin = "0"')
    assert_problem(doc(q), "q1", "field 'min' must be a number")


@pytest.mark.parametrize("length", ["0", "-5", '"200"', "100000"])
def test_text_bad_max_length(length: str) -> None:
    q = question(f'key = "q1"\ntype = "text"\ntext = "?"\nmax_length = {length}')
    assert_problem(doc(q), "q1", "max_length must be an integer")


# -- skip logic -------------------------------------------------------------------------------


def _show_if(ref: str, values: str = '["yes"]') -> str:
    return f'show_if = {{ question = "{ref}", values = {values} }}'


def test_show_if_unknown_question() -> None:
    q2 = question(f'key = "q2"\ntype = "single"\ntext = "?"\n{_show_if("nope")}\n{YESNO}')
    assert_problem(doc(SINGLE + q2), "q2", "show_if refers to unknown question 'nope'")


def test_show_if_later_question() -> None:
    q0 = question(f'key = "q0"\ntype = "single"\ntext = "?"\n{_show_if("q1")}\n{YESNO}')
    assert_problem(doc(q0 + SINGLE), "q0", "show_if refers to later question 'q1'")


def test_show_if_later_question_in_later_section() -> None:
    q0 = question(f'key = "q0"\ntype = "single"\ntext = "?"\n{_show_if("q1")}\n{YESNO}')
    text = doc(q0) + f'\n[[sections]]\nkey = "s2"\ntitle = "二"\n{SINGLE}'
    assert_problem(text, "q0", "show_if refers to later question 'q1'")


def test_show_if_itself() -> None:
    q = question(f'key = "q1"\ntype = "single"\ntext = "?"\n{_show_if("q1")}\n{YESNO}')
    assert_problem(doc(q), "q1", "show_if refers to the question itself")


def test_show_if_value_not_offered() -> None:
    cond = _show_if("q1", '["yes", "sure"]')
    q2 = question(f'key = "q2"\ntype = "single"\ntext = "?"\n{cond}\n{YESNO}')
    assert_problem(doc(SINGLE + q2), "q2", "show_if value 'sure' is not an option of 'q1'")


def test_show_if_on_question_without_options() -> None:
    q1 = question('key = "q1"\ntype = "text"\ntext = "?"')
    q2 = question(f'key = "q2"\ntype = "single"\ntext = "?"\n{_show_if("q1")}\n{YESNO}')
    assert_problem(doc(q1 + q2), "q2", "a 'text' question without fixed options")


def test_show_if_missing_values() -> None:
    q2 = question(
        f'key = "q2"\ntype = "single"\ntext = "?"\nshow_if = {{ question = "q1" }}\n{YESNO}'
    )
    assert_problem(doc(SINGLE + q2), "q2", "missing required field 'values' in show_if")


def test_show_if_not_a_table() -> None:
    q2 = question(f'key = "q2"\ntype = "single"\ntext = "?"\nshow_if = "q1"\n{YESNO}')
    assert_problem(doc(SINGLE + q2), "q2", "show_if must be a table")


# -- every problem is reported ----------------------------------------------------------------


def test_all_problems_reported_together() -> None:
    q1 = question(f'key = "q1"\ntype = "dropdown"\ntext = "?"\n{YESNO}')
    q2 = question('key = "q2"\ntype = "number"\ntext = "?"\nmin = 5\nmax = 1')
    q3 = question(f'key = "q3"\ntype = "single"\ntext = "?"\nmetric = "awareness"\n{YESNO}')
    head = HEAD.replace("version = 1", "version = 0")
    found = problems(doc(q1 + q2 + q3, head=head))
    assert {p.key for p in found} == {"", "q1", "q2", "q3"}
    with pytest.raises(DefinitionError) as info:
        load_text(doc(q1 + q2 + q3, head=head), "x.toml")
    lines = str(info.value).splitlines()
    assert len(lines) == len(found) == 4
    assert "x.toml: q1: unknown question type 'dropdown'" in lines[1]
    assert lines[0].startswith("x.toml: version must be")


def test_definition_error_is_value_error() -> None:
    with pytest.raises(ValueError):
        load_text("= broken")


# -- files ------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        load_file(tmp_path / "nope.toml")
    assert "cannot read file" in str(info.value)
    assert info.value.problems[0].file.endswith("nope.toml")


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes('title = "问卷"'.encode("gbk"))
    with pytest.raises(DefinitionError, match="not valid UTF-8"):
        load_file(path)


def _expectations(path: Path) -> list[tuple[str, str]]:
    """``# expect: KEY: fragment`` lines of a broken fixture (KEY may be empty)."""
    result = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            key, _, fragment = line.removeprefix("# expect:").strip().partition(": ")
            result.append((key.strip(), fragment.strip()))
    return result


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.toml")), ids=lambda p: p.stem)
def test_broken_fixture_files(path: Path) -> None:
    expected = _expectations(path)
    assert expected, f"{path.name} declares no '# expect:' lines"
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    found = info.value.problems
    for key, fragment in expected:
        assert any(p.key == key and fragment in p.message for p in found), (
            f"{path.name}: missing ({key!r}, {fragment!r}) in:\n{info.value}"
        )
        assert all(p.file == str(path) for p in found)
    assert len(found) == len(expected), str(info.value)
