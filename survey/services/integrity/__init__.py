"""Survey integrity: catch fabricated and bulk-filled responses, explain every flag, keep
estimates clean.

Three layers of signals (codes, strengths and Chinese sentences in :mod:`.catalogue`):

* per response, when it is stored (:mod:`.screening`): reading-time model, straight-lining,
  honeypot, residence outside a local point's district, outside the point's window;
* per point and across responses, by the *sweep* (:mod:`.sweep`, :mod:`.patterns`) over the
  responses stored since its watermark: bursts, pre-loaded batches, one-after-another filling,
  near-identical answer vectors, answer spread far below the city's, satisfaction jumps,
  odd hours, many devices behind one network prefix;
* per response inside an attack (:mod:`.decisions`): the attack's responses, not their
  neighbours; the sweep runs in the server's background (:mod:`.background`);
* reviews (:mod:`.review`): staff confirm or clear a flag, audit-logged; nothing is deleted.

**Estimates.** A response counts in estimates unless ``QualityFlag.EXCLUDED`` is set on
``Response.flags``: it is set while the response has a strong flag that no reviewer cleared,
or a flag a reviewer confirmed. The reporting layer uses :func:`counts_in_estimates` (or its
negation :func:`excluded_from_estimates`, or the mask :data:`EXCLUDING_FLAGS` on the flags
column) as its one exclusion rule, and reports how many responses it left out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from survey.models import QualityFlag
from survey.models import Response
from survey.services.integrity.catalogue import STRONG_CODES

#: Bits of ``Response.flags`` that leave a response out of estimates by default.
EXCLUDING_FLAGS: int = int(QualityFlag.EXCLUDED)

__all__ = [
    "EXCLUDING_FLAGS",
    "STRONG_CODES",
    "counts_in_estimates",
    "excluded_from_estimates",
]


def counts_in_estimates(flags: Any = None) -> ColumnElement[bool]:
    """SQL condition: the response counts in estimates (``flags`` defaults to the column)."""
    column = Response.flags if flags is None else flags
    return column.bitwise_and(EXCLUDING_FLAGS) == 0  # type: ignore[no-any-return]


def excluded_from_estimates(flags: Any = None) -> ColumnElement[bool]:
    """SQL condition: the response is left out of estimates by default.

    ``flags <> 0`` comes first so that a partial index of flagged responses can serve the
    count of excluded responses.
    """
    column = Response.flags if flags is None else flags
    return (column != 0) & (column.bitwise_and(EXCLUDING_FLAGS) != 0)  # type: ignore[no-any-return]


def is_excluded(flags: int) -> bool:
    """The same rule in Python, for one stored ``flags`` value."""
    return bool(flags & EXCLUDING_FLAGS)
