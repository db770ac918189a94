"""Staff pages under /admin; every route requires sign-in (checked once, in views.py)."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from survey.admin import accounts  # noqa: E402,F401
from survey.admin import audit  # noqa: E402,F401
from survey.admin import auth  # noqa: E402,F401
from survey.admin import points  # noqa: E402,F401
from survey.admin import qr  # noqa: E402,F401
from survey.admin import regions  # noqa: E402,F401
from survey.admin import views  # noqa: E402,F401
