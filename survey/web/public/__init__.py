"""Resident-facing pages: the QR questionnaire at /q/<code>."""

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from survey import RESIDENT_BLUEPRINT

bp = Blueprint(RESIDENT_BLUEPRINT, __name__)


@bp.record_once
def _init_scans(state: BlueprintSetupState) -> None:
    from survey.services.scans import init_app

    init_app(state.app)


from survey.web.public import views  # noqa: E402,F401
