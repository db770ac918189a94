"""Web-only extension singletons (CSRF protection), initialised in the app factory."""

from __future__ import annotations

from flask_wtf import CSRFProtect

csrf = CSRFProtect()
