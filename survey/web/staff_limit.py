"""A per-process bound on concurrent heavy staff requests, so residents always find a thread.

A gthread worker has a fixed pool of threads (``gunicorn.conf.py``: 4). Reports, exports,
quality pages and the JSON API can take seconds of CPU each at a few hundred thousand
responses; eight staff members (or one account in eight tabs) asking for
``/admin/questions?weighting=rake`` at once held every thread of every worker, and a
resident's form waited 29 s for one. So at most ``SURVEY_HEAVY_REQUESTS`` heavy staff
requests run at once in each worker process (default 1: with 4 threads, 3 stay for
residents and light staff pages); one more is answered at once with a Chinese
"系统繁忙" page (JSON under ``/api``), status 503 and ``Retry-After:
SURVEY_HEAVY_RETRY_SECONDS``. Nothing waits for a slot: a waiting request would hold a
thread itself.

Why not a job queue or separate staff workers: a bound needs no new process, no state to
clean up, works the same under ``make run``, plain gunicorn and the tests, and covers
every staff endpoint at once, including ones written later. Staff get an honest answer
instead of a page that hangs; residents keep their threads.

Every request of the staff area and the API counts as heavy unless its endpoint is in
:data:`LIGHT_ENDPOINTS` (sign-in, forms and short lists whose cost does not grow with the
number of responses). The slot is held until the response is built, a streamed body (the
raw CSV export) until its last byte is sent, and it is released on every path (error,
client gone).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import make_response
from flask import request

from survey.web.errors import render_error

#: Blueprints whose requests are staff requests.
STAFF_BLUEPRINTS: frozenset[str] = frozenset({"admin", "api"})
#: Staff endpoints whose work does not grow with the number of responses.
LIGHT_ENDPOINTS: frozenset[str] = frozenset(
    {
        "admin.login",
        "admin.logout",
        "api.health",
        "admin.users",
        "admin.user_create",
        "admin.user_edit",
        "admin.user_password",
        "admin.user_unlock",
        "admin.audit",
        "admin.regions",
        "admin.region_create",
        "admin.region_rename",
        "admin.population_table",
        "admin.target_settings",
        "admin.point_new",
        "admin.point_detail",
        "admin.point_relabel",
        "admin.point_revoke",
        "admin.point_reactivate",
        "admin.point_qr_png",
        "admin.point_qr_svg",
        "admin.quality_review",
        "admin.quality_window",
    }
)
BUSY_MESSAGE = (
    "正在生成的统计报表和导出较多，服务器暂时无法再接受新的报表请求。"
    "为保证居民填答问卷不受影响，请约 {seconds} 秒后刷新本页重试。"
)


class HeavySlots:
    """A per-process counter of heavy requests in progress, bounded by ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self.running = 0
        self.refused = 0

    def try_acquire(self) -> bool:
        """Take a slot if one is free (never waits)."""
        with self._lock:
            if self.limit and self.running >= self.limit:
                self.refused += 1
                return False
            self.running += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.running -= 1


class _Held:
    """One request's slot: released exactly once, when the body is sent or on error."""

    def __init__(self, slots: HeavySlots) -> None:
        self.slots = slots
        self.released = False
        self.deferred = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self.released:
                return
            self.released = True
        self.slots.release()


def init_app(app: Flask) -> None:
    """Bound heavy staff requests per process (``HEAVY_REQUESTS``; 0 turns the bound off)."""
    limit = int(app.config.get("HEAVY_REQUESTS", 1))
    if limit < 0:
        raise ValueError("SURVEY_HEAVY_REQUESTS must be 0 (no bound) or a positive number")
    slots = HeavySlots(limit)
    app.extensions["heavy_slots"] = slots
    app.before_request(_take_slot)
    app.after_request(_defer_release)
    app.teardown_request(_release_on_teardown)


def is_heavy(blueprint: str | None, endpoint: str | None) -> bool:
    """True for a staff request that counts against the bound."""
    return blueprint in STAFF_BLUEPRINTS and (endpoint or "") not in LIGHT_ENDPOINTS


def _take_slot() -> Response | None:
    if not is_heavy(request.blueprint, request.endpoint):
        return None
    slots: HeavySlots = current_app.extensions["heavy_slots"]
    if slots.limit == 0:
        return None
    if not slots.try_acquire():
        return busy_response()
    g.heavy_slot = _Held(slots)
    return None


def busy_response() -> Response:
    """503 with ``Retry-After`` and the Chinese "busy" page (JSON under /api)."""
    seconds = int(current_app.config.get("HEAVY_RETRY_SECONDS", 5))
    response = make_response(render_error(503, BUSY_MESSAGE.format(seconds=seconds)))
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def _defer_release(response: Response) -> Response:
    """A streamed body keeps the slot until its last chunk is sent or the client is gone
    (a body already in memory gives it back at teardown, below)."""
    held: _Held | None = g.get("heavy_slot")
    if held is not None and response.is_streamed:
        held.deferred = True
        response.response = _releasing(response.response, held)
        response.call_on_close(held.release)
    return response


def _releasing(body: Iterable[Any], held: _Held) -> Iterator[Any]:
    try:
        yield from body
    finally:
        held.release()


def _release_on_teardown(_exc: Any) -> None:
    held: _Held | None = g.pop("heavy_slot", None)
    if held is not None and not held.deferred:
        held.release()
