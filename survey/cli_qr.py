"""``survey qr export``: write QR images for many collection points to a folder."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


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
def qr_export(
    key: str,
    region_code: str | None,
    channel_code: str | None,
    fmt: str,
    out_dir: Path,
    include_inactive: bool,
) -> None:
    """Write one PNG or SVG per point, plus index.csv, into OUT."""
    from survey import qr
    from survey.extensions import db
    from survey.models import Channel
    from survey.models import CollectionPoint
    from survey.models import Questionnaire
    from survey.models import QuestionnaireVersion
    from survey.models import Region
    from survey.services import audit

    questionnaire = db.session.execute(
        db.select(Questionnaire).where(Questionnaire.key == key)
    ).scalar_one_or_none()
    if questionnaire is None:
        raise click.ClickException(f"问卷 {key} 不存在 / unknown questionnaire {key!r}")
    query = (
        db.select(CollectionPoint)
        .join(QuestionnaireVersion)
        .join(Region, Region.id == CollectionPoint.region_id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
        .order_by(Region.path, CollectionPoint.id)
    )
    if region_code:
        region = db.session.execute(
            db.select(Region).where(Region.code == region_code)
        ).scalar_one_or_none()
        if region is None:
            raise click.ClickException(f"区域编码 {region_code} 不存在 / unknown region")
        query = query.where(Region.path.startswith(region.path))
    if channel_code:
        channel = db.session.execute(
            db.select(Channel).where(Channel.code == channel_code)
        ).scalar_one_or_none()
        if channel is None:
            raise click.ClickException(f"渠道 {channel_code} 不存在 / unknown channel")
        query = query.where(CollectionPoint.channel_id == channel.id)
    if not include_inactive:
        query = query.where(CollectionPoint.active.is_(True))
    points = list(db.session.execute(query).scalars())
    out_dir.mkdir(parents=True, exist_ok=True)
    base = current_app.config["BASE_URL"]
    with (out_dir / "index.csv").open("w", encoding="utf-8-sig", newline="") as index_file:
        writer = csv.writer(index_file, lineterminator="\r\n")
        writer.writerow(["编码", "区域编码", "区域", "渠道", "名称", "文件", "链接"])
        with click.progressbar(points, label="生成二维码 / writing QR codes") as bar:
            for point in bar:
                url = f"{base}/q/{point.code}"
                caption = f"{point.region.name} · {point.label}"
                name = f"{point.region.code}_{point.channel.code}_{point.code}.{fmt}"
                body = (
                    qr.png_bytes(url, caption, point.code)
                    if fmt == "png"
                    else qr.svg_bytes(url, caption, point.code)
                )
                (out_dir / name).write_bytes(body)
                writer.writerow(
                    [
                        point.code,
                        point.region.code,
                        point.region.name,
                        point.channel.name,
                        point.label,
                        name,
                        url,
                    ]
                )
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
    db.session.commit()
    click.echo(f"已导出 {len(points)} 个二维码到 {out_dir} / wrote {len(points)} files")
