"""gunicorn settings for ``make run`` (read from the working directory automatically).

Command-line flags still win (the Makefile passes ``--workers``, ``--bind`` and
``--access-logfile -``). See the README's "Deploying" section.

- gthread workers (``survey.head_first_worker.HeadFirstWorker``: gunicorn's gthread, except
  that a connection gets a thread only once its whole request head has arrived; a head
  that trickles in is cut with 408 after ``SURVEY_HEAD_TIMEOUT`` seconds without ever
  holding a thread); a stalled request body is cut after ``BODY_TIMEOUT`` seconds between
  two reads (``survey.serving.limit_body_wait``). Threads
  per worker were measured with ``benchmarks/load.py`` (``SURVEY_THREADS`` overrides).
- ``umask`` 0077: files the server creates (the SQLite database, its ``-wal``/``-shm``)
  are readable by the service account only.
- ``post_worker_init``: once a worker has loaded the app, its startup objects are frozen
  out of the garbage collector's reach (``survey.serving.freeze_startup_heap``).
- ``post_worker_init`` then starts the worker's background jobs with the real app object:
  the integrity sweep every ``SURVEY_INTEGRITY_SWEEP_SECONDS`` (a lease lets one worker
  sweep at a time; 0 leaves it to cron and ``survey integrity sweep``) and the scan-tally
  flush every ``SURVEY_SCAN_FLUSH_SECONDS`` (``survey.serving.start_background``).
- ``PrivacyLogger``: resident requests are logged without client address, user agent or
  referrer (the README promises no raw IP addresses); staff requests keep them.
"""

import os

from survey.serving import freeze_startup_heap
from survey.serving import limit_body_wait
from survey.serving import start_background

worker_class = "survey.head_first_worker.HeadFirstWorker"
workers = int(os.environ.get("SURVEY_WORKERS", "2"))
threads = int(os.environ.get("SURVEY_THREADS", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 2
umask = 0o077
logger_class = "survey.serving.PrivacyLogger"
accesslog = os.environ.get("SURVEY_ACCESS_LOG", "-")


BODY_TIMEOUT = float(os.environ.get("SURVEY_BODY_TIMEOUT", "10"))


def pre_request(worker, req):
    """Bound how long a worker thread waits for a request body."""
    limit_body_wait(req, BODY_TIMEOUT)


def post_worker_init(worker):
    """Freeze what the worker built at start, then start its background jobs."""
    freeze_startup_heap()
    start_background(worker)
