"""``survey integrity``: the sweep over new responses, its status, point windows."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from survey.cli.errors import reported


@click.group("integrity")
def integrity_group() -> None:
    """Survey integrity: the sweep over new responses, point windows."""


@integrity_group.command("sweep")
@click.option("--limit", type=int, default=None, help="Responses per sweep (default: setting).")
@with_appcontext
@reported
def sweep_command(limit: int | None) -> None:
    """Examine every response stored since the last sweep (run from cron, or by hand)."""
    from survey.services.integrity.sweep import sweep_all

    result = sweep_all(limit=limit)
    if result.busy:
        click.echo("另一个进程正在扫描 / another process is sweeping; try again later")
        return
    click.echo(
        f"已检查 {result.examined} 份答卷、{result.points} 个点位，新增 {result.flags_added} 个标记"
        f" / examined {result.examined} responses at {result.points} points,"
        f" {result.flags_added} flags added, watermark {result.watermark}"
    )


@integrity_group.command("status")
@with_appcontext
def status_command() -> None:
    """Where the sweep is, and flags by code and review status."""
    from survey.services.integrity.quality import flag_counts
    from survey.services.integrity.sweep import state

    found = state()
    click.echo(
        f"watermark={found.watermark if found else 0} "
        f"swept_at={found.swept_at.isoformat() if found and found.swept_at else '-'}"
    )
    if found is not None and found.failure:
        failed = found.failed_at.isoformat() if found.failed_at else "-"
        click.echo(f"扫描失败 / last sweep failed at {failed}: {found.failure}")
    for code, strength, status, n in flag_counts():
        click.echo(f"{code:<18} {strength:<6} {status:<10} {n}")


@integrity_group.command("window")
@click.argument("code")
@click.option("--from", "starts", help="Local start, YYYY-MM-DD[THH:MM].")
@click.option("--until", "ends", help="Local end, YYYY-MM-DD[THH:MM].")
@click.option("--hours", help="Daily local hours, HH:MM-HH:MM (may run past midnight).")
@click.option("--clear", is_flag=True, help="Remove the point's window.")
@with_appcontext
@reported
def window_command(
    code: str, starts: str | None, ends: str | None, hours: str | None, clear: bool
) -> None:
    """Set (or --clear) when point CODE is meant to collect; answers outside are flagged."""
    from survey.services import transaction
    from survey.services.integrity.windows import parse_hours
    from survey.services.integrity.windows import parse_local
    from survey.services.integrity.windows import point_by_code
    from survey.services.integrity.windows import set_window

    point = point_by_code(code)
    if clear:
        set_window(None, point, None, None, None)
    else:
        daily = parse_hours(hours) if hours else (None, None)
        set_window(None, point, parse_local(starts), parse_local(ends), daily)
    transaction.commit()
    click.echo(f"已设置点位 {point.code} 的采集时段 / window of {point.code} saved")
