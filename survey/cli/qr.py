"""``survey qr export``: write QR images for many collection points to a folder."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from survey.cli.errors import reported


@click.group("qr")
def qr_group() -> None:
    """QR codes of collection points."""


@qr_group.command("export")
@click.option("--questionnaire", "key", required=True, help="Questionnaire key (all its versions).")
@click.option("--region", "region_code", help="Only points in this region's subtree.")
@click.option("--channel", "channel_code", help="Only points of this channel code.")
@click.option(
    "--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--include-inactive", is_flag=True, help="Also export revoked points.")
@with_appcontext
@reported
def qr_export(
    key: str,
    region_code: str | None,
    channel_code: str | None,
    fmt: str,
    out_dir: Path,
    include_inactive: bool,
) -> None:
    """Write one PNG or SVG per point, plus index.csv, into OUT."""
    from survey.reporting.point_table import PointFilter
    from survey.reporting.point_table import points_for_batch
    from survey.services import audit
    from survey.services import choices
    from survey.services import qr_batch
    from survey.services import transaction

    flt = PointFilter(
        questionnaire_id=choices.questionnaire_by_key(key).id,
        region=choices.region_by_code(region_code) if region_code else None,
        channel=choices.channel_by_code(channel_code) if channel_code else None,
        status="" if include_inactive else "active",
    )
    points = points_for_batch(None, flt, by_region=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    with click.progressbar(points, label="生成二维码 / writing QR codes") as bar:
        for point in bar:
            (out_dir / qr_batch.file_name(point, fmt)).write_bytes(qr_batch.image_bytes(point, fmt))
    (out_dir / "index.csv").write_bytes(qr_batch.index_csv(points, fmt))
    audit.record(
        None,
        "export_qr",
        "point",
        None,
        format=fmt,
        count=len(points),
        questionnaire=key,
        region=region_code,
        channel=channel_code,
    )
    transaction.commit()
    click.echo(f"已导出 {len(points)} 个二维码到 {out_dir} / wrote {len(points)} files")
