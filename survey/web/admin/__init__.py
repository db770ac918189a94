"""Staff pages under /admin; every route requires sign-in (checked once, in views.py)."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from survey.web.admin import accounts  # noqa: E402,F401
from survey.web.admin import audit  # noqa: E402,F401
from survey.web.admin import auth  # noqa: E402,F401
from survey.web.admin import dashboard  # noqa: E402,F401
from survey.web.admin import exports  # noqa: E402,F401
from survey.web.admin import mock  # noqa: E402,F401
from survey.web.admin import paper  # noqa: E402,F401
from survey.web.admin import points  # noqa: E402,F401
from survey.web.admin import problems  # noqa: E402,F401
from survey.web.admin import qr  # noqa: E402,F401
from survey.web.admin import quality  # noqa: E402,F401
from survey.web.admin import questions  # noqa: E402,F401
from survey.web.admin import regions  # noqa: E402,F401
from survey.web.admin import settings  # noqa: E402,F401
from survey.web.admin import views  # noqa: E402,F401
