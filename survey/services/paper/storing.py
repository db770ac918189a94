"""Storing a checked file of paper questionnaires, and the audit entry of every import.

Each row is built by the QR flow's ``response_values`` (what ``write_response`` writes) with
the point's placement and integrity screen from ``survey.services.resident``, and written
500 at a time (``write_many``: two multi-row statements instead of two per response).
Only what paper lacks differs: no device, form instance, network or browser (NULL), no
clock (``Screen(timed=False)``), and the point's collection window compared by whole days
(a paper has a date, not a time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from survey.errors import Conflict
from survey.extensions import db
from survey.models import PaperBatch
from survey.models import PaperResponse
from survey.models import User
from survey.models.base import utcnow
from survey.services import access
from survey.services import audit
from survey.services import resident
from survey.services.integrity.screening import Screen
from survey.services.integrity.screening import Window
from survey.services.paper.importing import Checked
from survey.services.paper.importing import Progress
from survey.services.paper.importing import Ready
from survey.services.paper.importing import Target
from survey.services.paper.importing import check
from survey.services.paper.importing import read_file
from survey.services.resident import PointInfo
from survey.services.responses import response_values
from survey.services.responses import write_many
from survey.timeutil import CST

SOURCE = "paper"
#: Responses written per round of multi-row statements.
CHUNK = 500


@dataclass
class ImportResult:
    """What an import did: the checked file, and the batch it stored (None: refused)."""

    checked: Checked
    batch: PaperBatch | None = None
    #: Responses stored.
    stored: int = 0


def import_file(
    filename: str, data: bytes, user: User | None, progress: Progress | None = None
) -> ImportResult:
    """Check a filled template and store all its rows, or none (every bad cell listed).

    A refused file is audit-logged too (the only write then); the caller commits either way.
    Flushes only.
    """
    parsed = read_file(filename, data)
    checked = check(parsed, user, progress)
    if not checked.ok:
        record(user, filename, len(parsed.rows), "refused", errors=len(checked.errors))
        return ImportResult(checked)
    batch = new_batch(parsed.target, user, filename, len(parsed.rows))
    store_rows(batch, parsed.target, checked.ready, progress)
    record(user, filename, len(parsed.rows), "stored", batch=batch.id)
    return ImportResult(checked, batch, len(checked.ready))


def new_batch(
    target: Target, user: User | None, filename: str, rows: int, **fields: Any
) -> PaperBatch:
    """A batch row for an import by ``user`` (flushed)."""
    root = access.scope_root(user) if user is not None else None
    batch = PaperBatch(
        questionnaire_version_id=target.version.id,
        region_id=root.id if root is not None else None,
        created_by_id=user.id if user is not None else None,
        created_by_name=user.username if user is not None else "(命令行)",
        file_a=filename[:200],
        row_count=rows,
        status=fields.pop("status", "stored"),
        double_entry=fields.pop("double_entry", False),
        compared_cells=0,
        mismatch_count=0,
        stored_count=0,
        **fields,
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def store_rows(
    batch: PaperBatch, target: Target, rows: Sequence[Ready], progress: Progress | None = None
) -> None:
    """Write ``rows`` as responses of ``batch`` and their serials: each response's values
    built by the QR flow's own ``response_values`` (scores, flags, groupings), written
    ``CHUNK`` at a time (``write_many``)."""
    defn = target.defn
    screens: dict[int, Screen] = {}
    region_ids: dict[int, dict[str, int]] = {}
    links: list[dict[str, Any]] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        built = []
        for r in chunk:
            point = r.point
            if point.id not in screens:
                screens[point.id] = paper_screen(point)
                region_ids[point.id] = dict(resident.region_options(point, defn).ids)
            built.append(
                response_values(
                    resident.placement(point),
                    defn,
                    r.answers.answers,
                    others=r.answers.others,
                    region_ids=region_ids[point.id],
                    served_at=None,
                    device_hash=None,
                    form_instance=None,
                    submitted_at=r.submitted,
                    source=SOURCE,
                    screen=screens[point.id],
                )
            )
        for r, response_id in zip(chunk, write_many(built), strict=True):
            links.append(
                {
                    "response_id": response_id,
                    "point_id": r.point.id,
                    "serial": r.serial,
                    "batch_id": batch.id,
                }
            )
        if progress is not None:
            progress("store", start + len(chunk), len(rows))
    _link(links)
    batch.stored_count = len(rows)
    batch.stored_at = utcnow()
    batch.status = "stored"
    db.session.flush()


def _link(links: list[dict[str, Any]]) -> None:
    """The serials of the stored responses; the caller rolls back on ``Conflict``."""
    if not links:
        return
    try:
        db.session.connection().execute(insert(PaperResponse.__table__), links)
    except IntegrityError:  # another import stored one of these serials meanwhile
        raise Conflict(
            "另一个导入刚刚存入了相同点位、相同编号的问卷，本次未导入任何问卷。"
            "请重新导入本文件，已存入的编号会被逐一列出。"
        ) from None


def paper_screen(point: PointInfo) -> Screen:
    """The QR flow's screen of ``point`` without what paper lacks: no network or browser,
    no clock, the collection window by whole days."""
    base = resident.screen(point, current_app.config, honeypot="", address=None, user_agent=None)
    return dataclasses.replace(
        base, network_hash=None, agent_hash=None, window=by_days(point.window()), timed=False
    )


def by_days(window: Window | None) -> Window | None:
    """``window`` widened to whole local days, without daily hours (a paper has no time)."""
    if window is None or (window.starts_at is None and window.ends_at is None):
        return None
    start = end = None
    if window.starts_at is not None:
        day = window.starts_at.astimezone(CST).date()
        start = dt.datetime.combine(day, dt.time(0), CST).astimezone(dt.UTC)
    if window.ends_at is not None:
        last = (window.ends_at - dt.timedelta(microseconds=1)).astimezone(CST).date()
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), CST).astimezone(dt.UTC)
    return Window(start, end)


def record(user: User | None, filename: str, rows: int, outcome: str, **detail: Any) -> None:
    """Audit one import: who, the file's name, its rows, stored or refused (flushes)."""
    audit.record(
        user,
        "paper_import",
        "paper_batch",
        detail.get("batch"),
        file=filename[:100],
        rows=rows,
        outcome=outcome,
        **detail,
    )


def refused(user: User | None, filename: str, message: str) -> None:
    """Audit a file refused as a whole (unreadable, not a template); the caller commits."""
    record(user, filename, 0, "refused", reason=message[:200])
