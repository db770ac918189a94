"""Region tree operations."""

from __future__ import annotations

from survey.extensions import db
from survey.models import LEVELS
from survey.models import Region

# Which level may sit under which.
CHILD_LEVEL: dict[str | None, str] = {
    None: "city",
    "city": "district",
    "district": "street",
    "street": "community",
}


def create_region(code: str, name: str, level: str, parent: Region | None) -> Region:
    """Add a region under ``parent`` and set its materialised path."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    region = Region(code=code, name=name, level=level, parent=parent, path="")
    db.session.add(region)
    db.session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    db.session.flush()
    return region


def district_of(region: Region) -> Region | None:
    """The district (区/县) a region lies in, or None above district level."""
    node: Region | None = region
    while node is not None and node.level != "district":
        node = node.parent
    return node


def subtree_ids_query(root: Region):  # type: ignore[no-untyped-def]
    """A select of the ids of ``root`` and every region below it."""
    return db.select(Region.id).where(Region.path.startswith(root.path))
