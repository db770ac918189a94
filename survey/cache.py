"""The one cache module: named, bounded, per-process caches of things that rarely change.

Every cache the application keeps lives here, with its size and lifetime in
``config.DEFAULTS`` (``CACHE_*``): collection points read by code (thank-you pages), the
district of a region path, a city's region options, parsed questionnaire definitions, form
classes, pre-rendered resident pages, signing serializers and keys, clients' keyed
network and browser hashes, rendered QR posters and the integrity baselines. Entries are
evicted least recently used when a cache is full and, for caches with a lifetime, after
``CACHE_SECONDS``.
Each app has its own set (``app.extensions["survey_cache"]``), so tests with many apps and
databases never share entries. The caches are safe to use from several threads.

Only values that may be a minute stale are cached: revocation, expiry and duplicate checks
always read the database (see ``survey.services.resident``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from cachetools import LRUCache
from cachetools import TTLCache
from flask import Flask
from flask import current_app

V = TypeVar("V")


@dataclass(frozen=True)
class CacheSpec:
    """Config keys of one cache's size and (optional) lifetime in seconds."""

    size_key: str
    seconds_key: str | None = None


#: Every cache of the application, by name.
SPECS: dict[str, CacheSpec] = {
    "points": CacheSpec("CACHE_POINTS_SIZE", "CACHE_SECONDS"),
    "districts": CacheSpec("CACHE_DISTRICTS_SIZE", "CACHE_SECONDS"),
    "region_options": CacheSpec("CACHE_REGION_OPTIONS_SIZE", "CACHE_SECONDS"),
    "definitions": CacheSpec("CACHE_DEFINITIONS_SIZE"),
    "form_classes": CacheSpec("CACHE_FORM_CLASSES_SIZE"),
    "pages": CacheSpec("CACHE_PAGES_SIZE"),
    "serializers": CacheSpec("CACHE_SERIALIZERS_SIZE"),
    # Keyed hashes of a client's network prefix and browser family (pure derivations).
    "clients": CacheSpec("CACHE_CLIENTS_SIZE"),
    "posters": CacheSpec("CACHE_POSTERS_SIZE"),
    # Integrity: a city's answer baseline, a city's district of each region, channel codes.
    "integrity": CacheSpec("CACHE_INTEGRITY_SIZE", "INTEGRITY_BASELINE_SECONDS"),
}


class Caches:
    """The caches of one app, built from its configuration."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._lock = threading.RLock()
        self._caches: dict[str, LRUCache[Hashable, Any]] = {}
        for name, spec in SPECS.items():
            size = int(config[spec.size_key])
            if spec.seconds_key is None:
                self._caches[name] = LRUCache(maxsize=size)
            else:
                ttl = float(config[spec.seconds_key])
                self._caches[name] = TTLCache(maxsize=size, ttl=ttl)

    def get_or_build(self, name: str, key: Hashable, build: Callable[[], V]) -> V:
        """The cached value of ``key`` in cache ``name``, built (outside the lock) if absent."""
        cache = self._caches[name]
        with self._lock:
            hit = cache.get(key, _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[no-any-return]
        value = build()
        with self._lock:
            cache[key] = value
        return value

    def put(self, name: str, key: Hashable, value: Any) -> None:
        """Store ``value`` under ``key`` in cache ``name``."""
        with self._lock:
            self._caches[name][key] = value

    def get(self, name: str, key: Hashable) -> Any:
        """The cached value or None."""
        with self._lock:
            return self._caches[name].get(key)

    def clear(self) -> None:
        """Forget everything (tests, or after an administrative change)."""
        with self._lock:
            for cache in self._caches.values():
                cache.clear()

    def __len__(self) -> int:
        with self._lock:
            return sum(len(c) for c in self._caches.values())


_MISSING = object()


def init_app(app: Flask) -> None:
    """Attach a fresh set of caches to ``app``."""
    app.extensions["survey_cache"] = Caches(app.config)


def caches(app: Flask | None = None) -> Caches:
    """The caches of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    found: Caches = target.extensions["survey_cache"]
    return found


def cached(name: str, key: Hashable, build: Callable[[], V]) -> V:
    """Shorthand: ``caches().get_or_build(name, key, build)`` for the current app."""
    return caches().get_or_build(name, key, build)
