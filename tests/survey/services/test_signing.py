"""The compact serializer behind the device cookie and the form instance."""

from __future__ import annotations

from typing import Any

import pytest
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

from survey.services.device import CompactSerializer

PAYLOADS: list[Any] = [
    "Zx3_v9Qk2LmN8pRtYw4aBc",  # a device id
    {"i": "Qm9vLXJhbmRvbS1pZC0xMjM", "t": 1764636000.123, "p": 17, "d": "Zx3_v9Qk2LmN8pRtYw4aBc"},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_tokens_equal_itsdangerous_own(payload: Any) -> None:
    """Short payloads give exactly itsdangerous' tokens: cookies and pages issued before
    still verify, and the new ones verify with the stock serializer."""
    stock = URLSafeSerializer("k" * 32, salt="survey.device-cookie")
    compact = CompactSerializer("k" * 32, "survey.device-cookie")
    assert compact.dumps(payload) == stock.dumps(payload)
    assert compact.loads(stock.dumps(payload)) == payload
    assert stock.loads(compact.dumps(payload)) == payload


def test_compressed_tokens_still_load_and_salts_stay_apart() -> None:
    stock = URLSafeSerializer("k" * 32, salt="a")
    compact = CompactSerializer("k" * 32, "a")
    long = {"x": "y" * 400}
    assert stock.dumps(long).startswith(".")  # itsdangerous compressed this one
    assert compact.loads(stock.dumps(long)) == long
    assert not compact.dumps(long).startswith(".")
    other = CompactSerializer("k" * 32, "b")
    with pytest.raises(BadSignature):
        other.loads(compact.dumps("Zx3_v9Qk2LmN8pRtYw4aBc"))
    assert compact.loads(compact.dumps("v"), salt="a") == "v"
    with pytest.raises(BadSignature):
        compact.loads(compact.dumps("v"), salt="b")
