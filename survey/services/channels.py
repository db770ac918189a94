"""Channel seeding."""

from __future__ import annotations

from survey.extensions import db
from survey.models import DEFAULT_CHANNELS
from survey.models import Channel


def seed_default_channels() -> int:
    """Add the built-in channels that are missing; return how many were added."""
    existing = set(db.session.execute(db.select(Channel.code)).scalars())
    added = 0
    for code, name, kind in DEFAULT_CHANNELS:
        if code not in existing:
            db.session.add(Channel(code=code, name=name, kind=kind, builtin=True))
            added += 1
    db.session.flush()
    return added
