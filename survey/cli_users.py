"""``survey user`` commands: create accounts, set passwords, list accounts."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.models import ROLES


def _region(code: str | None):  # type: ignore[no-untyped-def]
    from survey.extensions import db
    from survey.models import Region

    if not code:
        return None
    region = db.session.execute(db.select(Region).where(Region.code == code)).scalar_one_or_none()
    if region is None:
        raise click.ClickException(f"区域编码 {code} 不存在 / unknown region code {code!r}")
    return region


@click.group("user")
def user_group() -> None:
    """Staff accounts."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--region", "region_code", help="Region code a district officer/viewer is scoped to.")
@click.option("--name", "display_name", default="", help="Display name (姓名).")
@click.password_option(help="Password (prompted twice when omitted).")
@with_appcontext
def user_create(
    username: str, role: str, region_code: str | None, display_name: str, password: str
) -> None:
    """Create a staff account USERNAME."""
    from survey.extensions import db
    from survey.services.users import AccountError
    from survey.services.users import create_user

    try:
        user = create_user(username, password, role, _region(region_code), display_name)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"已创建账号 / created {user.username} ({user.role})")


@user_group.command("set-password")
@click.argument("username")
@click.password_option(help="New password (prompted twice when omitted).")
@with_appcontext
def user_set_password(username: str, password: str) -> None:
    """Set a new password for USERNAME and lift any lock-out."""
    from survey.extensions import db
    from survey.services.users import AccountError
    from survey.services.users import get_by_username
    from survey.services.users import set_password

    user = get_by_username(username)
    if user is None:
        raise click.ClickException(f"账号 {username} 不存在 / no such user {username!r}")
    try:
        set_password(user, password)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"已重设密码 / password changed for {user.username}")


@user_group.command("list")
@with_appcontext
def user_list() -> None:
    """List accounts: username, role, region, active flag, last sign-in."""
    from survey.services.point_stats import local_time
    from survey.services.users import list_users

    for user in list_users():
        region = user.region.code if user.region else "-"
        state = "active" if user.active else "disabled"
        last = local_time(user.last_login_at) or "-"
        click.echo(f"{user.username}\t{user.role}\t{region}\t{state}\t{last}")
