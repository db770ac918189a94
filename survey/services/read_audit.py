"""Audit entries for reads: every export and every bulk read of responses or free text.

Who (the actor), what (the action and, for a report, its questionnaire), with which filter
(the resolved report filter: version, period, region, channel, weighting, flagged, the
officer's scope) and how many rows left the server. Views call :func:`record_read` once
they know the row count and commit before the body is sent, so a download that fails
half-way is still on record.
"""

from __future__ import annotations

from typing import Any

from survey.models import AuditLog
from survey.models import User
from survey.services import audit

#: Read actions (their Chinese names are in ``audit.ACTION_NAMES``).
READ_ACTIONS: frozenset[str] = frozenset(
    {
        "export_report",
        "export_codebook",
        "export_text",
        "read_text",
        "read_responses",
        "export_population",
        "api_read",
    }
)

#: Filter fields recorded, in this order, when set.
_FILTER_FIELDS: tuple[str, ...] = (
    "version_id",
    "date_from",
    "date_to",
    "date_basis",
    "region_path",
    "channel_id",
    "weighting",
    "include_flagged",
    "scope_path",
    "level",
)


def filter_detail(flt: Any) -> dict[str, Any]:
    """The set fields of a report filter (``survey.reporting.ReportFilter``, read by
    attribute: services do not import reporting), as plain values (dates as ISO text)."""
    if flt is None:
        return {}
    out: dict[str, Any] = {}
    for name in _FILTER_FIELDS:
        value = getattr(flt, name)
        if value is None or value is False:
            continue
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def record_read(
    actor: User | None,
    action: str,
    flt: Any,
    rows: int | None,
    **detail: Any,
) -> AuditLog:
    """Audit-log one read: who, ``action``, the filter and ``rows`` sent (None: a file
    whose rows were not counted, e.g. the command line's report; its size is then given).
    Flushes."""
    if action not in READ_ACTIONS:
        raise ValueError(f"not a read action: {action}")
    return audit.record(
        actor,
        action,
        "questionnaire" if flt is not None else "",
        flt.questionnaire_id if flt is not None else None,
        filter=filter_detail(flt),
        rows=None if rows is None else int(rows),
        **detail,
    )
