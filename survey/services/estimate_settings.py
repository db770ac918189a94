"""Estimate settings of the city (issue 24): the minimum post-stratification cell size.

A cell (district × age group × sex) with fewer respondents than this is merged with a
neighbour before weighting; every merge is listed beside the figures. The value stored by
the city admin wins; without one, the ``SURVEY_MIN_CELL_N`` config value (default 5) applies.
"""

from __future__ import annotations

from flask import current_app

from survey.errors import Forbidden
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import EstimateSettings
from survey.models import User
from survey.models.base import utcnow
from survey.services import audit

#: Bounds of the setting: 1 merges only empty cells; above 1000 every cell would merge.
MIN_CELL_BOUNDS = (1, 1000)
#: Audit actions of this module.
ACTION_NAMES: dict[str, str] = {"min_cell_set": "设置加权格最少答卷数"}


class EstimateSettingError(InvalidInput):
    """An invalid setting value."""


def configured_min_cell_n() -> int:
    """The config's default (``SURVEY_MIN_CELL_N``)."""
    return int(current_app.config["MIN_CELL_N"])


def _row() -> EstimateSettings | None:
    return db.session.execute(db.select(EstimateSettings).limit(1)).scalars().first()


def stored() -> bool:
    """Whether the city admin has stored a value (else the config's default applies)."""
    return _row() is not None


def min_cell_n() -> int:
    """The minimum cell size in force: the stored value, else the config's."""
    row = _row()
    return int(row.min_cell_n) if row is not None else configured_min_cell_n()


def parse_min_cell_n(raw: str) -> int:
    """A typed value (Chinese error on bad input)."""
    low, high = MIN_CELL_BOUNDS
    try:
        value = int(raw.strip())
    except ValueError:
        raise EstimateSettingError(f"加权格最少答卷数“{raw}”不是整数。") from None
    if not low <= value <= high:
        raise EstimateSettingError(f"加权格最少答卷数应在 {low} 到 {high} 之间，收到 {value}。")
    return value


def set_min_cell_n(value: int, actor: User | None = None) -> EstimateSettings:
    """Store the minimum cell size (city admin only); audit-logged. Flushes only."""
    if actor is not None and actor.role != "city_admin":
        raise Forbidden("只有市级管理员可以修改加权设置。")
    value = parse_min_cell_n(str(value))
    row = _row()
    old = None if row is None else row.min_cell_n
    if row is None:
        row = EstimateSettings(min_cell_n=value)
        db.session.add(row)
    row.min_cell_n = value
    row.updated_by_id = actor.id if actor is not None else None
    row.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "min_cell_set", "estimate_settings", row.id, old=old, new=value)
    return row
