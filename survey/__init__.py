"""The 两率一度 survey engine web application."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask import Request
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

#: The blueprint of resident pages (``survey.web.public``).
RESIDENT_BLUEPRINT = "public"
#: Where its questionnaires and thank-you pages are (the QR codes point here).
RESIDENT_PATH_PREFIX = "/q/"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; ``test_config`` replaces environment configuration."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "SURVEY_INSTANCE_PATH"
    )
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    from survey.config import load_config
    from survey.config import validate_config

    load_config(app, test_config)
    register_extensions(app)
    register_web(app)
    register_commands(app)
    validate_config(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the database, CSRF protection and login manager to the app."""
    from survey import cache
    from survey.database import configure_engine_events
    from survey.extensions import db
    from survey.extensions import login_manager
    from survey.web.extensions import csrf

    db.init_app(app)
    cache.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    csrf.init_app(app)
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(_user_context)
    app.session_interface = CachedSerializerSessionInterface()
    login_manager.login_view = "admin.login"
    login_manager.login_message = "请先登录。"
    import survey.auth  # noqa: F401  (registers the user loader)


def _user_context() -> dict[str, Any]:
    """``current_user`` for templates, as Flask-Login's own processor gives it, except that
    resident pages (which never show it) get the lazy proxy: loading the user there would
    only cost a session lookup and a hash per page.
    """
    from flask import has_request_context
    from flask import request
    from flask_login import current_user

    if has_request_context() and request.blueprint == RESIDENT_BLUEPRINT:
        return {"current_user": current_user}
    return {"current_user": current_user._get_current_object()}


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, with the signing serializer built once per key set,
    and no session at all on resident pages.

    Flask builds a new ``URLSafeTimedSerializer`` on every open and save; it depends only on
    ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``, so it is kept until those change. Same
    cookies, same signatures.

    Questionnaire pages (under ``/q/``) keep nothing in a session (their CSRF token is
    bound to the device cookie, ``survey.services.form_tokens``): they get Flask's null
    session, which can be read (empty) but raises on any write, and nothing is saved, so
    a staff session cookie a browser also sends is neither decoded nor sent back there.
    (The session is opened before the URL is matched, so this goes by the path.)
    """

    def __init__(self) -> None:
        self._cached: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session; the null session on questionnaire pages."""
        if request.path.startswith(RESIDENT_PATH_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer of the current keys (built again when a key changes)."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._cached
        if cached is None or cached[0] != keys:
            cached = (keys, super().get_signing_serializer(app))
            self._cached = cached
        return cached[1]


def register_web(app: Flask) -> None:
    """Blueprints per audience (residents, staff, JSON API) and the error handlers."""
    from survey.web import init_app

    init_app(app)


def register_commands(app: Flask) -> None:
    """Attach the ``survey`` CLI command groups."""
    from survey.cli import init_app

    init_app(app)
