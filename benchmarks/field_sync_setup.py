"""Set-up of benchmarks/field_sync.py: a plan, interviewer ``bench`` and N queued records.

``python -P benchmarks/field_sync_setup.py N OUT.json PASSWORD`` (``-P``: the package
``analysis``, not benchmarks/analysis.py) on the database of ``SURVEY_DATABASE_URL``:
draws a plan over the demo city, creates ``bench`` assigned to its first drawn community
and writes N complete interviews as the device would queue them (answers from the demo's
generator, valid by construction).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import uuid
from pathlib import Path

from questionnaires import OTHER_VALUE
from survey import create_app
from survey.demo import AGE_GROUPS
from survey.demo import SEXES
from survey.demo import _answers
from survey.demo import _plans
from survey.demo_mock import community_sizes
from survey.extensions import db
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.reporting.sample_draw import create_plan
from survey.services import interviewers
from survey.services.questionnaires import definition_of
from survey.services.sample_plans import PlanRequest
from survey.services.users import get_by_username


def pairs(answers: dict[str, object]) -> list[list[object]]:
    """Form pairs (a multiple choice gives one pair per option; "其他" its text)."""
    out: list[list[object]] = []
    for key, value in answers.items():
        for v in value if isinstance(value, list) else [value]:
            out.append([key, v])
            if v == OTHER_VALUE:
                out.append([f"{key}__other", "社区读书会"])
    return out


def main(n: int, out: Path, password: str) -> None:
    app = create_app()
    with app.app_context():
        admin = get_by_username("admin")
        assert admin is not None
        version = db.session.execute(db.select(QuestionnaireVersion)).scalars().first()
        assert version is not None
        city = db.session.execute(db.select(Region).where(Region.code == "999900")).scalar_one()
        today = dt.date.today()
        request = PlanRequest(
            "bench", version.id, city.id, today, today, 1, 2, n, community_sizes()
        )
        plan = create_plan(admin, request)
        person = interviewers.create_interviewer(admin, "bench", password, city.id)
        unit = plan.units[0]
        street = unit.community.parent.code if unit.community.parent else None
        interviewers.assign(admin, plan, unit.id, person.id, n)
        db.session.commit()
        defn = definition_of(version)
        plans = _plans(defn)
        rng = random.Random(7)
        now = dt.datetime.now(dt.UTC)
        records = []
        for i in range(n):
            who = (rng.choice(AGE_GROUPS), rng.choice(SEXES), street)
            answers = _answers(rng, defn, plans, 0.0, 0.0, who)
            end = now - dt.timedelta(minutes=20 * (n - i))
            records.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "unit_id": unit.id,
                    "mode": "door_to_door",
                    "disposition": "complete",
                    "started_at": (end - dt.timedelta(minutes=12)).isoformat(),
                    "finished_at": end.isoformat(),
                    "answers": pairs(answers),
                }
            )
    out.write_text(json.dumps(records))


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
