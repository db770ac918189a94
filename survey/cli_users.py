"""``survey user`` commands (filled in by the staff accounts work)."""

from __future__ import annotations

import click


@click.group("user")
def user_group() -> None:
    """Staff accounts."""
