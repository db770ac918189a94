"""URL converters: path ids are what the database can hold, anything else is a 404.

Werkzeug's ``int`` converter matches any Unicode digits (``\\d``) of any length; an id
beyond what the id columns hold (64 bits on SQLite, 32 on PostgreSQL) then reaches the
database driver and fails there (500). Registered as ``int`` on the app before any route,
:class:`IdIntegerConverter` matches 1 to 19 ASCII digits up to ``MAX_INTPK``: anything else
in an id's place matches no route (404).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map

from survey.models.base import MAX_INTPK


class IdIntegerConverter(IntegerConverter):
    """``<int:...>`` for database ids: ASCII digits only, at most ``MAX_INTPK``."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INTPK)
        kwargs.setdefault("min", 0)
        kwargs["signed"] = False
        super().__init__(map, *args, **kwargs)
