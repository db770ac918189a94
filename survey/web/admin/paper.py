"""纸质问卷: the entry template, importing filled templates, double-entry batches.

Uploads are the one place in the staff area where a request body may be large: a filled
template of 10,000 papers is several megabytes, while ``MAX_CONTENT_LENGTH`` (64 KiB) keeps
every other request small. The two upload routes are exempt from the app-wide CSRF check
(which would parse the body under the small limit first); each raises the limit to
``PAPER_MAX_UPLOAD_BYTES`` for its own request (and the multipart decoder's buffer to
1 MiB), then checks the CSRF token itself.
"""

from __future__ import annotations

from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from survey.errors import InvalidInput
from survey.errors import SurveyError
from survey.services import transaction
from survey.services.paper import double
from survey.services.paper.storing import ImportResult
from survey.services.paper.storing import import_file
from survey.services.paper.storing import refused
from survey.services.paper.template import build_template
from survey.services.paper.template import version_by_id
from survey.services.questionnaires import list_versions
from survey.web.admin import bp
from survey.web.admin.helpers import staff
from survey.web.extensions import csrf
from survey.web.filters import int_arg

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED = (".csv", ".xlsx", ".txt")


def _page(status: int = 200, **context: object) -> ResponseReturnValue:
    user = staff()
    page = render_template(
        "admin/paper.html",
        versions=list_versions(),
        batches=double.recent_batches(user),
        **context,
    )
    return page, status


@bp.get("/paper")
def paper() -> ResponseReturnValue:
    """Template download, upload forms, recent batches."""
    return _page()


@bp.get("/paper/template")
def paper_template() -> ResponseReturnValue:
    """The XLSX entry template of a version, with the points in the user's scope."""
    version = version_by_id(int_arg(request.args, "version"))
    made = build_template(version, staff())
    response = Response(made.data, mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response  # Cache-Control: the staff area's private, no-store


def _uploads(*names: str) -> list[tuple[str, bytes]]:
    """The uploaded files under ``names`` (raises the body limit, then checks CSRF)."""
    request.max_content_length = int(current_app.config["PAPER_MAX_UPLOAD_BYTES"])
    # Werkzeug's multipart decoder also holds the not-yet-parsed part of a file in a buffer
    # bounded by this limit (64 KiB elsewhere): a few of its 64 KiB reads must fit.
    request.max_form_memory_size = 1024 * 1024
    csrf.protect()
    found = []
    for name in names:
        upload = request.files.get(name)
        filename = (upload.filename or "").strip() if upload is not None else ""
        if upload is None or not filename:
            raise InvalidInput("请选择要导入的文件。")
        if not filename.lower().endswith(ALLOWED):
            raise InvalidInput("只支持录入模板的 XLSX 文件，或另存的 CSV 文件（UTF-8 或 GBK）。")
        found.append((filename, upload.read()))
        upload.close()  # a large upload is spooled to a temporary file: close it now
    return found


@bp.post("/paper/import")
@csrf.exempt  # checked in _uploads, after raising the body limit for this route
def paper_import() -> ResponseReturnValue:
    """Import one filled template: every row, or nothing and every bad cell listed."""
    user = staff()
    filename = "upload"
    try:
        ((filename, data),) = _uploads("file")
        result = import_file(filename, data, user)
    except SurveyError as exc:
        return _refused_file(filename, exc)
    transaction.commit()  # the responses, or only the audit entry of a refusal
    if result.batch is None:
        return _refused_cells(result, filename)
    flash(f"已导入 {result.stored} 份纸质问卷（{filename}）。", "ok")
    return redirect(url_for("admin.paper_batch", batch_id=result.batch.id))


def _refused_file(filename: str, exc: SurveyError) -> ResponseReturnValue:
    transaction.rollback()
    refused(staff(), filename, str(exc))
    transaction.commit()
    return _page(exc.status, file_error=str(exc), filename=filename)


def _refused_cells(result: ImportResult, filename: str) -> ResponseReturnValue:
    return _page(400, result=result, filename=filename)


@bp.post("/paper/double")
@csrf.exempt  # checked in _uploads, after raising the body limit for this route
def paper_double() -> ResponseReturnValue:
    """Compare two clerks' entries of the same papers; nothing is stored yet."""
    user = staff()
    try:
        (a, b) = _uploads("file_a", "file_b")
        batch = double.compare(double.Upload(*a), double.Upload(*b), user)
    except SurveyError as exc:
        return _refused_file("双录入", exc)
    transaction.commit()
    flash(f"已比对：{batch.mismatch_count} 处不一致。请逐条核定后入库。", "ok")
    return redirect(url_for("admin.paper_batch", batch_id=batch.id))


def _batch_page(batch_id: int, status: int = 200, **context: object) -> ResponseReturnValue:
    batch = double.batch_in_scope(staff(), batch_id)
    page = render_template(
        "admin/paper_batch.html", batch=batch, unsettled=double.unsettled(batch), **context
    )
    return page, status


@bp.get("/paper/batches/<int:batch_id>")
def paper_batch(batch_id: int) -> ResponseReturnValue:
    """A batch: counts, agreement rate, mismatches and their decisions."""
    return _batch_page(batch_id)


@bp.post("/paper/batches/<int:batch_id>/settle")
def paper_settle(batch_id: int) -> ResponseReturnValue:
    """Record the reviewer's decisions on the mismatches submitted."""
    user = staff()
    batch = double.batch_in_scope(user, batch_id)
    done = 0
    try:
        for m in list(batch.mismatches):
            decision = request.form.get(f"d{m.id}", "")
            if decision:
                double.settle(batch, m.id, decision, request.form.get(f"v{m.id}", ""), user)
                done += 1
    except SurveyError as exc:
        transaction.rollback()
        return _batch_page(batch_id, exc.status, error=str(exc))
    transaction.commit()
    flash(f"已核定 {done} 处差异。", "ok")
    return redirect(url_for("admin.paper_batch", batch_id=batch_id))


@bp.post("/paper/batches/<int:batch_id>/store")
def paper_store(batch_id: int) -> ResponseReturnValue:
    """Store a settled batch: all rows or none."""
    user = staff()
    batch = double.batch_in_scope(user, batch_id)
    try:
        result = double.store_batch(batch, user)
    except SurveyError as exc:
        transaction.rollback()
        return _batch_page(batch_id, exc.status, error=str(exc))
    transaction.commit()
    if result.batch is None:
        return _batch_page(batch_id, 400, result=result)
    flash(f"已入库 {result.stored} 份纸质问卷。", "ok")
    return redirect(url_for("admin.paper_batch", batch_id=batch_id))


@bp.post("/paper/batches/<int:batch_id>/discard")
def paper_discard(batch_id: int) -> ResponseReturnValue:
    """Give up a batch in review."""
    user = staff()
    batch = double.batch_in_scope(user, batch_id)
    try:
        double.discard(batch, user)
    except SurveyError as exc:
        transaction.rollback()
        return _batch_page(batch_id, exc.status, error=str(exc))
    transaction.commit()
    flash("已作废此批次，未存入任何问卷。", "ok")
    return redirect(url_for("admin.paper"))
