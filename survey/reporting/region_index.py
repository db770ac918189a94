"""The region tree as a report needs it: subtrees, and each region's ancestor at a level.

Regions are few (hundreds to a few thousand), so they are read once per report and mapped in
Python; the responses themselves are only ever aggregated in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Region
from survey.models.region import LEVEL_NAMES


@dataclass(frozen=True)
class RegionInfo:
    """The columns of a region a report uses."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this region, inclusive."""
        return [int(p) for p in self.path.strip("/").split("/") if p]


@dataclass(frozen=True)
class RegionIndex:
    """All regions by id, with subtree and level-ancestor look-ups."""

    by_id: dict[int, RegionInfo]

    @classmethod
    def load(cls, bind: Session | Connection) -> RegionIndex:
        """Read every region (one small query)."""
        rows = bind.execute(
            select(Region.id, Region.code, Region.name, Region.level, Region.parent_id, Region.path)
        ).all()
        return cls({r.id: RegionInfo(*r) for r in rows})

    def subtree_ids(self, path: str) -> list[int]:
        """Ids of the regions whose path starts with ``path``, sorted."""
        return sorted(r.id for r in self.by_id.values() if r.path.startswith(path))

    def by_path(self, path: str) -> RegionInfo | None:
        """The region whose path is exactly ``path``."""
        for r in self.by_id.values():
            if r.path == path:
                return r
        return None

    def ancestor_at(self, region_id: int, level: str) -> int | None:
        """The id of ``region_id``'s ancestor (or itself) at ``level``; None above that level."""
        info = self.by_id.get(region_id)
        if info is None:
            return None
        for ancestor in info.ancestor_ids():
            node = self.by_id.get(ancestor)
            if node is not None and node.level == level:
                return node.id
        return None

    def group_of(self, region_id: int, level: str) -> int:
        """Report group of a response's region at ``level``.

        A region above ``level`` (a district-level point in a table by street) is its own
        group, keyed by the negative region id so it never collides with a real group.
        """
        found = self.ancestor_at(region_id, level)
        return found if found is not None else -region_id

    def group_label(self, key: int, level: str) -> str:
        """Chinese label of a group key made by :meth:`group_of`."""
        info = self.by_id.get(abs(key))
        if info is None:
            return "（未知区域）"
        if key < 0:
            return f"{info.name}（{LEVEL_NAMES.get(level, level)}以上点位）"
        return info.name

    def code_of(self, key: int) -> str:
        """Region code of a group key (empty when unknown)."""
        info = self.by_id.get(abs(key))
        return info.code if info is not None else ""


#: Path of an empty subtree (region paths start with "/", so nothing starts with this).
NOTHING = "!"


def effective_path(region_path: str | None, scope_path: str | None) -> str | None:
    """The subtree a report covers: the deeper of the chosen region and the officer's scope.

    Returns ``None`` for the whole database and :data:`NOTHING` when the two subtrees do not
    overlap.
    """
    if region_path is None:
        return scope_path
    if scope_path is None or region_path.startswith(scope_path):
        return region_path
    if scope_path.startswith(region_path):
        return scope_path
    return NOTHING
