"""The web layer: one blueprint per audience, each view parses, calls a service, renders.

``public`` serves residents (/q/<code>), ``admin`` the staff area (/admin), ``api`` the JSON
API (/api). Views hold no SQL; services and reporting do (checked by tests/test_layers.py).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprints and the error handlers on ``app``."""
    from survey.web import caching
    from survey.web import errors
    from survey.web import hardening
    from survey.web import staff_limit
    from survey.web.admin import bp as admin_bp
    from survey.web.api import bp as api_bp
    from survey.web.converters import IdIntegerConverter
    from survey.web.field import bp as field_bp
    from survey.web.public import bp as public_bp

    # Before any route is added: every <int:...> in a path is a 64-bit id of ASCII digits.
    app.url_map.converters["int"] = IdIntegerConverter
    hardening.init_app(app)
    staff_limit.init_app(app)
    caching.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(field_bp, url_prefix="/field")
    errors.init_app(app)
