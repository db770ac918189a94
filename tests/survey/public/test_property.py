"""Property test: random and malformed bodies never cause a 5xx, and store only valid ones."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from urllib.parse import urlencode

from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from tests.survey.public.conftest import Sample
from tests.survey.public.conftest import open_form
from tests.survey.public.conftest import response_count
from tests.survey.public.conftest import valid_answers

KEYS = list(valid_answers("x"))
CHOICE_VALUES = ["yes", "no", "satisfied", "other", "18-29", "male", "", "999901001", "潜入"]

# One edit to an otherwise valid body, and whether the result must still be stored.
# (name, is the body still valid afterwards?)
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
mutation = st.one_of(
    st.tuples(st.just("none"), st.none()),
    st.tuples(st.just("drop_required"), st.sampled_from(["age_group", "sex", "sat_overall"])),
    st.tuples(st.just("unknown_field"), st.from_regex(r"[a-z_]{1,12}", fullmatch=True)),
    st.tuples(st.just("duplicate"), st.sampled_from(["sex", "residence", "suggestions"])),
    st.tuples(
        st.just("tamper"), st.tuples(st.sampled_from(KEYS[:12]), st.sampled_from(CHOICE_VALUES))
    ),
    st.tuples(st.just("suggestion_text"), text),
    st.tuples(st.just("raw_bytes"), st.binary(max_size=200)),
    st.tuples(st.just("random_pairs"), st.lists(st.tuples(text, text), max_size=8)),
)


def _pairs(page: Any, answers: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in page.body(answers).items():
        if isinstance(value, list):
            out.extend((key, v) for v in value)
        else:
            out.append((key, value))
    return out


def _valid_after(kind: str, arg: Any, answers: dict[str, Any]) -> bool | None:
    """Whether the mutated body is valid; None when it cannot be known beforehand."""
    if kind == "none":
        return True
    if kind == "tamper":
        key, value = arg
        original = answers[key]
        if value == original or (isinstance(original, list) and value in original):
            return True
        return None  # may be another allowed option: only "no 5xx" is checked
    if kind == "suggestion_text":
        bad = any((ord(c) < 32 and c not in "\t\n\r") or ord(c) == 0x7F for c in arg)
        return not bad and len(arg.strip()) <= 200
    return False


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=mutation)
def test_random_bodies_never_5xx_and_store_only_valid(
    seeded: Flask, sample: Sample, mutation: tuple[str, Any]
) -> None:
    kind, arg = mutation
    client = seeded.test_client()
    page = open_form(client, sample.code)
    answers = valid_answers(sample.street_code)
    pairs = _pairs(page, answers)
    body: bytes
    if kind == "drop_required":
        pairs = [(k, v) for k, v in pairs if k != arg]
    elif kind == "unknown_field":
        pairs.append((arg + "_x", "1"))
    elif kind == "duplicate":
        pairs.append((arg, dict(pairs)[arg]))
    elif kind == "tamper":
        key, value = arg
        pairs = [(k, v) for k, v in pairs if k != key] + [(key, value)]
    elif kind == "suggestion_text":
        pairs = [(k, arg if k == "suggestions" else v) for k, v in pairs]
    if kind == "raw_bytes":
        body = urlencode(pairs[:2]).encode() + b"&" + arg
    elif kind == "random_pairs":
        body = urlencode(pairs[:2]).encode() + b"".join(
            b"&" + quote(k).encode() + b"=" + quote(v).encode() for k, v in arg
        )
    else:
        body = urlencode(pairs).encode()

    before = response_count(seeded)
    response = client.post(
        f"/q/{sample.code}",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    stored = response_count(seeded) - before
    assert response.status_code < 500, response.status_code
    assert stored == (1 if response.status_code == 303 else 0)
    expected = _valid_after(kind, arg, answers)
    if expected is not None:
        assert stored == int(expected), (kind, arg, response.status_code)
