"""Channels and collection points: scans, completion (scans -> responses) and their figures."""

from __future__ import annotations

from collections.abc import Hashable
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import PointScanDaily
from survey.models import QuestionnaireVersion
from survey.reporting.filters import ReportFilter
from survey.reporting.filters import scan_days
from survey.reporting.region_index import NOTHING
from survey.reporting.region_index import RegionIndex
from survey.reporting.region_index import effective_path
from survey.reporting.results import ChannelRow
from survey.reporting.results import Completion
from survey.reporting.results import Estimate


@dataclass(frozen=True)
class PointInfo:
    """Labels of a collection point."""

    code: str
    label: str
    region_id: int
    channel_id: int


def scans_by_point(
    bind: Session | Connection, flt: ReportFilter, regions: RegionIndex
) -> dict[int, int]:
    """Scans per collection point in the report's period, area, questionnaire and channel."""
    path = effective_path(flt.region_path, flt.scope_path)
    if path == NOTHING:
        return {}
    start, end = scan_days(flt)
    query = (
        select(PointScanDaily.point_id, func.sum(PointScanDaily.scans))
        .join(CollectionPoint, CollectionPoint.id == PointScanDaily.point_id)
        .join(
            QuestionnaireVersion,
            QuestionnaireVersion.id == CollectionPoint.questionnaire_version_id,
        )
        .where(QuestionnaireVersion.questionnaire_id == flt.questionnaire_id)
        .group_by(PointScanDaily.point_id)
    )
    if start is not None:
        query = query.where(PointScanDaily.day >= start)
    if end is not None:
        query = query.where(PointScanDaily.day <= end)
    if flt.version_id is not None:
        query = query.where(CollectionPoint.questionnaire_version_id == flt.version_id)
    if flt.channel_id is not None:
        query = query.where(CollectionPoint.channel_id == flt.channel_id)
    if path is not None:
        query = query.where(CollectionPoint.region_id.in_(regions.subtree_ids(path)))
    rows = bind.execute(query).all()
    return {int(point): int(total or 0) for point, total in rows}


def point_infos(bind: Session | Connection, point_ids: list[int]) -> dict[int, PointInfo]:
    """Code, label, region and channel of the given points."""
    if not point_ids:
        return {}
    rows = bind.execute(
        select(
            CollectionPoint.id,
            CollectionPoint.code,
            CollectionPoint.label,
            CollectionPoint.region_id,
            CollectionPoint.channel_id,
        ).where(CollectionPoint.id.in_(sorted(point_ids)))
    ).all()
    return {int(r[0]): PointInfo(r[1], r[2], int(r[3]), int(r[4])) for r in rows}


def channel_names(bind: Session | Connection) -> dict[int, tuple[str, str]]:
    """(code, Chinese name) of every channel."""
    rows = bind.execute(select(Channel.id, Channel.code, Channel.name)).all()
    return {int(i): (code, name) for i, code, name in rows}


def completion(scans: int, responses: int) -> Completion:
    """Responses per scan; never a rate above 100%: say why instead."""
    if scans <= 0:
        note = (
            "无扫码记录" if responses == 0 else f"无扫码记录（有 {responses} 份答卷，非扫码提交）"
        )
        return Completion(scans, responses, None, note)
    if responses > scans:
        return Completion(
            scans,
            responses,
            None,
            f"答卷数（{responses}）多于扫码数（{scans}）：部分答卷不是扫码提交，或扫码计数不全",
        )
    return Completion(scans, responses, responses / scans)


def channel_rows(
    frame: pd.DataFrame,
    flagged: pd.DataFrame,
    scans: Mapping[int, int],
    points: Mapping[int, PointInfo],
    names: Mapping[int, tuple[str, str]],
    estimates: Mapping[str, Mapping[Hashable, Estimate]],
    flagged_included: bool,
) -> list[ChannelRow]:
    """One row per channel with responses or scans, by responses (most first)."""
    included = frame.groupby("channel_id")["n"].sum()
    excluded = (
        flagged.groupby("channel_id")["flagged"].sum()
        if not flagged.empty
        else pd.Series(dtype="int64")
    )
    scan_totals: dict[int, int] = {}
    for point, count in scans.items():
        info = points.get(point)
        if info is not None:
            scan_totals[info.channel_id] = scan_totals.get(info.channel_id, 0) + count
    keys = {int(k) for k in included.index if pd.notna(k)} | set(scan_totals)
    rows = []
    for key in keys:
        n = int(included.get(key, 0))
        out = int(excluded.get(key, 0))
        code, name = names.get(key, ("", "（未知渠道）"))
        rows.append(
            ChannelRow(
                key=key,
                label=name,
                code=code,
                completion=completion(scan_totals.get(key, 0), n if flagged_included else n + out),
                included=n,
                flagged=out,
                metrics={m: by.get(key) or Estimate.empty(m) for m, by in estimates.items()},
            )
        )
    return sorted(rows, key=lambda r: (-r.included, r.key))


def point_rows(
    frame: pd.DataFrame,
    flagged: pd.DataFrame,
    scans: Mapping[int, int],
    points: Mapping[int, PointInfo],
    names: Mapping[int, tuple[str, str]],
    regions: RegionIndex,
    estimates: Mapping[str, Mapping[Hashable, Estimate]],
    flagged_included: bool,
) -> list[ChannelRow]:
    """One row per collection point with responses or scans (sort in the view)."""
    with_point = frame[frame["point_id"].notna()]
    included = with_point.groupby("point_id")["n"].sum()
    excluded = (
        flagged[flagged["point_id"].notna()].groupby("point_id")["flagged"].sum()
        if not flagged.empty
        else pd.Series(dtype="int64")
    )
    keys = {int(k) for k in included.index} | set(scans)
    rows = []
    for key in keys:
        info = points.get(key)
        n, out = int(included.get(key, 0)), int(excluded.get(key, 0))
        region = regions.by_id.get(info.region_id) if info else None
        rows.append(
            ChannelRow(
                key=key,
                label=info.label if info else f"点位 {key}",
                code=info.code if info else "",
                region=region.name if region else "",
                channel=names.get(info.channel_id, ("", ""))[1] if info else "",
                completion=completion(scans.get(key, 0), n if flagged_included else n + out),
                included=n,
                flagged=out,
                metrics={m: by.get(key) or Estimate.empty(m) for m, by in estimates.items()},
            )
        )
    return sorted(rows, key=lambda r: (-r.included, r.key))
