"""Resident-facing pages: the QR questionnaire at /q/<code>."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from survey.public import views  # noqa: E402,F401
