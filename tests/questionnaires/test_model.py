"""Definition model: lookups, checksum, immutability, public API, purity."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import questionnaires
from questionnaires import Definition
from questionnaires import load_file
from questionnaires import load_text
from tests.questionnaires.helpers import YESNO
from tests.questionnaires.helpers import doc
from tests.questionnaires.helpers import question

TEXT = doc(
    question(f'key = "q1"\ntype = "single"\ntext = "问题一"\nallow_other = true\n{YESNO}')
    + question('key = "q2"\ntype = "text"\ntext = "问题二"\nrequired = false')
)


def test_public_api_names() -> None:
    for name in [
        "Definition", "Section", "Question", "Option", "ShowIf", "Scores", "DefinitionError",
        "Problem", "load_file", "load_text", "bundled_paths", "score_answers", "visible_keys",
        "METRICS", "QUESTION_TYPES",
    ]:  # fmt: skip
        assert name in questionnaires.__all__
        assert hasattr(questionnaires, name)
    assert questionnaires.METRICS == ("awareness", "participation", "satisfaction")
    assert questionnaires.QUESTION_TYPES == (
        "single", "multiple", "scale", "text", "number", "region",
    )  # fmt: skip


def test_lookups_and_defaults() -> None:
    defn = load_text(TEXT)
    assert [q.key for q in defn.questions] == ["q1", "q2"]
    q1, q2 = defn.question("q1"), defn.question("q2")
    assert q1.required and not q2.required
    assert q1.section == "s1"
    assert q1.option_values == ("yes", "no", "other")
    assert q1.option("other") is not None and q1.option("other").label == "其他"
    assert q1.other_key == "q1__other" and q2.other_key is None
    assert q2.max_length == 200
    assert "q1" in defn and "zz" not in defn
    with pytest.raises(KeyError):
        defn.question("zz")
    assert defn.demographic_keys() == {}
    assert defn.thank_you == "谢谢" and defn.description == ""


def test_definition_is_frozen_and_hashable() -> None:
    defn = load_text(TEXT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        defn.version = 2  # type: ignore[misc]
    assert hash(defn) == hash(load_text(TEXT))


def test_checksum_stable_across_loads(tmp_path: Path) -> None:
    path = tmp_path / "q.toml"
    path.write_text(TEXT, encoding="utf-8")
    first, second = load_file(path), load_file(path)
    assert len(first.checksum) == 64 and int(first.checksum, 16) >= 0
    assert first.checksum == second.checksum == load_text(TEXT).checksum
    assert first == load_text(TEXT)  # source is not part of equality
    assert first.source == str(path)


def test_checksum_ignores_comments_and_layout() -> None:
    reformatted = "# a comment\n" + TEXT.replace('text = "问题一"', 'text    =   "问题一"  # c')
    assert load_text(reformatted).checksum == load_text(TEXT).checksum


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('text = "问题一"', 'text = "问题一？"'),
        ("version = 1", "version = 2"),
        ('{ value = "no", label = "否" }', '{ value = "no", label = "不是" }'),
        ("required = false", "required = true"),
    ],
)
def test_checksum_changes_with_content(old: str, new: str) -> None:
    changed = TEXT.replace(old, new, 1)
    assert changed != TEXT
    assert load_text(changed).checksum != load_text(TEXT).checksum


def test_to_dict_round_trips_through_json() -> None:
    import json

    defn = load_text(TEXT)
    data = json.loads(json.dumps(defn.to_dict(), ensure_ascii=False))
    assert data["sections"][0]["questions"][0]["options"][2]["value"] == "other"
    assert "checksum" not in data and "source" not in data


def test_replace_keeps_lookup_consistent() -> None:
    defn = load_text(TEXT)
    shorter = dataclasses.replace(defn, sections=(defn.sections[0],))
    assert isinstance(shorter, Definition)
    assert shorter.question("q1") is defn.question("q1")


def test_package_is_pure() -> None:
    code = (
        "import sys, questionnaires\n"
        "questionnaires.load_file(questionnaires.bundled_paths()[0])\n"
        "bad = [m for m in ('flask', 'sqlalchemy', 'survey', 'analysis', 'pandas') "
        "if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
