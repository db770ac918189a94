"""Administrative regions: city → district (区/县) → street (街道/镇) → community (社区/村)."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import intpk

LEVELS: tuple[str, ...] = ("city", "district", "street", "community")
LEVEL_NAMES: dict[str, str] = {
    "city": "市",
    "district": "区/县",
    "street": "街道/镇",
    "community": "社区/村",
}


class Region(Base):
    """A node of the region tree; ``path`` holds ancestor ids for subtree queries."""

    __tablename__ = "regions"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # Materialised path "/1/4/17/" (ids from the root down to this node, inclusive).
    path: Mapped[str] = mapped_column(String(255), index=True, default="")

    parent: Mapped[Region | None] = relationship(remote_side="Region.id", back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.code")

    @property
    def level_name(self) -> str:
        """Chinese name of the level."""
        return LEVEL_NAMES.get(self.level, self.level)

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this region, inclusive."""
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def is_within(self, other: Region) -> bool:
        """True when this region is ``other`` or lies below it."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"
