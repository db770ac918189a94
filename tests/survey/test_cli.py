"""The ``survey`` CLI: migrations, questionnaire validate/load, demo and bootstrap."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from questionnaires import bundled_paths
from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import QuestionnaireVersion
from survey.models import Region
from survey.models import Response
from survey.models import User

BUNDLED = bundled_paths()[0]


def test_validate_bundled_file_exits_zero(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["questionnaire", "validate", str(BUNDLED)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_validate_broken_file_names_the_key(runner: FlaskCliRunner, tmp_path: Path) -> None:
    broken = BUNDLED.read_text(encoding="utf-8").replace('type = "single"', 'type = "slider"', 1)
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "validate", str(path)])
    assert result.exit_code != 0
    assert "broken.toml" in result.output and "slider" in result.output


def test_validate_missing_file(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["questionnaire", "validate", str(tmp_path / "nope.toml")])
    assert result.exit_code != 0


def _version_count(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(QuestionnaireVersion.id))).scalar_one()


def test_load_is_idempotent_and_refuses_changes_with_responses(
    seeded: Flask, tmp_path: Path
) -> None:
    runner = seeded.test_cli_runner()
    assert _version_count(seeded) == 1
    result = runner.invoke(args=["questionnaire", "load", str(BUNDLED)])
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output
    assert _version_count(seeded) == 1

    # A changed file without responses updates the version in place.
    changed = tmp_path / "changed.toml"
    text = BUNDLED.read_text(encoding="utf-8")
    changed.write_text(
        text.replace("\ntitle = ", '\ntitle = "改" + ', 0) + "\n# edit\n", encoding="utf-8"
    )
    # Only a comment changed: same parsed content, same checksum.
    result = runner.invoke(args=["questionnaire", "load", str(changed)])
    assert "unchanged" in result.output

    import re

    retitled = re.sub(r'(?m)^title = "(.*)"$', r'title = "\1（修订）"', text, count=1)
    changed.write_text(retitled, encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "load", str(changed)])
    assert result.exit_code == 0, result.output
    assert "updated" in result.output

    # Once there are responses, a change is refused with advice to bump the version.
    with seeded.app_context():
        from survey import demo

        demo.add_responses(5, seed=1)
    result = runner.invoke(args=["questionnaire", "load", str(BUNDLED)])
    assert result.exit_code != 0
    assert "bump" in result.output and "version" in result.output
    with seeded.app_context():
        version = db.session.execute(db.select(QuestionnaireVersion)).scalar_one()
        assert "（修订）" in version.title  # unchanged by the refused load

    # Bumping the version creates a new one next to the old.
    bumped = re.sub(r"(?m)^version = \d+$", "version = 99", text, count=1)
    changed.write_text(bumped, encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "load", str(changed)])
    assert result.exit_code == 0, result.output
    assert _version_count(seeded) == 2


def test_load_broken_file_writes_nothing(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("key = 'x'\nversion = 0\n", encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "load", str(BUNDLED), str(path)])
    assert result.exit_code != 0
    assert _version_count(app) == 0


def test_demo_is_idempotent_and_adds_responses(seeded: Flask) -> None:
    runner = seeded.test_cli_runner()
    with seeded.app_context():
        regions = db.session.execute(db.select(db.func.count(Region.id))).scalar_one()
        points = db.session.execute(db.select(db.func.count(CollectionPoint.id))).scalar_one()
    assert regions == 1 + 4 + 12 + 24
    result = runner.invoke(args=["demo", "--responses", "300"])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        assert db.session.execute(db.select(db.func.count(Region.id))).scalar_one() == regions
        assert (
            db.session.execute(db.select(db.func.count(CollectionPoint.id))).scalar_one() == points
        )
        rows = db.session.execute(db.select(Response)).scalars().all()
        assert len(rows) == 300
        assert all(r.awareness is not None and 0 <= r.awareness <= 1 for r in rows)
        assert all(r.district_id is not None and r.channel_id is not None for r in rows)
        assert all(len(r.answers) >= 20 for r in rows[:20])


def test_demo_responses_show_district_differences(seeded: Flask) -> None:
    from survey import demo

    with seeded.app_context():
        demo.add_responses(3000, seed=5)
        rows = db.session.execute(
            db.select(Region.code, db.func.avg(Response.awareness))
            .join(Region, Region.id == Response.district_id)
            .group_by(Region.code)
        ).all()
    means = dict(rows)
    # 临江区 (999901) is built to lead, 云溪县 (999904) to lag.
    assert means["999901"] > means["999904"] + 0.03


def test_bootstrap_twice_creates_nothing_new(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["bootstrap", "--demo-responses", "50", "--no-demo-mock"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["bootstrap", "--demo-responses", "50", "--no-demo-mock"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Response.id))).scalar_one() == 50
        assert db.session.execute(db.select(db.func.count(User.id))).scalar_one() == 1
        code = (
            db.session.execute(db.select(CollectionPoint.code).order_by(CollectionPoint.id))
            .scalars()
            .first()
        )
    for out in (first.output, second.output):
        assert f"http://survey.test/q/{code}" in out
        assert "admin" in out
    password_line = next(ln for ln in first.output.splitlines() if "password" in ln)
    assert password_line in second.output  # the same login is printed again


def test_db_current_reports_head(app: Flask, runner: FlaskCliRunner) -> None:
    from alembic.script import ScriptDirectory

    from survey.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(app)).get_current_head()
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0
    assert head is not None and result.output.strip() == head


def test_bootstrap_sets_demo_targets_once_audit_logged_as_demo(app: Flask) -> None:
    import json

    from survey.demo import DEMO_TARGETS
    from survey.models import AuditLog
    from survey.models import Target

    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["bootstrap", "--demo-responses", "40", "--no-demo-mock"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        stored = {t.metric: t.threshold for t in db.session.execute(db.select(Target)).scalars()}
        entries = list(
            db.session.execute(db.select(AuditLog).where(AuditLog.action == "target_set")).scalars()
        )
    assert stored == DEMO_TARGETS
    assert len(entries) == len(DEMO_TARGETS)  # the second run changed nothing
    for entry in entries:
        assert entry.username == "(命令行)" and entry.user_id is None
        assert "演示目标值" in json.loads(entry.detail)["note"]


def test_bootstrap_leaves_a_database_with_responses_without_demo_targets(app: Flask) -> None:
    from survey.models import Target

    runner = app.test_cli_runner()
    assert runner.invoke(args=["bootstrap", "--demo-responses", "0"]).exit_code == 0
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Target.id))).scalar_one() == 0
