"""One idempotent set-up step for ``make run``: schema, seeds, demo data, admin account."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from survey.extensions import db
from survey.models import CollectionPoint
from survey.models import Response
from survey.models import User

DEMO_ADMIN = "admin"


@dataclass(frozen=True)
class BootstrapInfo:
    """What ``make run`` prints."""

    admin_username: str
    admin_password: str
    sample_code: str
    response_count: int


def seed_demo_city() -> None:
    """Default channels, the bundled questionnaires and the demo city with its points (each
    only if missing; not committed)."""
    from questionnaires import bundled_paths
    from questionnaires import load_file
    from survey import demo
    from survey.services.channels import seed_default_channels
    from survey.services.questionnaires import load_definition

    seed_default_channels()
    for path in bundled_paths():
        load_definition(load_file(path), path.read_text(encoding="utf-8"))
    demo.ensure_demo_city()


def bootstrap() -> BootstrapInfo:
    """Migrate, seed channels, load bundled questionnaires and the demo city, ensure an admin."""
    from survey.migrate import upgrade

    upgrade(current_app._get_current_object())  # type: ignore[attr-defined]
    seed_demo_city()
    password = _ensure_admin()
    db.session.commit()
    point = (
        db.session.execute(
            db.select(CollectionPoint)
            .where(CollectionPoint.active.is_(True))
            .order_by(CollectionPoint.id)
        )
        .scalars()
        .first()
    )
    count = db.session.execute(db.select(db.func.count(Response.id))).scalar_one()
    return BootstrapInfo(
        admin_username=DEMO_ADMIN,
        admin_password=password,
        sample_code=point.code if point else "",
        response_count=int(count),
    )


def _ensure_admin() -> str:
    """Create the demo city admin once; its generated password is kept in instance/."""
    secret_file = Path(current_app.instance_path) / "demo_admin_password"
    user = db.session.execute(
        db.select(User).where(User.username == DEMO_ADMIN)
    ).scalar_one_or_none()
    if user is None:
        password = secrets.token_urlsafe(9)
        db.session.add(
            User(
                username=DEMO_ADMIN,
                display_name="演示管理员",
                password_hash=generate_password_hash(password),
                role="city_admin",
            )
        )
        db.session.flush()
        if secret_file.exists():
            secret_file.unlink()
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password)
        return password
    if secret_file.exists():
        password = secret_file.read_text(encoding="utf-8").strip()
        if check_password_hash(user.password_hash, password):
            return password
        # The password was changed since: the file would only print a stale one. The demo
        # password is a first-run convenience; once replaced it is nobody's to print.
        secret_file.unlink()
    return "(已修改，不再显示 / changed, not shown — reset with: survey user set-password admin)"
