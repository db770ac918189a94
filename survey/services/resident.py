"""What the resident pages need of the database: the point behind a code, its placement,
its definition and region options, and the one-response-per-device checks.

Hot path: every statement is built once and run on the session's connection through
SQLAlchemy's public ``Connection.execute`` (a cursor-level shortcut saved 6% of server CPU
per resident flow in a same-run A/B, under the 10% it had to earn: issue 22). What may be a
minute stale is cached (``survey.cache``): the point behind a code for the thank-you page,
a city's region options, the district of a region path, parsed definitions. Whether a
point takes answers is read from the database on every request; whether a device or a form
instance has answered is decided by the UNIQUE constraints when the response is inserted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from questionnaires import Definition
from survey.cache import cached
from survey.cache import caches
from survey.errors import Conflict
from survey.errors import Gone
from survey.errors import NotFound
from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import PointWindow
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.models.point import is_past
from survey.services.codes import normalise_code
from survey.services.integrity.screening import ReadingModel
from survey.services.integrity.screening import Screen
from survey.services.integrity.screening import Window
from survey.services.network import client_hashes
from survey.services.questionnaires import definition_of
from survey.services.region_options import RegionOptions
from survey.services.region_options import query_region_options
from survey.services.regions import district_on_path
from survey.services.responses import Placement
from survey.services.responses import write_response


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
    channel_code: str
    # The point's optional collection window (point_windows), read with the same query.
    window_starts_at: dt.datetime | None = None
    window_ends_at: dt.datetime | None = None
    window_daily_start: int | None = None
    window_daily_end: int | None = None

    def window(self) -> Window | None:
        """The collection window, or None when the point has none."""
        found = Window(
            self.window_starts_at,
            self.window_ends_at,
            self.window_daily_start,
            self.window_daily_end,
        )
        return found or None

    def takes_answers(self) -> bool:
        """Active, not revoked, not expired, and its questionnaire version is open."""
        return (
            self.active
            and self.revoked_at is None
            and not is_past(self.expires_at)
            and self.version_status == "open"
        )


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
        Channel.code,
        PointWindow.starts_at,
        PointWindow.ends_at,
        PointWindow.daily_start,
        PointWindow.daily_end,
    )
    .join(QuestionnaireVersion, CollectionPoint.questionnaire_version_id == QuestionnaireVersion.id)
    .join(Region, CollectionPoint.region_id == Region.id)
    .join(Channel, CollectionPoint.channel_id == Channel.id)
    .outerjoin(PointWindow, PointWindow.point_id == CollectionPoint.id)
    .where(CollectionPoint.code == bindparam("code"))
)
_INSTANCE_STORED = select(Response.id).where(Response.form_instance == bindparam("instance"))
_DEVICE_ANSWERED = select(Response.id).where(
    Response.questionnaire_id == bindparam("questionnaire_id"),
    Response.device_hash == bindparam("device_hash"),
)


def find_point(code: str, *, writing: bool = False) -> PointInfo:
    """The point of ``code`` in any state; ``NotFound`` when malformed or unknown.

    Read on a pooled connection of its own (on the form page this is the only statement,
    and a session with its transaction bookkeeping costs ~0.15 ms more), or, ``writing``,
    on the session's connection, which the response's INSERT then uses: one pooled
    connection per post instead of two.
    """
    norm = normalise_code(code)
    if norm is None:
        raise NotFound()
    if writing:
        row = db.session.connection().execute(_POINT_BY_CODE, {"code": norm}).first()
    else:
        with db.engine.connect() as conn:
            row = conn.execute(_POINT_BY_CODE, {"code": norm}).first()
    if row is None:
        raise NotFound()
    point = PointInfo(*row)
    caches().put("points", norm, point)
    return point


def open_point(code: str, *, writing: bool = False) -> PointInfo:
    """The point of ``code`` if it takes answers; ``NotFound`` or ``Gone`` otherwise
    (``writing``: see :func:`find_point`)."""
    point = find_point(code, writing=writing)
    if not point.takes_answers():
        raise Gone()
    return point


def known_point(code: str) -> PointInfo:
    """The point of ``code`` as this process last read it (within ``CACHE_SECONDS``).

    Only for the thank-you page, which any point shows whatever its state (the resident has
    already answered); pages that take answers use :func:`open_point`, so revocation and
    expiry apply at once.
    """
    norm = normalise_code(code)
    hit = caches().get("points", norm) if norm is not None else None
    return hit if hit is not None else find_point(code)


def definition(point: PointInfo) -> Definition:
    """The parsed definition of the point's questionnaire version."""
    return cached(
        "definitions",
        (point.version_id, point.checksum),
        lambda: definition_of(_version(point.version_id)),
    )


def _version(version_id: int) -> QuestionnaireVersion:
    version = db.session.get(QuestionnaireVersion, version_id)
    if version is None:  # deleted between two statements of one request
        raise NotFound()
    return version


def region_options(point: PointInfo, defn: Definition) -> RegionOptions:
    """Districts and streets of the point's city, when the questionnaire asks for them."""
    if not any(q.type == "region" for q in defn.questions):
        return RegionOptions((), ())
    ancestors = [int(p) for p in point.region_path.strip("/").split("/") if p]
    if not ancestors:
        return RegionOptions((), ())
    city_id = ancestors[0]
    return cached("region_options", city_id, lambda: query_region_options(city_id))


def placement(point: PointInfo) -> Placement:
    """The point's placement (version, region, district, channel) from the row just read."""
    district = cached("districts", point.region_path, lambda: district_on_path(point.region_path))
    return Placement(
        point_id=point.id,
        questionnaire_id=point.questionnaire_id,
        questionnaire_version_id=point.version_id,
        region_id=point.region_id,
        district_id=district,
        channel_id=point.channel_id,
    )


def screen(
    point: PointInfo,
    config: Mapping[str, Any],
    *,
    honeypot: str,
    address: str | None,
    user_agent: str | None,
) -> Screen:
    """What this request adds to the per-response integrity checks (no query when cached)."""
    network_hash, agent_hash = client_hashes(address, user_agent)
    local = point.channel_code in _local_channels(str(config["INTEGRITY_LOCAL_CHANNELS"]))
    return Screen(
        model=_reading_model(config),
        honeypot_length=len(honeypot.strip()),
        network_hash=network_hash,
        agent_hash=agent_hash,
        window=point.window(),
        local_point=local,
        district_of_region=_district_map(point) if local else {},
    )


def _local_channels(setting: str) -> frozenset[str]:
    return cached("region_options", ("local_channels", setting), lambda: _split(setting))


def _split(setting: str) -> frozenset[str]:
    return frozenset(part.strip() for part in setting.split(",") if part.strip())


def _reading_model(config: Mapping[str, Any]) -> ReadingModel:
    keys = (
        "INTEGRITY_READING_CPS",
        "INTEGRITY_SECONDS_PER_ANSWER",
        "INTEGRITY_TYPING_CPS",
        "MIN_PLAUSIBLE_SECONDS",
    )
    values = tuple(config[k] for k in keys)
    return cached(
        "definitions", ("reading_model", values), lambda: ReadingModel.from_config(config)
    )


def _district_map(point: PointInfo) -> Mapping[int, int]:
    """District id of every district and street of the point's city (cached per city)."""
    ancestors = [int(p) for p in point.region_path.strip("/").split("/") if p]
    if not ancestors:
        return {}
    city_id = ancestors[0]
    return cached("region_options", ("district_map", city_id), lambda: _query_district_map(city_id))


def _query_district_map(city_id: int) -> dict[int, int]:
    rows = db.session.execute(
        db.select(Region.id, Region.level, Region.parent_id).where(
            Region.path.startswith(f"/{city_id}/"), Region.level.in_(("district", "street"))
        )
    ).all()
    out: dict[int, int] = {}
    for region_id, level, parent_id in rows:
        if level == "district":
            out[region_id] = region_id
        elif parent_id is not None:
            out[region_id] = parent_id
    return out


def device_answered(point: PointInfo, device_hash: str) -> bool:
    """True when this device already answered the point's questionnaire (any version)."""
    params = {"questionnaire_id": point.questionnaire_id, "device_hash": device_hash}
    return db.session.connection().execute(_DEVICE_ANSWERED, params).first() is not None


def instance_stored(instance_id: str) -> bool:
    """True when a response with this form instance is stored."""
    conn = db.session.connection()
    return conn.execute(_INSTANCE_STORED, {"instance": instance_id}).first() is not None


class AlreadyStored(Conflict):
    """This form instance is already stored (a retried or concurrent post): same thank-you."""


class AlreadyAnswered(Conflict):
    """This device already answered the questionnaire."""


class StoreRace(Conflict):
    """The INSERT lost a race on a UNIQUE constraint (the form instance or the device). The
    caller rolls the transaction back, then asks :func:`race_outcome` which case it was."""

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        super().__init__("答卷已提交。")


def store_once(place: Placement, defn: Definition, instance_id: str, **fields: Any) -> None:
    """Store one response (``responses.write_response`` with ``fields``); never twice.

    Two posts of one form instance, or two forms of one device, can race past the checks
    above; the UNIQUE constraints decide at the INSERT, and the loser gets ``StoreRace``
    (services never roll back: the request does, then calls :func:`race_outcome`).
    """
    try:
        write_response(place, defn, form_instance=instance_id, **fields)
    except IntegrityError:
        raise StoreRace(instance_id) from None


def race_outcome(instance_id: str) -> AlreadyStored | AlreadyAnswered:
    """After a ``StoreRace`` was rolled back: ``AlreadyStored`` when this form instance is
    stored (a retried post), else ``AlreadyAnswered`` (another form of the same device)."""
    if instance_stored(instance_id):
        return AlreadyStored()
    return AlreadyAnswered()
