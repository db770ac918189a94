"""Small helpers shared by the staff views: current user, filters, choices, safe redirects."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import abort
from flask import current_app
from flask import request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from survey.admin import bp
from survey.extensions import db
from survey.models import Channel
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.services import access
from survey.services.point_stats import PointFilter
from survey.services.point_stats import local_time
from survey.timeutil import CST


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


def point_url(code: str) -> str:
    """The public link encoded in a point's QR code."""
    return f"{current_app.config['BASE_URL']}/q/{code}"


def region_choices(
    user: User, levels: tuple[str, ...] | None = None, blank: str | None = None
) -> list[tuple[int, str]]:
    """(id, indented name) of the regions the user may see, tree order."""
    choices: list[tuple[int, str]] = [(0, blank)] if blank is not None else []
    for region in db.session.execute(access.visible_regions_select(user)).scalars():
        if levels and region.level not in levels:
            continue
        depth = len(region.ancestor_ids()) - 1
        choices.append((region.id, "　" * depth + f"{region.name}（{region.level_name}）"))
    return choices


def channel_choices(blank: str | None = None) -> list[tuple[int, str]]:
    """(id, name) of the active channels."""
    choices: list[tuple[int, str]] = [(0, blank)] if blank is not None else []
    rows = db.session.execute(
        db.select(Channel).where(Channel.active.is_(True)).order_by(Channel.id)
    ).scalars()
    return choices + [(c.id, c.name) for c in rows]


def version_choices(open_only: bool = True) -> list[tuple[int, str]]:
    """(id, title and version) of questionnaire versions."""
    query = db.select(QuestionnaireVersion).order_by(QuestionnaireVersion.id.desc())
    if open_only:
        query = query.where(QuestionnaireVersion.status == "open")
    return [
        (v.id, f"{v.title}（第 {v.version} 版，{v.status_name}）")
        for v in db.session.execute(query).scalars()
    ]


def _int_arg(args: MultiDict[str, str], name: str) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        abort(400)
    return int(raw) or None


def point_filter(user: User, args: MultiDict[str, str] | None = None) -> PointFilter:
    """Parse region/channel/version/status/ids query arguments; foreign regions are 404."""
    args = request.args if args is None else args
    region_id = _int_arg(args, "region")
    region = access.region_or_404(user, region_id) if region_id else None
    channel_id = _int_arg(args, "channel")
    channel = db.session.get(Channel, channel_id) if channel_id else None
    if channel_id and channel is None:
        abort(404)
    version_id = _int_arg(args, "version")
    version = db.session.get(QuestionnaireVersion, version_id) if version_id else None
    if version_id and version is None:
        abort(404)
    status = args.get("status", "")
    ids_raw = args.get("ids", "").strip()
    ids: tuple[int, ...] = ()
    if ids_raw:
        parts = ids_raw.split(",")
        if not all(p.strip().isdigit() for p in parts) or len(parts) > 5000:
            abort(400)
        ids = tuple(int(p) for p in parts)
    return PointFilter(
        region=region,
        channel=channel,
        version=version,
        status=status if status in {"active", "inactive"} else "",
        point_ids=ids,
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


def local_to_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A naive date-time typed in China time, as an aware UTC value."""
    if value is None:
        return None
    return value.replace(tzinfo=CST).astimezone(dt.UTC)


def region_by_id(region_id: int) -> Region | None:
    """The region with ``region_id`` (0 means none)."""
    return db.session.get(Region, region_id) if region_id else None


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
