"""Storing questionnaire definitions as versions; a version with responses is immutable."""

from __future__ import annotations

from dataclasses import dataclass

from questionnaires import Definition
from survey.cache import cached
from survey.errors import VersionConflict
from survey.extensions import db
from survey.models import Questionnaire
from survey.models import QuestionnaireVersion
from survey.models import Response


@dataclass(frozen=True)
class LoadResult:
    """What loading a definition did: ``created``, ``updated`` or ``unchanged``."""

    version: QuestionnaireVersion
    outcome: str


def load_definition(defn: Definition, source_text: str, status: str = "open") -> LoadResult:
    """Create or refresh the version of ``defn``; refuse to change one with responses."""
    questionnaire = db.session.execute(
        db.select(Questionnaire).where(Questionnaire.key == defn.key)
    ).scalar_one_or_none()
    if questionnaire is None:
        questionnaire = Questionnaire(key=defn.key, title=defn.title)
        db.session.add(questionnaire)
        db.session.flush()
    version = db.session.execute(
        db.select(QuestionnaireVersion).where(
            QuestionnaireVersion.questionnaire_id == questionnaire.id,
            QuestionnaireVersion.version == defn.version,
        )
    ).scalar_one_or_none()
    if version is None:
        version = QuestionnaireVersion(
            questionnaire_id=questionnaire.id,
            version=defn.version,
            status=status,
            title=defn.title,
            source_toml=source_text,
            checksum=defn.checksum,
        )
        db.session.add(version)
        questionnaire.title = defn.title
        db.session.flush()
        return LoadResult(version, "created")
    if version.checksum == defn.checksum:
        return LoadResult(version, "unchanged")
    if has_responses(version):
        raise VersionConflict(
            f"问卷 {defn.key} 第 {defn.version} 版已有答卷，不能修改。"
            f" Questionnaire {defn.key!r} version {defn.version} already has responses and"
            " cannot change: bump `version` in the file and load it again."
        )
    version.source_toml = source_text
    version.checksum = defn.checksum
    version.title = defn.title
    db.session.flush()
    return LoadResult(version, "updated")


def list_versions() -> list[QuestionnaireVersion]:
    """Every stored version, oldest first."""
    query = db.select(QuestionnaireVersion).order_by(QuestionnaireVersion.id)
    return list(db.session.execute(query).scalars())


def has_responses(version: QuestionnaireVersion) -> bool:
    """True when any response refers to ``version``."""
    return (
        db.session.execute(
            db.select(Response.id).where(Response.questionnaire_version_id == version.id).limit(1)
        ).first()
        is not None
    )


def definition_of(version: QuestionnaireVersion) -> Definition:
    """The parsed definition of a stored version (parsed once per app and checksum)."""
    from questionnaires import load_text

    return cached(
        "definitions",
        (version.id, version.checksum),
        lambda: load_text(version.source_toml, source=f"questionnaire_versions/{version.id}"),
    )
