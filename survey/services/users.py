"""Staff accounts, password checks, sign-in and revocable sessions.

A staff session cookie names the account *and* its current session token
(``<id>:<token>``). Signing out, a new password, deactivation and any change of role or
scope replace the token, so every session opened before ends at its next request: a copied
cookie is worth nothing after logout or a password reset.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from survey.errors import AccountError
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import ROLES
from survey.models import Region
from survey.models import User
from survey.models.base import utcnow
from survey.numbers import parse_int
from survey.services import audit
from survey.services import login_throttle
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
    if "\x00" in username:  # no account has one, and PostgreSQL refuses it in a query
        return None
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
    if role in ("district_officer", "interviewer") and region is None:
        raise AccountError("区县专员和访问员必须指定所属区域。")


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
        session_token=new_session_token(),
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
    """Replace the password hash, clear the account's locks and end its sessions."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    login_throttle.clear(user.username)
    end_sessions(user)  # a copied cookie dies with the old password
    audit.record(actor, "user_password", "user", user.id, username=user.username)


def update_user(
    user: User,
    role: str,
    region: Region | None,
    active: bool,
    display_name: str,
    actor: User | None = None,
) -> None:
    """Change role, scope, display name or active flag; a change of rights ends its sessions."""
    _check_role_region(role, region)
    if actor is not None and actor.id == user.id and (not active or role != "city_admin"):
        raise AccountError("不能停用自己的账号或取消自己的管理员角色。")
    before = {"role": user.role, "region_id": user.region_id, "active": user.active}
    user.role = role
    user.region_id = region.id if region else None
    user.active = active
    user.display_name = _display_name(display_name)
    after = {"role": role, "region_id": user.region_id, "active": active}
    if after != before:
        end_sessions(user)  # a session never outlives the rights it was opened with
    db.session.flush()
    audit.record(
        actor,
        "user_update",
        "user",
        user.id,
        username=user.username,
        before=before,
        after=after,
    )


# --- sign-in, throttling and sessions ----------------------------------------------------


def new_session_token() -> str:
    """A fresh random session token (what every session cookie of an account must carry)."""
    return secrets.token_urlsafe(24)


def end_sessions(user: User) -> None:
    """End every existing session of ``user``: their cookies no longer load the account."""
    user.session_token = new_session_token()
    db.session.flush()


def session_user(session_id: str) -> User | None:
    """The active account a session cookie's ``<id>:<token>`` names, or None."""
    user_id, _, token = session_id.partition(":")
    key = parse_int(user_id, maximum=2**31 - 1)
    if key is None or not token:
        return None
    user = db.session.get(User, key)
    if user is None or not user.active or not user.session_token:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


def sign_out(user: User) -> None:
    """Sign ``user`` out everywhere (audit-logged): every session of the account ends."""
    end_sessions(user)
    audit.record(user, "logout", "user", user.id)


def authenticate(username: str, password: str, address: str) -> LoginResult:
    """Check a sign-in against the throttle (``survey.services.login_throttle``)."""
    now = utcnow()
    keys = login_throttle.keys_for(username, address)
    remaining = login_throttle.lock_remaining(login_throttle.applicable(keys, now), now)
    if remaining:
        return LoginResult(None, locked=True, retry_after=remaining)
    user = get_by_username(username)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        login_throttle.register_failure(keys, now)
        remaining = login_throttle.lock_remaining(login_throttle.applicable(keys, now), now)
        if remaining:
            audit.record(None, "login_locked", "user", None, actor_name=username[:64])
        return LoginResult(None, locked=bool(remaining), retry_after=remaining)
    login_throttle.register_success(keys, now)
    if not user.session_token:
        user.session_token = new_session_token()
    user.last_login_at = now
    db.session.flush()
    return LoginResult(user)
