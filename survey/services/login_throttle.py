"""Login throttling that an attacker cannot turn against the people it protects.

Failed sign-ins are counted in ``login_throttle`` rows under four kinds of key (client
addresses only ever as keyed hashes, ``H(address)``):

``p:<H(address)>:<username>``
    one username from one address. After ``LOGIN_MAX_FAILURES`` failures every further
    failure locks this pair for twice as long as the last (``LOGIN_BACKOFF_SECONDS``,
    doubling, at most ``LOGIN_LOCK_SECONDS``). Guessing from one place gets slow fast,
    and it locks out nobody else.
``u:<username>``
    one username from everywhere: ``LOGIN_MAX_FAILURES_PER_USERNAME`` failures within
    ``LOGIN_LOCK_SECONDS`` lock the username against slow spraying from many addresses.
``a:<H(address)>``
    one address, every username: ``LOGIN_MAX_FAILURES_PER_ADDRESS`` failures lock the
    address against trying a few passwords on many accounts.
``t:<H(address)>:<username>``
    a trusted pair: the username signed in from this address within ``LOGIN_TRUSTED_DAYS``.
    The username and address locks do not apply to it, so neither an attacker spraying a
    known username (``admin``) from elsewhere nor one failing from behind the same proxy
    or NAT can lock a legitimate user out of the place they work from; their own pair
    lock still applies.

City admins see locked accounts and unlock them (audit-logged); a new password unlocks too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app

from survey.extensions import db
from survey.models import LoginThrottle
from survey.models import User
from survey.models.base import utcnow
from survey.services import audit


@dataclass(frozen=True)
class Keys:
    """The throttle keys of one sign-in attempt."""

    pair: str
    username: str
    address: str
    trusted: str


@dataclass(frozen=True)
class LockedAccount:
    """An existing account with an active lock: everywhere, or from some addresses."""

    user: User
    everywhere: bool
    addresses: int
    until: dt.datetime


def normal_username(username: str) -> str:
    """The case-insensitive form of a username used in keys (bounded length)."""
    return username.replace("\x00", "").strip().lower()[:60]


def address_hash(address: str) -> str:
    """A keyed hash of a client address (hex): the raw address is never stored."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, address.encode("utf-8"), hashlib.sha256).hexdigest()


def keys_for(username: str, address: str) -> Keys:
    """Every throttle key of ``username`` signing in from ``address``."""
    name = normal_username(username)
    where = address_hash(address)
    return Keys(
        pair=f"p:{where}:{name}",
        username=f"u:{name}",
        address=f"a:{where}",
        trusted=f"t:{where}:{name}",
    )


def _setting(name: str) -> int:
    return int(current_app.config[name])


def is_trusted(keys: Keys, now: dt.datetime) -> bool:
    """True when this username signed in from this address within ``LOGIN_TRUSTED_DAYS``."""
    row = db.session.get(LoginThrottle, keys.trusted)
    if row is None or row.window_start is None:
        return False
    return now - row.window_start <= dt.timedelta(days=_setting("LOGIN_TRUSTED_DAYS"))


def applicable(keys: Keys, now: dt.datetime) -> list[str]:
    """The locks that apply to this attempt (a trusted pair escapes the wide ones)."""
    if is_trusted(keys, now):
        return [keys.pair]
    return [keys.pair, keys.username, keys.address]


def lock_remaining(keys: Sequence[str], now: dt.datetime) -> int:
    """Seconds until every key in ``keys`` is unlocked (0 when none is locked)."""
    remaining = 0
    rows = db.session.execute(
        db.select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(list(keys)))
    ).scalars()
    for locked_until in rows:
        if locked_until is not None and locked_until > now:
            remaining = max(remaining, int((locked_until - now).total_seconds()) + 1)
    return remaining


def _row_for_update(key: str, now: dt.datetime) -> LoginThrottle:
    """The row of ``key``, created race-free (two first failures at once), locked."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    db.session.execute(
        dialect_insert(LoginThrottle)
        .values(key=key, failures=0, window_start=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return db.session.execute(
        db.select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _count(key: str, now: dt.datetime, limit: int, window: dt.timedelta) -> None:
    """One more failure of a wide key: ``limit`` within ``window`` lock it for the window."""
    row = _row_for_update(key, now)
    if row.window_start is None or now - row.window_start > window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + window
        row.failures, row.window_start = 0, now


def _count_pair(key: str, now: dt.datetime) -> None:
    """One more failure of a (username, address) pair: exponential backoff past the limit."""
    row = _row_for_update(key, now)
    cap = _setting("LOGIN_LOCK_SECONDS")
    # A pair forgets its failures after a quiet day (or 4 lock-outs' worth, if longer).
    memory = dt.timedelta(seconds=max(24 * 3600, 4 * cap))
    if row.window_start is None or now - row.window_start > memory:
        row.failures = 0
    row.window_start = now
    row.failures += 1
    over = row.failures - _setting("LOGIN_MAX_FAILURES")
    if over >= 0:
        seconds = min(cap, _setting("LOGIN_BACKOFF_SECONDS") * 2 ** min(over, 30))
        row.locked_until = now + dt.timedelta(seconds=seconds)


def register_failure(keys: Keys, now: dt.datetime) -> None:
    """Count a failed sign-in under every key (a trusted pair's failures count too)."""
    window = dt.timedelta(seconds=_setting("LOGIN_LOCK_SECONDS"))
    _count_pair(keys.pair, now)
    _count(keys.username, now, _setting("LOGIN_MAX_FAILURES_PER_USERNAME"), window)
    _count(keys.address, now, _setting("LOGIN_MAX_FAILURES_PER_ADDRESS"), window)
    db.session.flush()


def register_success(keys: Keys, now: dt.datetime) -> None:
    """Forget the pair's failures and trust the pair from now on."""
    pair = db.session.get(LoginThrottle, keys.pair)
    if pair is not None:
        db.session.delete(pair)
    trusted = _row_for_update(keys.trusted, now)
    trusted.window_start = now
    trusted.failures = 0
    db.session.flush()


def _rows_of(username: str) -> list[LoginThrottle]:
    name = normal_username(username)
    return list(
        db.session.execute(
            db.select(LoginThrottle).where(
                (LoginThrottle.key == f"u:{name}")
                | (
                    LoginThrottle.key.startswith("p:")
                    & LoginThrottle.key.endswith(f":{name}", autoescape=True)
                )
            )
        ).scalars()
    )


def locked_accounts(now: dt.datetime | None = None) -> list[LockedAccount]:
    """Existing accounts with an active lock, by username."""
    now = now or utcnow()
    rows = db.session.execute(
        db.select(LoginThrottle).where(
            LoginThrottle.locked_until > now,
            LoginThrottle.key.startswith("u:") | LoginThrottle.key.startswith("p:"),
        )
    ).scalars()
    by_name: dict[str, tuple[bool, int, dt.datetime]] = {}
    for row in rows:
        name = row.key[2:] if row.key.startswith("u:") else row.key.split(":", 2)[2]
        everywhere, addresses, until = by_name.get(name, (False, 0, now))
        assert row.locked_until is not None
        if row.key.startswith("u:"):
            everywhere = True
        else:
            addresses += 1
        by_name[name] = (everywhere, addresses, max(until, row.locked_until))
    if not by_name:
        return []
    users = db.session.execute(
        db.select(User).where(db.func.lower(User.username).in_(list(by_name)))
    ).scalars()
    found = [
        LockedAccount(u, *by_name[normal_username(u.username)])
        for u in users
        if normal_username(u.username) in by_name
    ]
    return sorted(found, key=lambda a: a.user.username)


def clear(username: str) -> int:
    """Lift every lock and failure count of ``username``; return how many rows went."""
    rows = _rows_of(username)
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return len(rows)


def unlock(user: User, actor: User | None) -> int:
    """A city admin lifts the locks of ``user`` (audit-logged)."""
    cleared = clear(user.username)
    audit.record(actor, "user_unlock", "user", user.id, username=user.username, cleared=cleared)
    return cleared
