"""Configuration: safe defaults, then ``SURVEY_*`` environment variables, then test overrides."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from survey.errors import ConfigError

DEFAULTS: dict[str, Any] = {
    # Public base URL used in QR links and printed sample links.
    "BASE_URL": "http://127.0.0.1:5000",
    # Resident page limits.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "MAX_FORM_PARTS": 400,
    # The one larger body: a filled paper-questionnaire template (or two, for double entry)
    # uploaded to /admin/paper (10,000 rows of the bundled questionnaire: about 3 MB).
    "PAPER_MAX_UPLOAD_BYTES": 32 * 1024 * 1024,
    # Device cookie that enforces one response per resident per questionnaire.
    "DEVICE_COOKIE_NAME": "sv_device",
    "DEVICE_COOKIE_MAX_AGE": 2 * 365 * 24 * 3600,
    # Proxies in front of the app allowed to set X-Forwarded-* (1 behind one TLS proxy).
    "TRUSTED_PROXIES": 0,
    # Content-Security-Policy of every response (None: survey.web.hardening.DEFAULT_CSP).
    "CONTENT_SECURITY_POLICY": None,
    # Integrity (survey.services.integrity; README "Survey integrity"). A response is too fast
    # below the reading-time model of its visible questions: characters read per second,
    # seconds per answer, characters typed per second, and a floor in seconds.
    "INTEGRITY_READING_CPS": 25.0,
    "INTEGRITY_SECONDS_PER_ANSWER": 0.5,
    "INTEGRITY_TYPING_CPS": 3.0,
    "MIN_PLAUSIBLE_SECONDS": 10,
    # Channels whose residents are expected to live in the point's district (weak signal).
    "INTEGRITY_LOCAL_CHANNELS": "notice_board,door_to_door",
    # The sweep over new responses: every N seconds in each web process (0: only through
    # `survey integrity sweep`, e.g. from cron), responses younger than the settle time
    # wait for the next sweep, at most this many responses per sweep.
    "INTEGRITY_SWEEP_SECONDS": 60,
    "INTEGRITY_SETTLE_SECONDS": 10,
    "INTEGRITY_SWEEP_BATCH": 5000,
    # Detector thresholds (survey.services.integrity.patterns.Thresholds).
    "INTEGRITY_LOOKBACK_MINUTES": 60,
    "INTEGRITY_BATCH_SECONDS": 10,
    "INTEGRITY_BATCH_MIN": 8,
    "INTEGRITY_BATCH_SERVED_SPREAD": 120,
    "INTEGRITY_SERIAL_GAP_SECONDS": 30,
    "INTEGRITY_SERIAL_MIN": 5,
    "INTEGRITY_BURST_MINUTES": 10,
    "INTEGRITY_BURST_MIN": 20,
    "INTEGRITY_BURST_FACTOR": 5.0,
    "INTEGRITY_NETWORK_MINUTES": 10,
    "INTEGRITY_NETWORK_DEVICES": 15,
    "INTEGRITY_ANSWER_WINDOW": 40,
    "INTEGRITY_UNIFORM_SHARE": 0.6,
    "INTEGRITY_UNIFORM_CITY_FACTOR": 3.0,
    "INTEGRITY_SKEW_RATIO": 0.6,
    "INTEGRITY_JUMP_DELTA": 0.3,
    "INTEGRITY_ODD_HOUR_SHARE": 0.01,
    "INTEGRITY_ODD_HOUR_MIN": 6,
    # The city's answer distribution the answer signals compare with: refreshed after this
    # many seconds, from this many recent responses that count in estimates.
    "INTEGRITY_BASELINE_SECONDS": 600,
    "INTEGRITY_BASELINE_SAMPLE": 1500,
    # Session cookies for staff. SESSION_COOKIE_SECURE and REMEMBER_COOKIE_SECURE follow
    # the scheme of BASE_URL unless set (see load_config).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # How long a CSRF token holds (seconds): staff forms', and a resident page's form instance
    # (its CSRF token), which must survive a slow resident.
    "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    # Login throttling (survey.services.login_throttle): failures of one username from one
    # address before backoff starts, the first backoff (doubling per further failure, at
    # most LOGIN_LOCK_SECONDS); failures of one username from everywhere and of one address
    # for every username within LOGIN_LOCK_SECONDS before those lock; days an address where
    # a user signed in stays exempt from the username and address locks.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_BACKOFF_SECONDS": 30,
    "LOGIN_MAX_FAILURES_PER_USERNAME": 50,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_LOCK_SECONDS": 15 * 60,
    "LOGIN_TRUSTED_DAYS": 30,
    # Scan counting: a worker writes its tally after this many seconds or pending scans
    # (0 seconds: every scan at once).
    "SCAN_FLUSH_SECONDS": 5.0,
    "SCAN_FLUSH_MAX": 200,
    # Per-process caches (survey.cache): lifetime of entries that may go stale (points read
    # by code, region options, districts of region paths) and the size of every cache.
    "CACHE_SECONDS": 60,
    "CACHE_POINTS_SIZE": 4096,
    "CACHE_DISTRICTS_SIZE": 4096,
    "CACHE_REGION_OPTIONS_SIZE": 64,
    "CACHE_DEFINITIONS_SIZE": 64,
    "CACHE_FORM_CLASSES_SIZE": 64,
    "CACHE_PAGES_SIZE": 1024,
    "CACHE_SERIALIZERS_SIZE": 16,
    "CACHE_CLIENTS_SIZE": 4096,
    # Rendered QR posters (PNG about 2 KB, SVG about 6 KB): a 2,000-point batch exported
    # again is served from memory.
    "CACHE_POSTERS_SIZE": 2048,
    "CACHE_INTEGRITY_SIZE": 256,
    # Weighting: a post-stratification cell with fewer respondents is merged with a neighbour
    # (issue 24). The city admin's value on the targets page wins over this default.
    "MIN_CELL_N": 5,
    # SQLALCHEMY_ENGINE_OPTIONS default per database in load_config (pre-ping on servers only).
    "SQLITE_BUSY_TIMEOUT_MS": 10_000,
    # Heavy staff requests (reports, exports, quality pages, the API) running at once in
    # one worker process; one more gets a 503 with Retry-After (survey.web.staff_limit).
    # 0: no bound.
    "HEAVY_REQUESTS": 1,
    "HEAVY_RETRY_SECONDS": 5,
}


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` from defaults, the environment and the optional test mapping."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        # SURVEY_DATABASE_URL -> DATABASE_URL, SURVEY_SECRET_KEY -> SECRET_KEY, ...
        app.config.from_prefixed_env("SURVEY")
    else:
        app.config.from_mapping(test_config)

    instance = Path(app.instance_path)
    owner_only_folder(instance)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'survey.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")
    # Staff cookies are Secure when the site is served over HTTPS, unless set explicitly.
    explicit = (
        set(test_config)
        if test_config is not None
        else {k.removeprefix("SURVEY_") for k in os.environ if k.startswith("SURVEY_")}
    )
    https = app.config["BASE_URL"].startswith("https://")
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if key not in explicit:
            app.config[key] = https


def owner_only_folder(folder: Path) -> None:
    """Create ``folder`` as 0700 (it holds the secret key, the demo password and the SQLite
    database), or narrow an existing one of ours that others could read."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        info = folder.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            folder.chmod(0o700)
    except OSError:  # pragma: no cover - a folder we may use but not change
        pass


def normalise_database_url(url: str) -> str:
    """Make ``postgresql://`` URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict[str, Any]:
    """Default engine options: ``pool_pre_ping`` for database servers, none for SQLite.

    A server connection can die while it sits in the pool (restart, idle timeout), so it is
    pinged on checkout. A SQLite connection is a file handle that cannot go stale; pinging it
    would only add a ``SELECT 1`` to every request.
    """
    if url.startswith("sqlite"):
        return {}
    return {"pool_pre_ping": True}


def _instance_secret(path: Path) -> str:
    """Return the secret kept in ``instance/``, generating it once (never committed)."""
    try:
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value)
    return value


def validate_config(app: Flask) -> None:
    """Refuse to start with settings that cannot work."""
    base = app.config["BASE_URL"]
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"SURVEY_BASE_URL must start with http:// or https://, got {base!r}")
    if len(str(app.config["SECRET_KEY"])) < 16:
        raise ConfigError("SURVEY_SECRET_KEY must be at least 16 characters long")
