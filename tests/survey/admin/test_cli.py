"""``survey user ...`` and ``survey qr export`` through the test CLI runner."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from PIL import Image
from pyzbar.pyzbar import decode

from survey.extensions import db
from survey.models import AuditLog
from survey.models import User


def test_user_create_list_set_password(seeded: Flask) -> None:
    runner = seeded.test_cli_runner()
    result = runner.invoke(
        args=["user", "create", "wang", "--role", "district_officer", "--region", "999901"],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["user", "list"])
    assert "wang\tdistrict_officer\t999901\tactive" in result.output
    result = runner.invoke(args=["user", "set-password", "wang", "--password", "another password"])
    assert result.exit_code == 0, result.output
    with seeded.app_context():
        user = db.session.execute(db.select(User).where(User.username == "wang")).scalar_one()
        from werkzeug.security import check_password_hash

        assert check_password_hash(user.password_hash, "another password")
        actions = set(db.session.execute(db.select(AuditLog.action)).scalars())
        assert {"user_create", "user_password"} <= actions


def test_user_create_refuses_bad_input(seeded: Flask) -> None:
    runner = seeded.test_cli_runner()
    cases = [
        ["user", "create", "x", "--password", "short"],
        ["user", "create", "y", "--role", "district_officer", "--password", "long enough pw"],
        ["user", "create", "z", "--region", "nope", "--password", "long enough pw"],
        ["user", "set-password", "ghost", "--password", "long enough pw"],
    ]
    for args in cases:
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
    runner.invoke(args=["user", "create", "dup", "--password", "long enough pw"])
    result = runner.invoke(args=["user", "create", "DUP", "--password", "long enough pw"])
    assert result.exit_code != 0 and "已存在" in result.output
    with seeded.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar_one() == 1


def test_qr_export_png_and_svg(seeded: Flask, tmp_path: Path) -> None:
    runner = seeded.test_cli_runner()
    out = tmp_path / "png"
    result = runner.invoke(
        args=[
            "qr",
            "export",
            "--questionnaire",
            "civilized-city",
            "--region",
            "999901001",
            "--channel",
            "notice_board",
            "--format",
            "png",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.png"))
    assert len(files) == 2  # two communities, one notice board each
    for path in files:
        code = path.stem.rsplit("_", 1)[1]
        data = [d.data.decode() for d in decode(Image.open(path))]
        assert data == [f"http://survey.test/q/{code}"]
    assert (out / "index.csv").read_text(encoding="utf-8-sig").count("\n") == 3
    svg_out = tmp_path / "svg"
    result = runner.invoke(
        args=[
            "qr",
            "export",
            "--questionnaire",
            "civilized-city",
            "--region",
            "999904",
            "--format",
            "svg",
            "--out",
            str(svg_out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert len(list(svg_out.glob("*.svg"))) == 6 + 4 * 3 + 6  # district, streets, communities
    with seeded.app_context():
        assert (
            db.session.execute(
                db.select(db.func.count(AuditLog.id)).where(AuditLog.action == "export_qr")
            ).scalar_one()
            == 2
        )


def test_qr_export_unknown_names(seeded: Flask, tmp_path: Path) -> None:
    runner = seeded.test_cli_runner()
    for extra in (
        ["--questionnaire", "nope"],
        ["--questionnaire", "civilized-city", "--region", "0"],
    ):
        result = runner.invoke(args=["qr", "export", *extra, "--out", str(tmp_path)])
        assert result.exit_code != 0
