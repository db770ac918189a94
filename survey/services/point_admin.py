"""Issuing collection points one at a time or in batches, revoking and re-activating them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from survey.errors import InvalidInput
from survey.errors import PointError
from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.models.base import utcnow
from survey.services import audit
from survey.services.names import check_name
from survey.services.names import printable
from survey.services.points import create_point

DEFAULT_BATCH_LABEL = "{region}{channel}"


def issue_point(
    version: QuestionnaireVersion,
    region: Region,
    channel: Channel,
    label: str,
    expires_at: dt.datetime | None,
    actor: User | None,
) -> CollectionPoint:
    """Create one point and log it."""
    _check(version, expires_at)
    label = _checked_label(label) or printable(f"{region.name}{channel.name}")
    point = create_point(version, region, channel, label[:200], expires_at, actor)
    audit.record(
        actor, "point_issue", "point", point.id, code=point.code, region=region.code, label=label
    )
    return point


def _check(version: QuestionnaireVersion, expires_at: dt.datetime | None) -> None:
    if version.status != "open":
        raise PointError(f"问卷“{version.title}”第 {version.version} 版不在收集中，不能发放点位。")
    if expires_at is not None and expires_at <= utcnow():
        raise PointError("到期时间必须在将来。")


def batch_regions(root: Region, level: str) -> Sequence[Region]:
    """Every region at ``level`` in the subtree of ``root`` (``root`` itself included)."""
    return (
        db.session.execute(
            db.select(Region)
            .where(Region.path.startswith(root.path), Region.level == level)
            .order_by(Region.path)
        )
        .scalars()
        .all()
    )


def issue_batch(
    version: QuestionnaireVersion,
    root: Region,
    level: str,
    channel: Channel,
    label_pattern: str,
    expires_at: dt.datetime | None,
    actor: User | None,
    skip_existing: bool = True,
) -> list[CollectionPoint]:
    """One point per region at ``level`` under ``root``; skip regions that already have one."""
    _check(version, expires_at)
    regions = batch_regions(root, level)
    if not regions:
        raise PointError(f"“{root.name}”下没有这一级的区域。")
    pattern = _checked_label(label_pattern) or DEFAULT_BATCH_LABEL
    if skip_existing:
        have = set(
            db.session.execute(
                db.select(CollectionPoint.region_id).where(
                    CollectionPoint.channel_id == channel.id,
                    CollectionPoint.questionnaire_version_id == version.id,
                    CollectionPoint.active.is_(True),
                    CollectionPoint.region_id.in_([r.id for r in regions]),
                )
            ).scalars()
        )
        regions = [r for r in regions if r.id not in have]
    points = [
        create_point(
            version, region, channel, _label(pattern, region, channel)[:200], expires_at, actor
        )
        for region in regions
    ]
    audit.record(
        actor,
        "point_batch",
        "region",
        root.id,
        region=root.code,
        level=level,
        channel=channel.code,
        count=len(points),
        codes=[p.code for p in points][:500],
    )
    return points


def _label(pattern: str, region: Region, channel: Channel) -> str:
    parent = region.parent.name if region.parent else ""
    # Names stored before control characters were refused must not reach a new label.
    return printable(
        pattern.replace("{region}", region.name)
        .replace("{parent}", parent)
        .replace("{channel}", channel.name)
    )


def _checked_label(label: str) -> str:
    try:
        return check_name(label, "点位名称", max_length=200)
    except InvalidInput as exc:
        raise PointError(str(exc)) from exc


def relabel(point: CollectionPoint, label: str, actor: User | None) -> str:
    """Change the label printed under a point's QR code (audit-logged); return the old one."""
    new = _checked_label(label)
    if not new:
        raise PointError("点位名称不能为空。")
    old = point.label
    if new != old:
        point.label = new
        db.session.flush()
        audit.record(actor, "point_relabel", "point", point.id, code=point.code, old=old, new=new)
    return old


def revoke(point: CollectionPoint, actor: User | None) -> None:
    """Stop a point from accepting responses (its link then answers 410)."""
    if not point.active:
        return
    point.active = False
    point.revoked_at = utcnow()
    db.session.flush()
    audit.record(actor, "point_revoke", "point", point.id, code=point.code)


def reactivate(point: CollectionPoint, actor: User | None) -> None:
    """Accept responses again at a revoked point."""
    if point.active:
        return
    point.active = True
    point.revoked_at = None
    db.session.flush()
    audit.record(actor, "point_reactivate", "point", point.id, code=point.code)
