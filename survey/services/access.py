"""Scoping rules: which regions, points and responses a staff member may see or change.

A city admin sees everything. A district officer sees only the subtree of their assigned
region (no region assigned: nothing). A viewer sees their region's subtree, or the whole city
when unassigned, and never changes anything. Objects outside the scope are reported as
missing (``NotFound``, 404) so their existence does not leak.
"""

from __future__ import annotations

from typing import Any

from survey.errors import Forbidden
from survey.errors import NotFound
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Region
from survey.models import User

WRITE_ROLES = frozenset({"city_admin", "district_officer"})


def is_city_admin(user: Any) -> bool:
    """True for an authenticated city admin."""
    return bool(getattr(user, "is_authenticated", False)) and user.role == "city_admin"


def can_write(user: Any) -> bool:
    """True when the user may issue, revoke, import or rename (viewers are read-only)."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in WRITE_ROLES


def scope_root(user: User) -> Region | None:
    """The region whose subtree the user may see; None means the whole database."""
    if user.role == "city_admin":
        return None
    if user.region is None and user.role == "viewer":
        return None
    return user.region


def sees_nothing(user: User) -> bool:
    """A district officer without an assigned region may see nothing at all; an interviewer
    sees nothing of the staff area (only the field form of their assignments)."""
    if user.role == "interviewer":
        return True
    return user.role == "district_officer" and user.region is None


def region_condition(user: User) -> Any:
    """A SQL condition on ``Region`` limiting rows to the user's scope."""
    if sees_nothing(user):
        return db.false()
    root = scope_root(user)
    if root is None:
        return db.true()
    return Region.path.startswith(root.path)


def can_see_region(user: User, region: Region) -> bool:
    """True when ``region`` lies in the user's scope."""
    if sees_nothing(user):
        return False
    root = scope_root(user)
    return root is None or region.is_within(root)


def visible_regions_select(user: User) -> Any:
    """A select of the regions the user may see, ordered by path."""
    return db.select(Region).where(region_condition(user)).order_by(Region.path)


def region_in_scope(user: User, region_id: int | None) -> Region:
    """The region with ``region_id`` if the user may see it, else 404."""
    region = db.session.get(Region, region_id) if region_id is not None else None
    if region is None or not can_see_region(user, region):
        raise NotFound("区域不存在或不在您的管辖范围内。")
    return region


def point_in_scope(user: User, point_id: int) -> CollectionPoint:
    """The collection point with ``point_id`` if the user may see it, else 404."""
    point = db.session.get(CollectionPoint, point_id)
    if point is None or not can_see_region(user, point.region):
        raise NotFound("点位不存在或不在您的管辖范围内。")
    return point


def require_write(user: User) -> None:
    """403 for read-only accounts on state-changing routes."""
    if not can_write(user):
        raise Forbidden("只读账号不能修改数据。")


def require_city_admin(user: User) -> None:
    """403 unless the user is a city admin (accounts, audit log)."""
    if not is_city_admin(user):
        raise Forbidden("此操作仅限市级管理员。")
