"""JSON API under /api; every route except /api/health requires sign-in."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from survey.web.api import estimates  # noqa: E402,F401
from survey.web.api import problems  # noqa: E402,F401
from survey.web.api import views  # noqa: E402,F401
