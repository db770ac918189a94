"""Resident views: the QR questionnaire at /q/<code>, its thank-you page.

Status codes: unknown code 404; revoked, expired or closed questionnaire 410; a body no
browser would send 400 (too large: 413); a second response from the same device 409 with the
page "您已经提交过" (on GET the same page with 200, before the resident fills anything in).
A retried POST of the same form instance redirects (303) to the same thank-you page.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import parse_qsl

from flask import Response as FlaskResponse
from flask import abort
from flask import current_app
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlalchemy.orm import joinedload
from wtforms import ValidationError

from questionnaires import Definition
from survey.errors import render_error
from survey.extensions import csrf
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.models.base import utcnow
from survey.public import bp
from survey.public.forms import CSRF_FIELD
from survey.public.forms import INSTANCE_FIELD
from survey.public.forms import BadSubmission
from survey.public.forms import QuestionnaireForm
from survey.public.forms import RegionOptions
from survey.public.forms import form_class
from survey.public.forms import screen_submission
from survey.services import device
from survey.services.codes import normalise_code
from survey.services.questionnaires import definition_of
from survey.services.responses import store_response
from survey.services.scans import counter_of

_INSTANCE_SALT = "survey.form-instance"


@bp.get("/")
def index() -> ResponseReturnValue:
    """Landing page for people who open the bare address."""
    return render_template("public/index.html")


@bp.get("/q/<code>")
def questionnaire(code: str) -> ResponseReturnValue:
    """Show the questionnaire of a collection point and count the scan."""
    point = _open_point(code)
    counter_of(current_app).record(point.id)
    device_id = device.read_device_id(request)
    new_device = device_id is None
    if device_id is None:
        device_id = device.new_device_id()
    elif _device_answered(point, device.device_hash(device_id)):
        return _already(point, 200)
    defn = definition_of(point.questionnaire_version)
    form = _form_class(point, defn)()
    instance = _sign_instance(point, device_id)
    response = make_response(_render_form(point, defn, form, instance))
    _no_store(response)
    if new_device:
        device.set_device_cookie(response, device_id, request.is_secure)
    return response


@bp.post("/q/<code>")
@csrf.exempt  # checked below, after the body itself has been screened
def submit(code: str) -> ResponseReturnValue:
    """Validate and store one response, then redirect (303) to the thank-you page."""
    point = _open_point(code)
    defn = definition_of(point.questionnaire_version)
    form_cls = _form_class(point, defn)
    try:
        data = screen_submission(form_cls, _form_pairs())
    except BadSubmission as exc:
        return _bad_request(point, str(exc))
    try:
        validate_csrf(data.get(CSRF_FIELD))
    except ValidationError:
        return _bad_request(point, "页面已过期或无法验证，请重新打开问卷后填写。")
    instance = data.get(INSTANCE_FIELD, "")
    payload = _load_instance(point, instance)
    if payload is None:
        return _bad_request(point, "页面信息无法验证，请重新打开问卷后填写。")
    instance_id, served_at, form_device = payload
    thanks = url_for("public.thanks", code=point.code)
    if _instance_stored(instance_id):
        return redirect(thanks, 303)

    device_id = device.read_device_id(request)
    new_device = device_id is None
    device_id = device_id or form_device
    dhash = device.device_hash(device_id)
    if _device_answered(point, dhash):
        # A retry of this very instance may have been stored since the check above.
        if _instance_stored(instance_id):
            return redirect(thanks, 303)
        return _already(point, 409)

    form = form_cls(formdata=data)
    if not form.check():
        response = make_response(_render_form(point, defn, form, instance))
        _no_store(response)
        if new_device:
            device.set_device_cookie(response, device_id, request.is_secure)
        return response

    try:
        store_response(
            point,
            defn,
            form.answers(),
            others=form.others(),
            served_at=served_at,
            device_hash=dhash,
            form_instance=instance_id,
            min_plausible_seconds=float(current_app.config["MIN_PLAUSIBLE_SECONDS"]),
        )
        db.session.commit()
    except IntegrityError:
        # A concurrent POST of the same instance, or from the same device, won the race.
        db.session.rollback()
        if _instance_stored(instance_id):
            return redirect(thanks, 303)
        return _already(point, 409)
    response = redirect(thanks, 303)
    if new_device:
        device.set_device_cookie(response, device_id, request.is_secure)
    return response


@bp.get("/q/<code>/thanks")
def thanks(code: str) -> ResponseReturnValue:
    """Thank-you page with the questionnaire's civic message."""
    point = _find_point(code)
    defn = definition_of(point.questionnaire_version)
    return render_template("public/thanks.html", point=point, defn=defn)


# --- helpers ------------------------------------------------------------------------------


def _find_point(code: str) -> CollectionPoint:
    norm = normalise_code(code)
    if norm is None:
        abort(404)
    point = db.session.execute(
        db.select(CollectionPoint)
        .options(
            joinedload(CollectionPoint.questionnaire_version).options(
                defer(QuestionnaireVersion.source_toml)
            ),
            joinedload(CollectionPoint.region),
        )
        .where(CollectionPoint.code == norm)
    ).scalar_one_or_none()
    if point is None:
        abort(404)
    return point


def _open_point(code: str) -> CollectionPoint:
    """The point of ``code``; 404 when unknown, 410 when it cannot take responses."""
    point = _find_point(code)
    if (
        not point.active
        or point.revoked_at is not None
        or point.is_expired()
        or point.questionnaire_version.status != "open"
    ):
        abort(410)
    return point


def _region_options(point: CollectionPoint) -> RegionOptions:
    """Districts and streets of the city the point lies in, ordered by code."""
    ancestors = point.region.ancestor_ids()
    if not ancestors:
        return RegionOptions((), ())
    rows = db.session.execute(
        db.select(Region.id, Region.code, Region.name, Region.level, Region.parent_id)
        .where(
            Region.path.startswith(f"/{ancestors[0]}/"),
            Region.level.in_(("district", "street")),
        )
        .order_by(Region.code)
    ).all()
    districts = [r for r in rows if r.level == "district"]
    streets: dict[int, list[tuple[str, str]]] = {d.id: [] for d in districts}
    for r in rows:
        if r.level == "street" and r.parent_id in streets:
            streets[r.parent_id].append((r.code, r.name))
    return RegionOptions(
        streets=tuple((d.name, tuple(streets[d.id])) for d in districts if streets[d.id]),
        districts=(("", tuple((d.code, d.name) for d in districts)),),
    )


def _form_class(point: CollectionPoint, defn: Definition) -> type[QuestionnaireForm]:
    needs_regions = any(q.type == "region" for q in defn.questions)
    regions = _region_options(point) if needs_regions else RegionOptions((), ())
    return form_class(defn, regions)


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


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_INSTANCE_SALT)  # type: ignore[arg-type]


def _sign_instance(point: CollectionPoint, device_id: str) -> str:
    """Signed form instance: random id, served time, point and device id."""
    served = utcnow().timestamp()
    payload = {"i": secrets.token_urlsafe(16), "t": round(served, 3), "p": point.id, "d": device_id}
    return _serializer().dumps(payload)


def _load_instance(point: CollectionPoint, token: str) -> tuple[str, dt.datetime, str] | None:
    """(instance id, served time, device id) from a valid token for this point, else None."""
    if not token or len(token) > 400:
        return None
    try:
        payload: Any = _serializer().loads(token)
    except BadSignature:
        return None
    try:
        instance_id, served, point_id, device_id = (
            payload["i"],
            payload["t"],
            payload["p"],
            payload["d"],
        )
        served_at = dt.datetime.fromtimestamp(float(served), dt.UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    if point_id != point.id or not isinstance(instance_id, str) or not isinstance(device_id, str):
        return None
    return instance_id, served_at, device_id


def _instance_stored(instance_id: str) -> bool:
    return (
        db.session.execute(
            db.select(Response.id).where(Response.form_instance == instance_id)
        ).first()
        is not None
    )


def _device_answered(point: CollectionPoint, dhash: str) -> bool:
    return (
        db.session.execute(
            db.select(Response.id).where(
                Response.questionnaire_id == point.questionnaire_version.questionnaire_id,
                Response.device_hash == dhash,
            )
        ).first()
        is not None
    )


def _render_form(
    point: CollectionPoint, defn: Definition, form: QuestionnaireForm, instance: str
) -> str:
    return render_template(
        "public/questionnaire.html",
        point=point,
        defn=defn,
        form=form,
        csrf_token=generate_csrf(),
        instance=instance,
        csrf_field=CSRF_FIELD,
        instance_field=INSTANCE_FIELD,
    )


def _already(point: CollectionPoint, status: int) -> ResponseReturnValue:
    defn = definition_of(point.questionnaire_version)
    return render_template("public/already.html", point=point, defn=defn), status


def _bad_request(point: CollectionPoint, message: str) -> ResponseReturnValue:
    return render_error(400, message, back_url=url_for("public.questionnaire", code=point.code))


def _no_store(response: FlaskResponse) -> None:
    # The page carries a one-off form instance and CSRF token: never cache it.
    response.headers["Cache-Control"] = "no-store"
