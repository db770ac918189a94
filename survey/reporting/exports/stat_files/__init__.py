"""Streaming writers of SPSS ``.sav`` and Stata ``.dta`` files.

pyreadstat writes these formats from one DataFrame holding every row; the raw-responses
export of a million responses must not hold them all in memory (issue 10). These writers
take the columns' layout up front (names, labels, value labels and, for text, the widest
value in bytes) and then the rows a batch at a time, each batch one NumPy array per column,
so memory is one batch whatever the number of rows. Both write uncompressed files with UTF-8
text, which SPSS (16+), Stata (14+), pyreadstat, R's haven and PSPP read.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

import numpy as np


@dataclass(frozen=True)
class StatColumn:
    """One variable: its name (letters, digits, ``_``; at most 32, starting with a letter),
    its label, ``width`` 0 for a number (float64, NaN = missing) or else the byte length of
    its longest UTF-8 value (at least 1), labels of numeric codes, and the decimals a number
    is displayed with (0 for counts, codes and 0/1 columns)."""

    name: str
    label: str
    width: int = 0
    value_labels: Mapping[int, str] = field(default_factory=dict)
    decimals: int = 2

    @property
    def numeric(self) -> bool:
        return self.width == 0


def utf8_prefix(text: str, limit: int) -> bytes:
    """``text`` in UTF-8, cut to at most ``limit`` bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore").encode("utf-8")


#: One batch of rows: an array per column, all of one length; float64 for a numeric column,
#: bytes (``dtype 'S<k>'``, ``k`` at most the column's width, UTF-8) for a text column.
Batch = list[np.ndarray]
Batches = Iterable[Batch]
