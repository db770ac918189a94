"""Region options of the resident form: a city's districts, and its streets by district."""

from __future__ import annotations

from typing import NamedTuple

from survey.extensions import db
from survey.models import Region

#: (group label, ((region code, region name), ...)) groups of region options.
RegionGroups = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


class RegionOptions(NamedTuple):
    """Region options of a point's city: streets grouped by district, and the districts."""

    streets: RegionGroups
    districts: RegionGroups
    #: (region code, region id) of every option, to store the residence by id.
    ids: tuple[tuple[str, int], ...] = ()


def query_region_options(city_id: int) -> RegionOptions:
    """Districts and streets under the city ``city_id`` (region questions' options)."""
    rows = db.session.execute(
        db.select(Region.id, Region.code, Region.name, Region.level, Region.parent_id)
        .where(
            Region.path.startswith(f"/{city_id}/"),
            Region.level.in_(("district", "street")),
        )
        .order_by(Region.code)
    ).all()
    districts = [r for r in rows if r.level == "district"]
    streets: dict[int, list[tuple[str, str]]] = {d.id: [] for d in districts}
    for r in rows:
        if r.level == "street" and r.parent_id in streets:
            streets[r.parent_id].append((r.code, r.name))
    return RegionOptions(
        ids=tuple((r.code, r.id) for r in rows),
        streets=tuple((d.name, tuple(streets[d.id])) for d in districts if streets[d.id]),
        districts=(("", tuple((d.code, d.name) for d in districts)),),
    )
