"""The web side of read auditing: log the signed-in staff member's read, then commit.

Called by every export and bulk-read view (report files, the briefing, free text, a point's
responses, the population counts, the JSON API) once the row count is known and before the
body is sent (``survey.services.read_audit``).
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from survey.reporting import ReportFilter
from survey.services import transaction
from survey.services.read_audit import record_read


def audited(action: str, flt: ReportFilter | None, rows: int, **detail: Any) -> None:
    """Audit-log a read by the current staff member (see ``record_read``) and commit it."""
    actor = current_user._get_current_object()  # type: ignore[attr-defined]
    record_read(actor, action, flt, rows, **detail)
    transaction.commit()
