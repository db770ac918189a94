"""``survey report`` (tables, workbook, briefing) and ``survey responses export`` (raw
responses for analysts), for the whole database; a bad argument exits with status 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from flask import render_template
from flask.cli import with_appcontext

from survey.cli.errors import reported
from survey.date_range import in_range
from survey.date_range import out_of_range_message
from survey.reporting.filters import SOURCE_NAMES

FORMATS = ("xlsx", "docx", "html", "csv", "json")
DATE = click.DateTime(formats=["%Y-%m-%d"])
#: A version number the database can hold (a bigger one is a usage error, not a traceback).
VERSION = click.IntRange(1, 2**31 - 1)


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _in_range(ctx: click.Context, param: click.Parameter, value: dt.datetime | None) -> Any:
    """Option callback: a day outside 2000-01-01..2100-12-31 is a usage error (exit 2)."""
    if value is not None and not in_range(value):
        raise click.BadParameter(out_of_range_message(param.opts[0], value.date()))
    return value


@click.command("report")
@click.option("--questionnaire", "key", required=True, help="Questionnaire key.")
@click.option("--version", type=VERSION, help="Version number (default: the newest).")
@click.option(
    "--from",
    "date_from",
    type=DATE,
    callback=_in_range,
    help="First day (YYYY-MM-DD, by week; 2000-01-01..2100-12-31).",
)
@click.option(
    "--to", "date_to", type=DATE, callback=_in_range, help="Last day (YYYY-MM-DD, same range)."
)
@click.option("--region", "region_code", help="Region code (its subtree).")
@click.option("--channel", "channel_code", help="Channel code.")
@click.option(
    "--by",
    type=click.Choice(["district", "street", "channel", "week"]),
    default="district",
    show_default=True,
    help="The table of a CSV report.",
)
@click.option(
    "--weighting",
    type=click.Choice(["none", "poststratify", "rake"]),
    default="none",
    show_default=True,
)
@click.option("--include-flagged", is_flag=True, help="Count flagged responses too.")
@click.option(
    "--source",
    type=click.Choice(list(SOURCE_NAMES)),
    help="Only responses collected this way (default: every source).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@reported
def report_command(
    key: str,
    version: int | None,
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    region_code: str | None,
    channel_code: str | None,
    by: str,
    weighting: str,
    include_flagged: bool,
    source: str | None,
    fmt: str,
    out: Path,
) -> None:
    """Write the report of a questionnaire as XLSX, DOCX, HTML (briefing), CSV or JSON."""
    from survey.reporting.questions import pages as question_reports

    vf = question_reports.command_line_filter(
        key,
        version=version,
        date_from=_day(date_from),
        date_to=_day(date_to),
        region_code=region_code,
        channel_code=channel_code,
        weighting=weighting,
        include_flagged=include_flagged,
        source=source,
    )
    steps = {"xlsx": 4, "json": 4, "csv": 3, "docx": 2, "html": 2}[fmt]
    with click.progressbar(length=steps, label="生成报表 / building the report") as bar:
        body = _build(vf, fmt, by, lambda _step: bar.update(1))
        bar.update(steps)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    _audit(vf, fmt, by, len(body))
    click.echo(f"已写入 {out}（{len(body)} 字节）/ wrote {out}")


def _audit(vf: object, fmt: str, by: str, size: int) -> None:
    from survey.services import transaction
    from survey.services.read_audit import record_read

    flt = vf.filter  # type: ignore[attr-defined]
    record_read(None, "export_report", flt, None, format=fmt, by=by, bytes=size)
    transaction.commit()


def _build(vf: object, fmt: str, by: str, step: object) -> bytes:
    from survey.reporting.exports import files as exports
    from survey.reporting.filters import METRIC_NAMES
    from survey.reporting.filters import METRICS

    if fmt in ("docx", "html"):
        step("briefing")  # type: ignore[operator]
        if fmt == "docx":
            return exports.briefing_docx(vf)  # type: ignore[arg-type]
        brief = exports.briefing(vf)  # type: ignore[arg-type]
        page = render_template(
            "admin/briefing.html",
            brief=brief,
            metrics=METRICS,
            metric_names=METRIC_NAMES,
            standalone=True,
        )
        return page.encode("utf-8")
    bundle = exports.bundle(vf, questions=fmt != "csv", progress=step)  # type: ignore[arg-type]
    if fmt == "xlsx":
        return exports.xlsx(bundle)
    if fmt == "json":
        return exports.tables_json(bundle)
    return exports.table_csv(exports.table_by_name(bundle, by))


@click.group("responses")
def responses_group() -> None:
    """Raw responses for analysts."""


@responses_group.command("export")
@click.option("--questionnaire", "key", required=True, help="Questionnaire key.")
@click.option("--version", type=VERSION, help="Version number (default: the newest).")
@click.option("--format", "fmt", type=click.Choice(["csv", "sav", "dta"]), required=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@reported
def responses_export(key: str, version: int | None, fmt: str, out: Path) -> None:
    """Write every response (flagged ones included, marked) and a codebook next to OUT."""
    from survey.reporting.exports import raw as response_export
    from survey.reporting.questions import pages as question_reports
    from survey.services import audit
    from survey.services import transaction
    from survey.services.csv_files import csv_bytes

    vf = question_reports.command_line_filter(key, version=version, include_flagged=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    total = response_export.count_rows(vf.filter)
    if fmt == "csv":
        with (
            click.progressbar(length=total, label="导出答卷 / exporting") as bar,
            out.open("wb") as handle,
        ):
            for chunk in response_export.csv_chunks(vf.filter, vf.definition, bar.update):
                handle.write(chunk)
    else:
        with (
            click.progressbar(
                length=2 * total, label="读取并写出答卷（两遍） / reading and writing (2 passes)"
            ) as bar,
            out.open("wb") as handle,
        ):
            response_export.write_stats_file(vf.filter, vf.definition, handle, fmt, bar.update)
    codebook = out.with_name(out.stem + "_codebook.csv")
    rows = response_export.codebook_rows(vf.definition)
    codebook.write_bytes(csv_bytes(response_export.CODEBOOK_HEADERS, rows))
    audit.record(None, "export_responses", "questionnaire", None, format=fmt, count=total)
    transaction.commit()
    click.echo(f"已导出 {total} 份答卷到 {out}，变量说明 {codebook} / wrote {total} rows")
