"""``survey demo`` and ``survey bootstrap``: the demo city and what ``make run`` needs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from survey.links import questionnaire_url


@click.command("demo")
@click.option("--responses", default=0, show_default=True, help="Synthetic responses to add.")
@click.option("--seed", default=20261122, show_default=True)
@with_appcontext
def demo_command(responses: int, seed: int) -> None:
    """Create the fictional demo city, its collection points and optional responses."""
    from survey import demo
    from survey.services import transaction

    summary = demo.ensure_demo_city()
    transaction.commit()
    click.echo(
        f"演示城市 / demo city: {summary.regions} regions, {summary.points} collection points"
    )
    if responses > 0:
        added = demo.add_responses(responses, seed=seed, progress=True, problems=True)
        click.echo(f"已添加 {added} 份模拟答卷 / added {added} synthetic responses")


@click.command("bootstrap")
@click.option(
    "--demo-responses",
    default=3000,
    show_default=True,
    help="Synthetic responses to load when the database has none.",
)
@click.option(
    "--demo-mock/--no-demo-mock",
    default=True,
    show_default=True,
    help="On a fresh database, also one completed mock assessment (plan, 5 interviewers).",
)
@with_appcontext
def bootstrap_command(demo_responses: int, demo_mock: bool) -> None:
    """Everything ``make run`` needs: migrate, seed, demo data, admin, sample link."""
    from survey import demo
    from survey.bootstrap import bootstrap
    from survey.services import transaction

    info = bootstrap()
    if demo_responses > 0 and info.response_count == 0:
        # a fresh database: demo responses, and demo targets so that the dashboard shows
        # 达标 / 未达标 / 待定 (marked as demo values in the audit log)
        demo.add_responses(demo_responses, seed=20261122, progress=True, problems=True)
        if demo.ensure_demo_targets():
            transaction.commit()
        if demo_mock:
            _demo_mock(info.admin_username)
    base = current_app.config["BASE_URL"]
    click.echo("")
    click.echo("=" * 64)
    click.echo(f"管理后台 / admin:      {base}/admin/")
    click.echo(f"管理员账号 / login:    {info.admin_username}")
    click.echo(f"管理员密码 / password: {info.admin_password}")
    click.echo(f"示例问卷 / sample questionnaire: {questionnaire_url(info.sample_code)}")
    click.echo("=" * 64)


def _demo_mock(admin: str) -> None:
    """The demo's completed mock assessment (survey.demo_mock), committed."""
    from survey.demo_mock import ensure_demo_mock
    from survey.services import transaction
    from survey.services.users import get_by_username

    actor = get_by_username(admin)
    if actor is not None and ensure_demo_mock(actor) is not None:
        transaction.commit()
        click.echo("已创建演示模拟测评 / demo mock assessment: 5 interviewers iv01-iv05")
