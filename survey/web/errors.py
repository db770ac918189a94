"""Application-wide error handlers: Chinese pages for people, JSON for the API.

This is the one place where errors become status codes: HTTP exceptions keep theirs, a
:class:`~survey.errors.SurveyError` from a service answers with its ``status`` and its
message (after rolling back whatever the refused request had started), anything else is a
logged 500.
"""

from __future__ import annotations

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey.errors import SurveyError
from survey.services import transaction

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("请求有误", "提交的内容无法识别，请返回后重新填写。"),
    403: ("无权访问", "您没有访问此页面的权限。"),
    404: ("页面不存在", "您访问的页面或问卷不存在，请检查二维码或链接是否正确。"),
    405: ("请求方式不被允许", "请返回上一页重新操作。"),
    410: ("问卷已停止收集", "此二维码已停用或问卷已结束，感谢您的关注。"),
    413: ("提交内容过大", "提交的内容超过了允许的大小，请精简后重新提交。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("服务器开小差了", "请稍后再试。我们已记录此问题。"),
    503: ("系统繁忙", "请稍后刷新重试。"),
}


#: Paths outside /api that answer errors in JSON too (the field form's sync calls).
JSON_PATHS = frozenset({"/field/sync", "/field/known", "/field/token"})


def init_app(app: Flask) -> None:
    """Register one handler for every HTTP error."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(SurveyError, _handle_survey_error)
    app.register_error_handler(Exception, _handle_unexpected)


def render_error(
    code: int, detail: str | None = None, back_url: str | None = None
) -> ResponseReturnValue:
    """Render the error page (or JSON under /api) for ``code`` with an optional detail."""
    title, message = MESSAGES.get(code, ("出错了", "请稍后再试。"))
    if request.path.startswith("/api/") or request.path in JSON_PATHS:
        return jsonify({"error": title, "message": detail or message, "status": code}), code
    page = render_template(
        "error.html", code=code, title=title, message=detail or message, back_url=back_url
    )
    return page, code


def _handle_http(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    detail = getattr(exc, "survey_detail", None)
    if detail is None and isinstance(exc, CSRFError):
        detail = "页面已过期或无法验证，请刷新页面后重新提交。"
    return render_error(code, detail)


def _handle_survey_error(exc: SurveyError) -> ResponseReturnValue:
    transaction.rollback()
    return render_error(exc.status, str(exc) or None)


def _handle_unexpected(exc: Exception) -> ResponseReturnValue:
    from flask import current_app

    current_app.logger.exception("Unhandled error on %s", request.path)
    return render_error(500)
