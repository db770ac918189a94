"""The one builder of public links: what a QR code encodes and staff copy into a push."""

from __future__ import annotations

from flask import current_app


def questionnaire_url(code: str, base_url: str | None = None) -> str:
    """The resident link of collection point ``code`` under ``base_url`` (default: config)."""
    base = base_url if base_url is not None else current_app.config["BASE_URL"]
    return f"{base.rstrip('/')}/q/{code}"
