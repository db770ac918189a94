"""Resident views: the QR questionnaire at /q/<code>, its thank-you page.

Status codes: unknown code 404; revoked, expired or closed questionnaire 410; a body no
browser would send 400 (too large: 413); a second response from the same device 409 with the
page "您已经提交过" (on GET the same page with 200, before the resident fills anything in).
A retried POST of the same form instance redirects (303) to the same thank-you page (also
when the device cookie was lost in between). A post is accepted only with the device cookie
its page's form instance was served to (the CSRF check, ``survey.services.form_tokens``):
resident pages use no session.
Every lookup and write is in ``survey.services.resident``; this module parses and renders.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Response as FlaskResponse
from flask import current_app
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from markupsafe import escape

from questionnaires import Definition
from survey.errors import BadSubmission
from survey.services import device
from survey.services import resident
from survey.services import transaction
from survey.services.form_tokens import FormInstance
from survey.services.form_tokens import instance_owned
from survey.services.form_tokens import load_instance
from survey.services.form_tokens import sign_instance
from survey.services.resident import AlreadyStored
from survey.services.resident import PointInfo
from survey.services.scans import counter_of
from survey.web.errors import render_error
from survey.web.extensions import csrf
from survey.web.public import bp
from survey.web.public.device_cookie import read_device_id
from survey.web.public.device_cookie import set_device_cookie
from survey.web.public.forms import HONEYPOT_FIELD
from survey.web.public.forms import INSTANCE_FIELD
from survey.web.public.forms import QuestionnaireForm
from survey.web.public.forms import form_class
from survey.web.public.forms import screen_submission
from survey.web.public.pages import blank_page
from survey.web.public.pages import form_page
from survey.web.public.pages import thanks_page


@bp.get("/")
def index() -> ResponseReturnValue:
    """Landing page for people who open the bare address."""
    return render_template("public/index.html")


@bp.get("/q/<code>")
def questionnaire(code: str) -> ResponseReturnValue:
    """Show the questionnaire of a collection point and count the scan."""
    point = resident.open_point(code)
    counter_of(current_app).record(point.id)
    device_id = read_device_id(request)
    new_device = device_id is None
    if device_id is None:
        device_id = device.new_device_id()
    elif resident.device_answered(point, device.device_hash(device_id)):
        return _already(point, 200)
    defn = resident.definition(point)
    before, after = blank_page(point, defn, _form_class(point, defn))
    # The token is URL-safe base64; escaping it is only a safeguard.
    page = "".join((before, str(escape(sign_instance(point.id, device_id))), after))
    response = make_response(page)
    _no_store(response)
    if new_device:
        set_device_cookie(response, device_id, request.is_secure)
    return response


@bp.post("/q/<code>")
@csrf.exempt  # checked below, after the body itself has been screened
def submit(code: str) -> ResponseReturnValue:
    """Validate and store one response, then redirect (303) to the thank-you page."""
    point = resident.open_point(code, writing=True)
    defn = resident.definition(point)
    form_cls = _form_class(point, defn)
    try:
        data = screen_submission(form_cls, _form_pairs())
    except BadSubmission as exc:
        return _bad_request(point, str(exc))
    instance = load_instance(point.id, data.get(INSTANCE_FIELD, ""))
    thanks_url = url_for("public.thanks", code=point.code)
    device_id = read_device_id(request)
    max_age = int(current_app.config["WTF_CSRF_TIME_LIMIT"])
    if instance is None or not instance_owned(instance, device_id, max_age):
        return _csrf_refused(point, instance, device_id, thanks_url)
    dhash = device.device_hash(device_id)
    # A retry of this instance (same thank-you) or this device again is decided by the
    # UNIQUE constraints at the INSERT (store_once): no query before it on the common path.

    # The rules run on the data itself; the form is only built to show what needs fixing.
    checked = form_cls.check_data(data)
    if checked is None:
        form = form_cls(formdata=data)
        form.check()
        token = data.get(INSTANCE_FIELD, "")
        response = make_response(form_page(point, defn, form, token))
    else:
        try:
            resident.store_once(
                resident.placement(point),
                defn,
                instance.instance_id,
                answers=checked.answers,
                others=checked.others,
                region_ids=dict(resident.region_options(point, defn).ids),
                served_at=instance.served_at,
                device_hash=dhash,
                screen=resident.screen(
                    point,
                    current_app.config,
                    honeypot=data.get(HONEYPOT_FIELD, ""),
                    address=request.remote_addr,
                    user_agent=request.headers.get("User-Agent"),
                ),
            )
        except resident.StoreRace as race:
            transaction.rollback()
            if isinstance(resident.race_outcome(race.instance_id), AlreadyStored):
                return redirect(thanks_url, 303)
            return _already(point, 409)
        transaction.commit()
        response = redirect(thanks_url, 303)
    _no_store(response)
    return response


@bp.get("/q/<code>/thanks")
def thanks(code: str) -> ResponseReturnValue:
    """Thank-you page with the questionnaire's civic message (for a point in any state)."""
    point = resident.known_point(code)
    return thanks_page(point, resident.definition(point))


def _csrf_refused(
    point: PointInfo, instance: FormInstance | None, device_id: str | None, thanks_url: str
) -> ResponseReturnValue:
    """A post whose form instance is missing, forged, too old or not served to this
    request's device cookie: 400, except the retry of a stored form whose cookie was lost
    (its thank-you page, as before)."""
    if (
        device_id is None
        and instance is not None
        and resident.instance_stored(instance.instance_id)
    ):
        return redirect(thanks_url, 303)
    return _bad_request(point, "页面已过期或无法验证，请重新打开问卷后填写。")


def _form_class(point: PointInfo, defn: Definition) -> type[QuestionnaireForm]:
    return form_class(defn, resident.region_options(point, defn))


def _form_pairs() -> list[tuple[str, str]]:
    """Parse the body strictly: URL-encoded UTF-8 only, a bounded number of fields."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise BadSubmission("提交的格式无法识别，请使用问卷页面提交。")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise BadSubmission("提交内容的编码无法识别，请使用问卷页面提交。")
    raw = request.get_data(cache=False, parse_form_data=False)  # 413 beyond MAX_CONTENT_LENGTH
    try:
        return parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=int(current_app.config["MAX_FORM_PARTS"]),
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadSubmission("提交内容的编码无法识别，请返回后重新填写。") from exc


def _already(point: PointInfo, status: int) -> ResponseReturnValue:
    defn = resident.definition(point)
    return render_template("public/already.html", point=point, defn=defn), status


def _bad_request(point: PointInfo, message: str) -> ResponseReturnValue:
    return render_error(400, message, back_url=url_for("public.questionnaire", code=point.code))


def _no_store(response: FlaskResponse) -> None:
    # The page carries a one-off form instance and CSRF token: never cache it.
    response.headers["Cache-Control"] = "no-store"
