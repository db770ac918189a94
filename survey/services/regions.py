"""Region tree operations."""

from __future__ import annotations

from dataclasses import dataclass

from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import LEVELS
from survey.models import CollectionPoint
from survey.models import Region
from survey.models import User
from survey.services import access
from survey.services import audit
from survey.services.names import check_name
from survey.services.names import check_region_code

# Which level may sit under which.
CHILD_LEVEL: dict[str | None, str] = {
    None: "city",
    "city": "district",
    "district": "street",
    "street": "community",
}


def create_region(code: str, name: str, level: str, parent: Region | None) -> Region:
    """Add a region under ``parent`` and set its materialised path.

    Every path that creates a region (staff form, import, demo city) comes through here, so
    the code's character set and the name's lack of control characters are checked here.
    """
    if level not in LEVELS:
        raise InvalidInput(f"未知的区域级别 / unknown level {level!r}")
    code = check_region_code(code)
    name = check_name(name, "区域名称")
    if not name:
        raise InvalidInput("区域名称不能为空。")
    region = Region(code=code, name=name, level=level, parent=parent, path="")
    db.session.add(region)
    db.session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    db.session.flush()
    return region


def district_of(region: Region) -> Region | None:
    """The district (区/县) a region lies in, or None above district level."""
    district_id = district_on_path(region.path)
    return db.session.get(Region, district_id) if district_id is not None else None


def district_on_path(path: str) -> int | None:
    """The id of the district on a materialised path ("/1/4/17/"), or None above districts.

    One query over the path's ancestors (a handful of rows): the nearest district at or above
    the region, the path running from the root down.
    """
    ancestors = [int(p) for p in path.strip("/").split("/") if p]
    if not ancestors:
        return None
    found = set(
        db.session.execute(
            db.select(Region.id).where(Region.id.in_(ancestors), Region.level == "district")
        ).scalars()
    )
    return next((i for i in reversed(ancestors) if i in found), None)


@dataclass(frozen=True)
class RegionTree:
    """The regions an account may see, each with its depth, and points per region."""

    rows: list[tuple[Region, int]]
    point_counts: dict[int, int]


def region_tree(user: User) -> RegionTree:
    """The visible tree in path order; depth 0 is the account's top level."""
    regions = list(db.session.execute(access.visible_regions_select(user)).scalars())
    counts = db.session.execute(
        db.select(CollectionPoint.region_id, db.func.count(CollectionPoint.id)).group_by(
            CollectionPoint.region_id
        )
    ).all()
    top_depth = min((len(r.ancestor_ids()) for r in regions), default=1)
    rows = [(r, len(r.ancestor_ids()) - top_depth) for r in regions]
    return RegionTree(rows=rows, point_counts={int(k): int(v) for k, v in counts})


def add_child_region(user: User, parent: Region, code: str, name: str) -> Region:
    """Add a region one level under ``parent`` (audit-logged); ``InvalidInput`` if refused."""
    level = CHILD_LEVEL.get(parent.level)
    if level is None:
        raise InvalidInput(f"“{parent.name}”是最低一级，不能再添加下级区域。")
    code = check_region_code(code)
    if db.session.execute(db.select(Region.id).where(Region.code == code)).first():
        raise InvalidInput(f"编码 {code} 已存在。")
    region = create_region(code, name, level, parent)
    audit.record(user, "region_create", "region", region.id, code=code, name=region.name)
    return region


def rename_region(user: User, region: Region, name: str) -> str:
    """Rename ``region`` (audit-logged); return the old name. ``InvalidInput`` if refused."""
    name = check_name(name, "区域名称")
    if not name:
        raise InvalidInput("区域名称不能为空。")
    old = region.name
    region.name = name
    db.session.flush()
    audit.record(user, "region_rename", "region", region.id, old=old, new=region.name)
    return old


def subtree_ids_query(root: Region):  # type: ignore[no-untyped-def]
    """A select of the ids of ``root`` and every region below it."""
    return db.select(Region.id).where(Region.path.startswith(root.path))
