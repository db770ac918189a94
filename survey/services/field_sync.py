"""Storing what interviewers' devices queued: interviews and contact attempts, each once.

A device sends a batch of records, each with the UUID it gave the draft when it was
created. Records already stored are reported back as ``already`` and written again never:
the UUID is unique on ``contact_attempts`` and, for interviews, on ``responses.
form_instance``, so two concurrent syncs of one draft (two tabs, a retry racing the first
try) store one response; the loser's attempt is rolled back to its savepoint and the batch
is looked at again. A batch is all or nothing: one record outside the interviewer's assignments
refuses the whole batch (403), one malformed record too (400).

Never the resident's identity: a record has no field for a name, address or phone number,
and unknown fields are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy.exc import IntegrityError

from questionnaires import Definition
from survey.errors import Conflict
from survey.errors import InvalidInput
from survey.extensions import db
from survey.models import ContactAttempt
from survey.models import QuestionnaireVersion
from survey.models import User
from survey.models.base import utcnow
from survey.models.contact_attempt import DISPOSITIONS
from survey.models.contact_attempt import INTERVIEW_DISPOSITIONS
from survey.models.sample_plan import FIELD_MODES
from survey.services import field_checks
from survey.services.interviewers import assigned_units
from survey.services.questionnaires import definition_of
from survey.services.region_options import RegionOptions
from survey.services.region_options import query_region_options
from survey.services.responses import Placement
from survey.services.responses import write_response

#: Largest batch one sync may send.
MAX_BATCH = 200
#: Fields a record may carry; anything else (a name, an address, a phone) is refused.
RECORD_KEYS = frozenset(
    {"uuid", "unit_id", "mode", "disposition", "started_at", "finished_at", "answers"}
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class FieldRecord:
    """One queued record: an interview (with answers) or another contact outcome."""

    uuid: str
    unit_id: int
    mode: str
    disposition: str
    started_at: dt.datetime | None
    finished_at: dt.datetime
    #: Form pairs as the device sent them (interviews only); checked by the web layer.
    pairs: list[tuple[str, str]] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    others: dict[str, str] = field(default_factory=dict)

    @property
    def is_interview(self) -> bool:
        return self.disposition in INTERVIEW_DISPOSITIONS


@dataclass(frozen=True)
class UnitContext:
    """What storing an interview in a drawn community needs."""

    placement: Placement
    definition: Definition
    regions: RegionOptions
    plan_id: int = 0


@dataclass(frozen=True)
class SyncResult:
    """UUIDs stored now and those the server already had; counts of what was written."""

    stored: list[str]
    already: list[str]
    responses: int
    attempts: int


def parse_records(items: Any) -> list[FieldRecord]:
    """Records from the decoded JSON body; ``InvalidInput`` naming the first bad one."""
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        raise InvalidInput(f"同步内容须为不超过 {MAX_BATCH} 条记录的列表。")
    out: dict[str, FieldRecord] = {}
    for number, item in enumerate(items, start=1):
        try:
            record = _record(item)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"第 {number} 条记录无效：{exc}") from None
        out.setdefault(record.uuid, record)
    return list(out.values())


def _record(item: Any) -> FieldRecord:
    if not isinstance(item, dict):
        raise ValueError("应为对象")
    extra = set(item) - RECORD_KEYS
    if extra:
        raise ValueError("包含不接收的字段（不收集姓名、地址、电话等个人信息）")
    uuid = str(item["uuid"]).lower()
    if not _UUID.match(uuid):
        raise ValueError("编号不是 UUID")
    mode, disposition = str(item["mode"]), str(item["disposition"])
    if mode not in FIELD_MODES:
        raise ValueError("访问方式须为入户、拦截或电话")
    if disposition not in DISPOSITIONS:
        raise ValueError("访问结果代码无效")
    finished = _time(item["finished_at"])
    started = _time(item["started_at"]) if item.get("started_at") else None
    if finished > utcnow() + dt.timedelta(days=1):
        raise ValueError("完成时间在未来")
    pairs = _pairs(item.get("answers") or [])
    if disposition not in INTERVIEW_DISPOSITIONS and pairs:
        raise ValueError("未完成访问的记录不能带答案")
    unit_id = item["unit_id"]
    if not isinstance(unit_id, int) or isinstance(unit_id, bool) or unit_id <= 0:
        raise ValueError("社区编号无效")
    return FieldRecord(uuid, unit_id, mode, disposition, started, finished, pairs)


def _time(value: Any) -> dt.datetime:
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("时间须带时区")
    return moment.astimezone(dt.UTC)


def _pairs(raw: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, list):
        raise ValueError("答案格式无效")
    out = []
    for pair in raw:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise ValueError("答案格式无效")
        out.append((pair[0], pair[1]))
    return out


def contexts(interviewer: User, unit_ids: Sequence[int]) -> dict[int, UnitContext]:
    """Each unit of ``unit_ids``, which must be assigned to ``interviewer`` (else 403)."""
    units = assigned_units(interviewer, unit_ids)
    out = {}
    for unit in units.values():
        plan = unit.plan
        version = db.session.get(QuestionnaireVersion, plan.questionnaire_version_id)
        assert version is not None
        city_id = plan.region.ancestor_ids()[0]
        out[unit.id] = UnitContext(
            placement=Placement(
                point_id=None,
                questionnaire_id=version.questionnaire_id,
                questionnaire_version_id=version.id,
                region_id=unit.community_id,
                district_id=unit.district_id,
                channel_id=None,  # type: ignore[arg-type]
            ),
            definition=definition_of(version),
            regions=query_region_options(city_id),
            plan_id=plan.id,
        )
    return out


def store(
    interviewer: User, records: Sequence[FieldRecord], units: Mapping[int, UnitContext]
) -> SyncResult:
    """Store the records not stored yet (flushed, the caller commits)."""
    uuids = [r.uuid for r in records]
    for _ in range(3):
        known = _known(uuids)
        new = [r for r in records if r.uuid not in known]
        try:
            # A savepoint: a concurrent sync that stored one of them first undoes only this
            # attempt, not the caller's unit of work.
            with db.session.begin_nested():
                for r in new:
                    _store_one(interviewer, r, units[r.unit_id])
        except IntegrityError:
            continue
        interviews = sum(1 for r in new if r.is_interview)
        for plan_id in sorted({units[r.unit_id].plan_id for r in new if r.is_interview}):
            field_checks.check_plan(plan_id)
        return SyncResult(
            stored=[r.uuid for r in new],
            already=[u for u in uuids if u in known],
            responses=interviews,
            attempts=len(new) - interviews,
        )
    raise Conflict("同步冲突，请稍后重试。")


def _known(uuids: Sequence[str]) -> set[str]:
    if not uuids:
        return set()
    rows = db.session.execute(
        db.select(ContactAttempt.client_uuid).where(ContactAttempt.client_uuid.in_(uuids))
    ).scalars()
    return set(rows)


def _store_one(interviewer: User, r: FieldRecord, unit: UnitContext) -> None:
    response_id = None
    if r.is_interview:
        response_id = write_response(
            unit.placement,
            unit.definition,
            r.answers,
            others=r.others,
            region_ids=dict(unit.regions.ids),
            served_at=r.started_at,
            device_hash=None,
            form_instance=r.uuid,
            submitted_at=r.finished_at,
            source=r.mode,
        )
    db.session.add(
        ContactAttempt(
            client_uuid=r.uuid,
            unit_id=r.unit_id,
            interviewer_id=interviewer.id,
            mode=r.mode,
            disposition=r.disposition,
            attempted_at=r.finished_at,
            response_id=response_id,
        )
    )


def known_uuids(interviewer: User, uuids: Sequence[str]) -> list[str]:
    """Which of ``uuids`` the server has from this interviewer (the device asks after a
    lost reply)."""
    clean = [u.lower() for u in uuids if isinstance(u, str) and _UUID.match(u.lower())][:MAX_BATCH]
    if not clean:
        return []
    rows = db.session.execute(
        db.select(ContactAttempt.client_uuid).where(
            ContactAttempt.client_uuid.in_(clean), ContactAttempt.interviewer_id == interviewer.id
        )
    ).scalars()
    return sorted(rows)
