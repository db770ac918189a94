"""The interviewers' field form under /field: works offline once loaded (service worker,
IndexedDB), queues interviews and contact attempts, and syncs them once each."""

from flask import Blueprint

bp = Blueprint("field", __name__)

from survey.web.field import views  # noqa: E402,F401
