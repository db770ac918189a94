"""Collection point codes: unguessable, unambiguous, case-insensitive."""

from __future__ import annotations

from survey.services.codes import ALPHABET
from survey.services.codes import CODE_LENGTH
from survey.services.codes import new_code
from survey.services.codes import normalise_code


def test_codes_have_at_least_40_bits_and_no_ambiguous_characters() -> None:
    import math

    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 40
    assert not set("01OIL") & set(ALPHABET)
    code = new_code()
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)


def test_normalise_accepts_lower_case_and_rejects_junk() -> None:
    code = new_code()
    assert normalise_code(code.lower()) == code
    assert normalise_code(f"  {code} ") == code
    assert normalise_code("O" * CODE_LENGTH) is None
    assert normalise_code(code + "2") is None
    assert normalise_code("") is None
