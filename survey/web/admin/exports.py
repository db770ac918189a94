"""Exports for the filter in the query string, within the user's scope: the menu page, the
XLSX workbook, CSV and JSON of each table, the weekly briefing (Word, A4 print page) and the
raw responses for analysts (CSV streamed, SPSS, Stata, codebook)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any
from typing import BinaryIO

from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask import stream_with_context
from flask.typing import ResponseReturnValue

from survey.reporting import METRICS
from survey.reporting.exports import files as exports
from survey.reporting.exports import raw as response_export
from survey.reporting.filters import METRIC_NAMES
from survey.reporting.questions import pages as question_reports
from survey.reporting.report_requests import ReportRequest
from survey.services import transaction
from survey.services.csv_files import csv_bytes
from survey.web.admin import bp
from survey.web.admin.helpers import staff
from survey.web.admin.questions import page_context
from survey.web.read_audit import audited
from survey.web.report_args import report_request

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
    "csv": "text/csv",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}


def _filter() -> tuple[question_reports.VersionFilter, ReportRequest]:
    req = report_request(request.args)
    return question_reports.version_filter(staff(), req), req


def download(body: Any, name: str, fmt: str) -> Response:
    """A file download that is never cached."""
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/exports")
def exports_menu() -> ResponseReturnValue:
    """Every export of the current filter, one link each."""
    vf, req = _filter()
    return render_template(
        "admin/exports.html",
        tables=exports.TABLE_NAMES,
        **page_context(vf, req),
    )


@bp.get("/exports/report.xlsx")
def export_xlsx() -> ResponseReturnValue:
    """The workbook: 说明, headline, districts, streets, channels, trend, each question."""
    vf, _ = _filter()
    b = exports.bundle(vf)
    body = exports.xlsx(b)
    _audit_bundle(b, "xlsx")
    return download(body, "report.xlsx", "xlsx")


@bp.get("/exports/report.json")
def export_json() -> ResponseReturnValue:
    """Every table as one JSON document."""
    vf, _ = _filter()
    b = exports.bundle(vf)
    body = exports.tables_json(b)
    _audit_bundle(b, "json")
    return download(body, "report.json", "json")


def _audit_bundle(b: exports.ReportBundle, fmt: str) -> None:
    """Log a report export: its filter, table rows written and responses behind them."""
    audited(
        "export_report",
        b.filter,
        sum(len(t.rows) for t in b.tables),
        format=fmt,
        tables=[t.name for t in b.tables],
        responses=b.board.headline.responses,
    )


@bp.get("/exports/table-<name>.<fmt>")
def export_table(name: str, fmt: str) -> ResponseReturnValue:
    """One table as CSV or JSON."""
    if fmt not in ("csv", "json"):
        abort(404)
    vf, _ = _filter()
    questions = name not in exports.TABLE_NAMES
    b = exports.bundle(vf, questions=questions)
    table = exports.table_by_name(b, name)
    audited(
        "export_report",
        b.filter,
        len(table.rows),
        format=fmt,
        tables=[table.name],
        responses=b.board.headline.responses,
    )
    if fmt == "csv":
        return download(exports.table_csv(table), f"{table.name}.csv", "csv")
    body = json.dumps(table.to_dict(), ensure_ascii=False, default=str).encode("utf-8")
    return download(body, f"{table.name}.json", "json")


@bp.get("/exports/briefing.docx")
def export_docx() -> ResponseReturnValue:
    """The weekly briefing as a Word document."""
    vf, _ = _filter()
    body = exports.briefing_docx(vf)
    audited("export_report", vf.filter, 0, format="docx", tables=["briefing"])
    return download(body, "briefing.docx", "docx")


@bp.get("/exports/briefing")
def briefing_page() -> ResponseReturnValue:
    """The weekly briefing as a print-ready A4 page (no external requests)."""
    vf, _ = _filter()
    brief = exports.briefing(vf)
    html = render_template(
        "admin/briefing.html", brief=brief, metrics=METRICS, metric_names=METRIC_NAMES
    )
    rows = len(brief.headline) + len(brief.districts)
    audited("export_report", vf.filter, rows, format="html", tables=["briefing"])
    return html


@bp.get("/exports/responses.<fmt>")
def export_responses(fmt: str) -> ResponseReturnValue:
    """The raw responses: CSV (streamed), SPSS .sav or Stata .dta."""
    if fmt not in ("csv", "sav", "dta"):
        abort(404)
    vf, _ = _filter()
    response_export.record_export(staff(), vf.filter, fmt)
    transaction.commit()
    if fmt == "csv":
        body = stream_with_context(response_export.csv_chunks(vf.filter, vf.definition))
        return download(body, "responses.csv", "csv")
    # Closed (and so deleted) by _file_chunks once the download is sent, or below on error.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        response_export.write_stats_file(vf.filter, vf.definition, handle, fmt)
    except BaseException:
        handle.close()
        raise
    return download(_file_chunks(handle), f"responses.{fmt}", fmt)


def _file_chunks(handle: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    """A written temporary file from its start, a megabyte at a time; closes (deletes) it."""
    with handle:
        handle.seek(0)
        while chunk := handle.read(size):
            yield chunk


@bp.get("/exports/codebook.csv")
def export_codebook() -> ResponseReturnValue:
    """The codebook of the raw responses."""
    vf, _ = _filter()
    rows = response_export.codebook_rows(vf.definition)
    audited("export_codebook", vf.filter, len(rows), format="csv")
    return download(csv_bytes(response_export.CODEBOOK_HEADERS, rows), "codebook.csv", "csv")
