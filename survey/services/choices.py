"""What staff forms and filters offer: regions in scope, channels, questionnaire versions.

Also the lookups that turn a submitted id back into an object, raising ``NotFound`` for an
unknown id (and for a region outside the account's scope, via ``access``).
"""

from __future__ import annotations

from survey.errors import NotFound
from survey.extensions import db
from survey.models import Channel
from survey.models import Questionnaire
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import User
from survey.services import access
from survey.services.names import check_region_code


def region_choices(
    user: User, levels: tuple[str, ...] | None = None, blank: str | None = None
) -> list[tuple[int, str]]:
    """(id, indented name) of the regions the user may see, tree order."""
    choices: list[tuple[int, str]] = [(0, blank)] if blank is not None else []
    for region in db.session.execute(access.visible_regions_select(user)).scalars():
        if levels and region.level not in levels:
            continue
        depth = len(region.ancestor_ids()) - 1
        choices.append((region.id, "　" * depth + f"{region.name}（{region.level_name}）"))
    return choices


def channel_choices(blank: str | None = None) -> list[tuple[int, str]]:
    """(id, name) of the active channels."""
    choices: list[tuple[int, str]] = [(0, blank)] if blank is not None else []
    rows = db.session.execute(
        db.select(Channel).where(Channel.active.is_(True)).order_by(Channel.id)
    ).scalars()
    return choices + [(c.id, c.name) for c in rows]


def version_choices(open_only: bool = True) -> list[tuple[int, str]]:
    """(id, title and version) of questionnaire versions, newest first."""
    query = db.select(QuestionnaireVersion).order_by(QuestionnaireVersion.id.desc())
    if open_only:
        query = query.where(QuestionnaireVersion.status == "open")
    return [
        (v.id, f"{v.title}（第 {v.version} 版，{v.status_name}）")
        for v in db.session.execute(query).scalars()
    ]


def channel(channel_id: int) -> Channel:
    """The channel with ``channel_id``; ``NotFound`` when there is none."""
    found = db.session.get(Channel, channel_id)
    if found is None:
        raise NotFound("渠道不存在。")
    return found


def version(version_id: int) -> QuestionnaireVersion:
    """The questionnaire version with ``version_id``; ``NotFound`` when there is none."""
    found = db.session.get(QuestionnaireVersion, version_id)
    if found is None:
        raise NotFound("问卷版本不存在。")
    return found


def region(region_id: int) -> Region | None:
    """The region with ``region_id`` (0 means none); ``NotFound`` for an unknown id."""
    if not region_id:
        return None
    found = db.session.get(Region, region_id)
    if found is None:
        raise NotFound("区域不存在。")
    return found


def questionnaire_by_key(key: str) -> Questionnaire:
    """The questionnaire with ``key``; ``NotFound`` when there is none."""
    found = db.session.execute(
        db.select(Questionnaire).where(Questionnaire.key == key)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"问卷 {key} 不存在 / unknown questionnaire {key!r}")
    return found


def region_by_code(code: str) -> Region:
    """The region with ``code``; ``InvalidInput`` for a malformed code, ``NotFound`` for none."""
    check_region_code(code)
    found = db.session.execute(db.select(Region).where(Region.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"区域编码 {code} 不存在 / unknown region {code!r}")
    return found


def channel_by_code(code: str) -> Channel:
    """The channel with ``code``; ``NotFound`` when there is none."""
    found = db.session.execute(db.select(Channel).where(Channel.code == code)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"渠道 {code} 不存在 / unknown channel {code!r}")
    return found
