"""The audit log page (city admins only; the gate in views.py enforces it)."""

from __future__ import annotations

from flask import abort
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue

from survey.services import audit as audit_service
from survey.services.names import control_characters
from survey.web.admin import bp
from survey.web.filters import page_arg

PAGE_SIZE = 100


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    """Newest audit entries, filterable by action, paged."""
    action = request.args.get("action", "")
    if control_characters(action) or len(action) > 40:
        abort(400)  # no action has such a name (and PostgreSQL refuses NUL in a query)
    page_number = page_arg(request.args, "page")
    entries = audit_service.recent(
        limit=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE, action=action or None
    )
    return render_template(
        "admin/audit.html",
        entries=entries[:PAGE_SIZE],
        has_more=len(entries) > PAGE_SIZE,
        page=page_number,
        action=action,
        actions=audit_service.ACTION_NAMES,
        action_name=audit_service.action_name,
    )
