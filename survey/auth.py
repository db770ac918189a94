"""Flask-Login wiring: how a session cookie maps back to a staff account."""

from __future__ import annotations

from survey.extensions import db
from survey.extensions import login_manager
from survey.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the active user for a session id, or None."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None
