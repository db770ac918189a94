"""Declarative base, naming convention and shared column shapes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from sqlalchemy import MetaData
from sqlalchemy import func
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import registry

from survey.models.types import UTCDateTime

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

intpk = Annotated[int, mapped_column(primary_key=True)]
#: Largest value an ``intpk`` column can hold on every database (INTEGER: 32 bits on
#: PostgreSQL): a larger id names nothing, and must not reach the database driver.
MAX_INTPK = 2**31 - 1
created_ts = Annotated[dt.datetime, mapped_column(UTCDateTime(), server_default=func.now())]


class Base(DeclarativeBase):
    """Base of every ORM model."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        # Every timestamp is timezone-aware UTC (timestamptz on PostgreSQL), on every database.
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


def utcnow() -> dt.datetime:
    """Timezone-aware current time in UTC."""
    return dt.datetime.now(dt.UTC)
