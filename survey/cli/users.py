"""``survey user`` commands: create accounts, set passwords, list accounts."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.cli.errors import reported
from survey.models import ROLES


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
@reported
def user_create(
    username: str, role: str, region_code: str | None, display_name: str, password: str
) -> None:
    """Create a staff account USERNAME."""
    from survey.services import transaction
    from survey.services.choices import region_by_code
    from survey.services.users import create_user

    region = region_by_code(region_code) if region_code else None
    user = create_user(username, password, role, region, display_name)
    transaction.commit()
    click.echo(f"已创建账号 / created {user.username} ({user.role})")


@user_group.command("set-password")
@click.argument("username")
@click.password_option(help="New password (prompted twice when omitted).")
@with_appcontext
@reported
def user_set_password(username: str, password: str) -> None:
    """Set a new password for USERNAME and lift any lock-out."""
    from survey.errors import NotFound
    from survey.services import transaction
    from survey.services.users import get_by_username
    from survey.services.users import set_password

    user = get_by_username(username)
    if user is None:
        raise NotFound(f"账号 {username} 不存在 / no such user {username!r}")
    set_password(user, password)
    transaction.commit()
    click.echo(f"已重设密码 / password changed for {user.username}")


@user_group.command("list")
@with_appcontext
def user_list() -> None:
    """List accounts: username, role, region, active flag, last sign-in."""
    from survey.services.users import list_users
    from survey.timeutil import local_time

    for user in list_users():
        region = user.region.code if user.region else "-"
        state = "active" if user.active else "disabled"
        last = local_time(user.last_login_at) or "-"
        click.echo(f"{user.username}\t{user.role}\t{region}\t{state}\t{last}")
