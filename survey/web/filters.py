"""Query arguments shared by the staff pages and the JSON API: ids and point filters.

Malformed ids (non-ASCII digits, beyond 64 bits, not numbers) are a 400; ids of objects
that do not exist or lie outside the account's scope are a 404 (from the services).
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask import request
from werkzeug.datastructures import MultiDict

from survey.models import User
from survey.numbers import parse_int
from survey.reporting.point_table import PointFilter
from survey.services import access
from survey.services import choices

#: Largest id a query argument or path may name (INTEGER keys: 32 bits on PostgreSQL).
MAX_ID = 2**31 - 1


def parse_id(raw: str) -> int:
    """An id typed in a query argument (ASCII digits, at most ``MAX_ID``), else 400."""
    value = parse_int(raw, maximum=MAX_ID)
    if value is None:
        abort(400)
    return value


def int_arg(args: MultiDict[str, str], name: str) -> int | None:
    """The id in query argument ``name``: None when absent or 0, 400 when malformed."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    return parse_id(raw) or None


#: Highest page number a paged list accepts (beyond it an offset stops making sense).
MAX_PAGE = 1_000_000


def page_arg(args: MultiDict[str, str], name: str = "page") -> int:
    """A page number (1 when absent or 0), 400 when malformed or beyond ``MAX_PAGE``."""
    return number_arg(args, name, maximum=MAX_PAGE) or 1


def number_arg(args: MultiDict[str, str], name: str, *, maximum: int, default: int = 0) -> int:
    """A count in query argument ``name`` (``default`` when absent), 400 when it is not
    ASCII digits or exceeds ``maximum``."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    value = parse_int(raw, maximum=maximum)
    if value is None:
        abort(400)
    return value


def point_filter(user: User, args: MultiDict[str, str] | None = None) -> PointFilter:
    """Parse region/channel/version/status/ids query arguments; foreign regions are 404."""
    args = request.args if args is None else args
    region_id = int_arg(args, "region")
    channel_id = int_arg(args, "channel")
    version_id = int_arg(args, "version")
    status = args.get("status", "")
    ids_raw = args.get("ids", "").strip()
    parts = ids_raw.split(",") if ids_raw else []
    if len(parts) > 5000:
        abort(400)
    return PointFilter(
        region=access.region_in_scope(user, region_id) if region_id else None,
        channel=choices.channel(channel_id) if channel_id else None,
        version=choices.version(version_id) if version_id else None,
        status=status if status in {"active", "inactive"} else "",
        point_ids=tuple(parse_id(p) for p in parts),
    )


def filter_args(flt: PointFilter) -> dict[str, Any]:
    """Query arguments that reproduce ``flt`` (for links to exports and print sheets)."""
    args: dict[str, Any] = {}
    if flt.region is not None:
        args["region"] = flt.region.id
    if flt.channel is not None:
        args["channel"] = flt.channel.id
    if flt.version is not None:
        args["version"] = flt.version.id
    if flt.status:
        args["status"] = flt.status
    if flt.point_ids:
        args["ids"] = ",".join(str(i) for i in flt.point_ids)
    return args
