"""The app that ``benchmarks/integrity.py`` serves with gunicorn: ``wsgi:app`` on a clock.

Everything is the production app under the repository's ``gunicorn.conf.py`` (gthread
workers, the ``post_worker_init`` hook that starts the sweep and flush threads), except one
thing: the time a form is served and a response submitted is read from the file named by
``SURVEY_BENCH_CLOCK`` (POSIX seconds, written by the benchmark's simulation), so that days
of residents can be played in minutes. The sweep thread, its lease and its interval run on
the real clock.
"""

from __future__ import annotations

import datetime as dt
import os

from survey import create_app
from survey.services import form_tokens
from survey.services import responses

_CLOCK = os.environ["SURVEY_BENCH_CLOCK"]


def simulated_now() -> dt.datetime:
    """The simulation's time, from its clock file."""
    with open(_CLOCK, encoding="ascii") as f:
        return dt.datetime.fromtimestamp(float(f.read()), dt.UTC)


form_tokens.utcnow = simulated_now  # type: ignore[attr-defined]
responses.utcnow = simulated_now  # type: ignore[attr-defined]

app = create_app()
