"""Staff accounts, password checks and login throttling."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from survey.errors import AccountError
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import ROLES
from survey.models import LoginThrottle
from survey.models import Region
from survey.models import User
from survey.models.base import utcnow
from survey.services import audit
from survey.services.names import check_name

MIN_PASSWORD_LENGTH = 10
#: Characters a username may have (form and command line alike).
USERNAME_PATTERN = r"^[0-9A-Za-z_.@-]{1,64}\Z"
# Verified against for unknown usernames so that their response time looks the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + "x" * 16)


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a sign-in attempt: the user, or why not."""

    user: User | None
    locked: bool = False
    retry_after: int = 0


def hash_password(password: str) -> str:
    """A modern salted hash (werkzeug's default: scrypt)."""
    return generate_password_hash(password)


def check_password_strength(password: str) -> None:
    """Refuse short passwords with a Chinese message."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。")


def get_by_username(username: str) -> User | None:
    """The account with ``username`` (case-insensitive), or None."""
    return db.session.execute(
        db.select(User).where(db.func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def user_or_none(user_id: int) -> User | None:
    """The account with ``user_id``, or None."""
    return db.session.get(User, user_id)


def list_users() -> Sequence[User]:
    """All accounts, by username."""
    return db.session.execute(db.select(User).order_by(User.username)).scalars().all()


def _check_role_region(role: str, region: Region | None) -> None:
    if role not in ROLES:
        raise AccountError(f"未知角色：{role}（可选：{', '.join(ROLES)}）")
    if role == "district_officer" and region is None:
        raise AccountError("区县专员必须指定负责的区域。")


def create_user(
    username: str,
    password: str,
    role: str,
    region: Region | None = None,
    display_name: str = "",
    actor: User | None = None,
) -> User:
    """Create an account; raises AccountError for a taken name, bad role or weak password."""
    username = username.strip()
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise AccountError("用户名只能包含字母、数字和 _ . @ -，且不超过 64 个字符。")
    display_name = _display_name(display_name)
    if get_by_username(username) is not None:
        raise AccountError(f"用户名 {username} 已存在。")
    _check_role_region(role, region)
    check_password_strength(password)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        region_id=region.id if region else None,
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user_create",
        "user",
        user.id,
        username=username,
        role=role,
        region=region.code if region else None,
    )
    return user


def _display_name(name: str) -> str:
    try:
        return check_name(name, "姓名")
    except InvalidInput as exc:
        raise AccountError(str(exc)) from exc


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Replace the password hash and clear the account's lock-out."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    throttle = db.session.get(LoginThrottle, _user_key(user.username))
    if throttle is not None:
        db.session.delete(throttle)
    db.session.flush()
    audit.record(actor, "user_password", "user", user.id, username=user.username)


def update_user(
    user: User,
    role: str,
    region: Region | None,
    active: bool,
    display_name: str,
    actor: User | None = None,
) -> None:
    """Change role, scope, display name or active flag of an account."""
    _check_role_region(role, region)
    if actor is not None and actor.id == user.id and (not active or role != "city_admin"):
        raise AccountError("不能停用自己的账号或取消自己的管理员角色。")
    before = {"role": user.role, "region_id": user.region_id, "active": user.active}
    user.role = role
    user.region_id = region.id if region else None
    user.active = active
    user.display_name = _display_name(display_name)
    db.session.flush()
    audit.record(
        actor,
        "user_update",
        "user",
        user.id,
        username=user.username,
        before=before,
        after={"role": role, "region_id": user.region_id, "active": active},
    )


# --- sign-in and throttling -------------------------------------------------------------


def _user_key(username: str) -> str:
    return "u:" + username.strip().lower()[:120]


def address_key(address: str) -> str:
    """Throttle key of a client address: a keyed hash, never the raw IP."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    digest = hmac.new(secret, address.encode("utf-8"), hashlib.sha256).hexdigest()
    return "a:" + digest


def _limits() -> dict[str, int]:
    cfg = current_app.config
    return {
        "u:": int(cfg["LOGIN_MAX_FAILURES"]),
        "a:": int(cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    }


def _lock_remaining(keys: Sequence[str], now: dt.datetime) -> int:
    """Seconds until every key is unlocked (0 when none is locked)."""
    remaining = 0
    for key in keys:
        row = db.session.get(LoginThrottle, key)
        locked_until = row.locked_until if row else None
        if locked_until is not None and locked_until > now:
            remaining = max(remaining, int((locked_until - now).total_seconds()) + 1)
    return remaining


def _register_failure(key: str, now: dt.datetime) -> None:
    window = dt.timedelta(seconds=int(current_app.config["LOGIN_LOCK_SECONDS"]))
    # Create the row race-free (two first failures at once must not collide), then lock it.
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
    row = db.session.execute(
        db.select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    start = row.window_start
    if start is None or now - start > window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= _limits()[key[:2]]:
        row.locked_until = now + window
        row.failures, row.window_start = 0, now
    db.session.flush()


def authenticate(username: str, password: str, address: str) -> LoginResult:
    """Check a sign-in; count failures per username and per hashed address, lock when over."""
    now = utcnow()
    keys = [_user_key(username), address_key(address)]
    remaining = _lock_remaining(keys, now)
    if remaining:
        return LoginResult(None, locked=True, retry_after=remaining)
    user = get_by_username(username)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        for key in keys:
            _register_failure(key, now)
        remaining = _lock_remaining(keys, now)
        if remaining:
            audit.record(None, "login_locked", "user", None, actor_name=username[:64])
        return LoginResult(None, locked=bool(remaining), retry_after=remaining)
    row = db.session.get(LoginThrottle, keys[0])
    if row is not None:
        db.session.delete(row)
    user.last_login_at = now
    db.session.flush()
    return LoginResult(user)
