"""Staff accounts, login throttling and the audit log."""

from __future__ import annotations

import datetime as dt
import secrets

from flask_login import UserMixin
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from survey.models.base import Base
from survey.models.base import created_ts
from survey.models.base import intpk
from survey.models.region import Region

ROLES: tuple[str, ...] = ("city_admin", "district_officer", "viewer", "interviewer")
ROLE_NAMES: dict[str, str] = {
    "city_admin": "市级管理员",
    "district_officer": "区县专员",
    "viewer": "只读查看",
    # Mock-assessment field staff: only the field form of their assigned communities.
    "interviewer": "访问员",
}


class User(UserMixin, Base):
    """A staff member. District officers and viewers may be scoped to a region subtree."""

    __tablename__ = "users"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_ts]
    last_login_at: Mapped[dt.datetime | None]
    # Every session cookie carries this token; replacing it ends every session at once
    # (sign-out, new password, deactivation, change of role or scope).
    session_token: Mapped[str] = mapped_column(
        String(64), default=lambda: secrets.token_urlsafe(24), server_default=""
    )

    region: Mapped[Region | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot sign in
        return self.active

    def get_id(self) -> str:
        """Flask-Login's session id: ``<id>:<session token>`` (see survey.auth)."""
        return f"{self.id}:{self.session_token}"

    @property
    def role_name(self) -> str:
        """Chinese role label."""
        return ROLE_NAMES.get(self.role, self.role)


class LoginThrottle(Base):
    """Failed sign-ins per key (username or hashed client address) and lock-out time."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]


class AuditLog(Base):
    """Who did what, when: issuing, revoking, exporting, account changes."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[intpk]
    at: Mapped[created_ts]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
