"""Flask-Login wiring: how a session cookie maps back to a staff account.

The cookie holds ``<user id>:<session token>``; the account loads only while its token is
the same, so ending a user's sessions (``survey.services.users.end_sessions``) takes effect
on the next request of every copy of every cookie.
"""

from __future__ import annotations

from survey.extensions import login_manager
from survey.models import User


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Return the active user whose current session token the cookie carries, or None."""
    from survey.services.users import session_user

    return session_user(session_id)
