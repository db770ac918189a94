"""Resident views: the QR questionnaire at /q/<code>, its thank-you page.

Status codes: unknown code 404; revoked, expired or closed questionnaire 410; a body no
browser would send 400 (too large: 413); a second response from the same device 409 with the
page "您已经提交过" (on GET the same page with 200, before the resident fills anything in).
A retried POST of the same form instance redirects (303) to the same thank-you page.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass
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
from markupsafe import Markup
from markupsafe import escape
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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
from survey.services.responses import Placement
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
    defn = _definition(point)
    form_cls = _form_class(point, defn)
    instance = _sign_instance(point, device_id)
    before, between, after = _blank_page(point, defn, form_cls)
    # The tokens are URL-safe base64; escaping them is only a safeguard.
    page = "".join((before, str(escape(generate_csrf())), between, str(escape(instance)), after))
    response = make_response(page)
    _no_store(response)
    if new_device:
        device.set_device_cookie(response, device_id, request.is_secure)
    return response


@bp.post("/q/<code>")
@csrf.exempt  # checked below, after the body itself has been screened
def submit(code: str) -> ResponseReturnValue:
    """Validate and store one response, then redirect (303) to the thank-you page."""
    point = _open_point(code)
    defn = _definition(point)
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
    device_id = device.read_device_id(request)
    new_device = device_id is None
    device_id = device_id or form_device
    dhash = device.device_hash(device_id)
    # One query for both: a retry of this instance (same thank-you), or this device again.
    earlier = _earlier_responses(point, instance_id, dhash)
    if instance_id in earlier:
        return redirect(thanks, 303)
    if earlier:
        return _already(point, 409)

    # The rules run on the data itself; the form is only built to show what needs fixing.
    checked = form_cls.check_data(data)
    if checked is None:
        form = form_cls(formdata=data)
        form.check()
        response = make_response(_render_form(point, defn, form, instance))
        _no_store(response)
        if new_device:
            device.set_device_cookie(response, device_id, request.is_secure)
        return response

    try:
        options = _form_regions(point, defn)
        store_response(
            _placement(point),
            defn,
            checked.answers,
            others=checked.others,
            region_ids=dict(options.ids),
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
    """Thank-you page with the questionnaire's civic message (for a point in any state)."""
    point = _known_point(code)
    cache: dict[tuple[int, str, str], str] = current_app.extensions.setdefault(
        "survey_thanks_pages", {}
    )
    # The page depends on the questionnaire version only (its title and civic message).
    key = (point.version_id, point.checksum, request.script_root)
    page = cache.get(key)
    if page is None:
        if len(cache) > 256:
            cache.clear()
        page = render_template("public/thanks.html", point=point, defn=_definition(point))
        cache[key] = page
    return page


# --- helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointInfo:
    """What a resident page needs of a collection point, read with one lean query."""

    id: int
    code: str
    active: bool
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None
    version_id: int
    version_status: str
    checksum: str
    questionnaire_id: int
    region_path: str
    region_id: int
    channel_id: int

    def is_expired(self) -> bool:
        """True once the optional expiry time has passed (naive values are UTC)."""
        if self.expires_at is None:
            return False
        expires = self.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        return utcnow() >= expires


# Hot-path statements are built once; only their parameters change per request.
_POINT_BY_CODE = (
    select(
        CollectionPoint.id,
        CollectionPoint.code,
        CollectionPoint.active,
        CollectionPoint.revoked_at,
        CollectionPoint.expires_at,
        QuestionnaireVersion.id,
        QuestionnaireVersion.status,
        QuestionnaireVersion.checksum,
        QuestionnaireVersion.questionnaire_id,
        Region.path,
        CollectionPoint.region_id,
        CollectionPoint.channel_id,
    )
    .join(QuestionnaireVersion, CollectionPoint.questionnaire_version_id == QuestionnaireVersion.id)
    .join(Region, CollectionPoint.region_id == Region.id)
    .where(CollectionPoint.code == bindparam("code"))
)
_EARLIER = (
    select(Response.form_instance)
    .where(
        or_(
            Response.form_instance == bindparam("instance"),
            and_(
                Response.questionnaire_id == bindparam("questionnaire_id"),
                Response.device_hash == bindparam("device_hash"),
            ),
        )
    )
    .limit(2)
)


def _find_point(code: str) -> PointInfo:
    """The point of ``code`` (any state); 404 when the code is malformed or unknown."""
    norm = normalise_code(code)
    if norm is None:
        abort(404)
    # Core on the session's connection: the ORM adds nothing to a plain row.
    row = db.session.connection().execute(_POINT_BY_CODE, {"code": norm}).first()
    if row is None:
        abort(404)
    point = PointInfo(*row)
    _known_points()[norm] = (time.monotonic(), point)
    return point


def _known_points() -> dict[str, tuple[float, PointInfo]]:
    cache: dict[str, tuple[float, PointInfo]] = current_app.extensions.setdefault(
        "survey_known_points", {}
    )
    if len(cache) > 4096:
        cache.clear()
    return cache


def _known_point(code: str) -> PointInfo:
    """The point of ``code`` as this process last read it (at most a minute ago), else read.

    Only for the thank-you page, which any point shows whatever its state (the resident
    has already answered): its question, version and message do not change within a
    minute in any way that matters, so it needs no query. Pages that take answers read
    the point every time (:func:`_open_point`), so revocation and expiry apply at once.
    """
    norm = normalise_code(code)
    hit = _known_points().get(norm) if norm is not None else None
    if hit is not None and time.monotonic() - hit[0] < _cache_seconds():
        return hit[1]
    return _find_point(code)


def _cache_seconds() -> float:
    return float(current_app.config.get("REGION_CACHE_SECONDS", 60))


def _open_point(code: str) -> PointInfo:
    """The point of ``code``; 404 when unknown, 410 when it cannot take responses."""
    point = _find_point(code)
    if (
        not point.active
        or point.revoked_at is not None
        or point.is_expired()
        or point.version_status != "open"
    ):
        abort(410)
    return point


def _definition(point: PointInfo) -> Definition:
    """The parsed definition of the point's version (parsed once per process)."""
    key = (point.version_id, point.checksum)
    defn = _DEFINITIONS.get(key)
    if defn is None:
        version = db.session.get(QuestionnaireVersion, point.version_id)
        assert version is not None
        defn = definition_of(version)
        _DEFINITIONS[key] = defn
    return defn


_DEFINITIONS: dict[tuple[int, str], Definition] = {}


def _region_options(point: PointInfo) -> RegionOptions:
    """Districts and streets of the city the point lies in (cached for a minute per process).

    Regions change rarely (staff add a street now and then); a minute of staleness costs
    nothing, and a query per page view on the hot path would.
    """
    ancestors = [int(p) for p in point.region_path.strip("/").split("/") if p]
    if not ancestors:
        return RegionOptions((), ())
    cache: dict[int, tuple[float, RegionOptions]] = current_app.extensions.setdefault(
        "survey_region_options", {}
    )
    hit = cache.get(ancestors[0])
    now = time.monotonic()
    if hit is not None and now - hit[0] < _cache_seconds():
        return hit[1]
    options = _query_region_options(ancestors[0])
    cache[ancestors[0]] = (now, options)
    return options


def _query_region_options(city_id: int) -> RegionOptions:
    rows = db.session.execute(
        db.select(Region.id, Region.code, Region.name, Region.level, Region.parent_id)
        .where(
            Region.path.startswith(f"/{city_id}/"),
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
        ids=tuple((r.code, r.id) for r in rows),
        streets=tuple((d.name, tuple(streets[d.id])) for d in districts if streets[d.id]),
        districts=(("", tuple((d.code, d.name) for d in districts)),),
    )


def _form_regions(point: PointInfo, defn: Definition) -> RegionOptions:
    needs_regions = any(q.type == "region" for q in defn.questions)
    return _region_options(point) if needs_regions else RegionOptions((), ())


def _form_class(point: PointInfo, defn: Definition) -> type[QuestionnaireForm]:
    return form_class(defn, _form_regions(point, defn))


def _placement(point: PointInfo) -> Placement:
    """The point's placement (version, region, district, channel) from the row just read."""
    return Placement(
        point_id=point.id,
        questionnaire_id=point.questionnaire_id,
        questionnaire_version_id=point.version_id,
        region_id=point.region_id,
        district_id=_district_id(point.region_path),
        channel_id=point.channel_id,
    )


_DISTRICTS_AMONG = select(Region.id).where(
    Region.id.in_(bindparam("ids", expanding=True)), Region.level == "district"
)


def _district_id(region_path: str) -> int | None:
    """The district on a region's materialised path, as ``district_of`` finds it.

    Cached per path for a minute per process: a region's level does not change, and a
    region moved elsewhere in the tree has a new path.
    """
    cache: dict[str, tuple[float, int | None]] = current_app.extensions.setdefault(
        "survey_districts", {}
    )
    hit = cache.get(region_path)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _cache_seconds():
        return hit[1]
    ancestors = [int(p) for p in region_path.strip("/").split("/") if p]
    found = set(db.session.connection().execute(_DISTRICTS_AMONG, {"ids": ancestors}).scalars())
    # The nearest district at or above the region (the path runs from the root down).
    district = next((i for i in reversed(ancestors) if i in found), None)
    if len(cache) > 4096:
        cache.clear()
    cache[region_path] = (now, district)
    return district


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
    return device.signing_serializer(_INSTANCE_SALT)


def _sign_instance(point: PointInfo, device_id: str) -> str:
    """Signed form instance: random id, served time, point and device id."""
    served = utcnow().timestamp()
    payload = {"i": secrets.token_urlsafe(16), "t": round(served, 3), "p": point.id, "d": device_id}
    return _serializer().dumps(payload)


def _load_instance(point: PointInfo, token: str) -> tuple[str, dt.datetime, str] | None:
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


_INSTANCE_STORED = select(Response.id).where(Response.form_instance == bindparam("instance"))
_DEVICE_ANSWERED = select(Response.id).where(
    Response.questionnaire_id == bindparam("questionnaire_id"),
    Response.device_hash == bindparam("device_hash"),
)


def _instance_stored(instance_id: str) -> bool:
    conn = db.session.connection()
    return conn.execute(_INSTANCE_STORED, {"instance": instance_id}).first() is not None


def _earlier_responses(point: PointInfo, instance_id: str, dhash: str) -> set[str | None]:
    """Form instances of responses with this instance id or from this device."""
    params = {
        "instance": instance_id,
        "questionnaire_id": point.questionnaire_id,
        "device_hash": dhash,
    }
    return set(db.session.connection().execute(_EARLIER, params).scalars())


def _device_answered(point: PointInfo, dhash: str) -> bool:
    params = {"questionnaire_id": point.questionnaire_id, "device_hash": dhash}
    return db.session.connection().execute(_DEVICE_ANSWERED, params).first() is not None


def _render_form(
    point: PointInfo,
    defn: Definition,
    form: QuestionnaireForm | None,
    instance: str,
    sections_html: Markup | None = None,
) -> str:
    return render_template(
        "public/questionnaire.html",
        point=point,
        defn=defn,
        form=form,
        sections_html=sections_html,
        csrf_token=generate_csrf(),
        instance=instance,
        csrf_field=CSRF_FIELD,
        instance_field=INSTANCE_FIELD,
    )


_CSRF_SLOT = "@@survey-csrf-slot@@"
_INSTANCE_SLOT = "@@survey-instance-slot@@"


def _blank_page(
    point: PointInfo, defn: Definition, form_cls: type[QuestionnaireForm]
) -> tuple[str, str, str]:
    """The unanswered questionnaire page of a point, split around its two per-page tokens.

    Rendered once per point and form class: everything but the CSRF token and the signed
    form instance is the same for every resident (the template reads nothing else of the
    request), so a page view only joins three strings and two tokens.
    """
    cache: dict[tuple[str, type[QuestionnaireForm], str], tuple[str, str, str]] = (
        current_app.extensions.setdefault("survey_blank_pages", {})
    )
    key = (point.code, form_cls, request.script_root)
    parts = cache.get(key)
    if parts is None:
        html = render_template(
            "public/questionnaire.html",
            point=point,
            defn=defn,
            form=None,
            sections_html=_blank_sections(form_cls),
            csrf_token=_CSRF_SLOT,
            instance=_INSTANCE_SLOT,
            csrf_field=CSRF_FIELD,
            instance_field=INSTANCE_FIELD,
        )
        before, rest = html.split(_CSRF_SLOT)
        between, after = rest.split(_INSTANCE_SLOT)
        parts = (before, between, after)
        if len(cache) > 1024:
            cache.clear()
        cache[key] = parts
    return parts


def _blank_sections(form_cls: type[QuestionnaireForm]) -> Markup:
    """The question blocks of an unanswered form: the same for everyone, rendered once."""
    cache: dict[type[QuestionnaireForm], Markup] = current_app.extensions.setdefault(
        "survey_blank_sections", {}
    )
    html = cache.get(form_cls)
    if html is None:
        if len(cache) > 64:
            cache.clear()
        html = Markup(
            render_template("public/_sections.html", defn=form_cls.definition, form=form_cls())
        )
        cache[form_cls] = html
    return html


def _already(point: PointInfo, status: int) -> ResponseReturnValue:
    defn = _definition(point)
    return render_template("public/already.html", point=point, defn=defn), status


def _bad_request(point: PointInfo, message: str) -> ResponseReturnValue:
    return render_error(400, message, back_url=url_for("public.questionnaire", code=point.code))


def _no_store(response: FlaskResponse) -> None:
    # The page carries a one-off form instance and CSRF token: never cache it.
    response.headers["Cache-Control"] = "no-store"
