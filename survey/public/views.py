"""Resident views."""

from __future__ import annotations

from flask import abort
from flask import render_template
from flask.typing import ResponseReturnValue

from survey.extensions import db
from survey.models import CollectionPoint
from survey.public import bp


@bp.get("/")
def index() -> ResponseReturnValue:
    """Landing page for people who open the bare address."""
    return render_template("public/index.html")


@bp.get("/q/<code>")
def questionnaire(code: str) -> ResponseReturnValue:
    """Show the questionnaire of a collection point (placeholder until the form flow lands)."""
    point = db.session.execute(
        db.select(CollectionPoint).where(CollectionPoint.code == code.upper())
    ).scalar_one_or_none()
    if point is None:
        abort(404)
    return render_template("public/placeholder.html", point=point)
