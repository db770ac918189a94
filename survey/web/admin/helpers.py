"""Small helpers shared by the staff views: current user, safe redirects, template filters."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask_login import current_user

from survey.models import User
from survey.services import access
from survey.timeutil import CST
from survey.timeutil import local_time
from survey.web.admin import bp


def staff() -> User:
    """The signed-in staff member (the blueprint gate guarantees there is one)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    target = target.strip()
    if target.endswith("?"):
        target = target[:-1]
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return default
    return target


def local_to_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A naive date-time typed in China time, as an aware UTC value."""
    if value is None:
        return None
    return value.replace(tzinfo=CST).astimezone(dt.UTC)


@bp.app_template_filter("localtime")
def localtime_filter(moment: dt.datetime | None) -> str:
    """Jinja: China local time ``YYYY-MM-DD HH:MM``."""
    return local_time(moment)


@bp.app_template_filter("pct")
def pct_filter(value: float | None) -> str:
    """Jinja: a share as a percentage with one decimal."""
    return "—" if value is None else f"{value * 100:.1f}%"


@bp.context_processor
def inject_roles() -> dict[str, Any]:
    """Role checks for templates."""
    return {"can_write": access.can_write, "is_city_admin": access.is_city_admin}
