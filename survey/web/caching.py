"""No staff response is kept by a browser or a shared cache: ``Cache-Control: private,
no-store`` on every page, export, chart, QR image and API answer under ``/admin`` and
``/api``, error pages included.

Reports carry a region's figures and residents' comments: a shared proxy must not serve
them to another user, and a browser must not keep them on disk after the officer signs out
(the back button then asks the server again, which checks the session). Set after every
view, so it also overrides what a view set itself (older views said ``no-store`` only).
Resident pages (``/q/...``) set their own caching.
"""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import request

#: Paths of the staff area and the API (the app's own, below any proxy prefix).
STAFF_PREFIXES = ("/admin", "/api")
STAFF_CACHE_CONTROL = "private, no-store"


def init_app(app: Flask) -> None:
    """Send ``private, no-store`` on every staff and API response."""

    @app.after_request
    def _no_store_for_staff(response: Response) -> Response:
        if request.path.startswith(STAFF_PREFIXES):
            response.headers["Cache-Control"] = STAFF_CACHE_CONTROL
        return response
