"""Export benchmark: the staff QR ZIP and A4 print sheet for 2,000 points (the code's limit).

``python benchmarks/exports.py [--points 2000] [--rounds 2]`` builds the demo city on a
fresh SQLite file, issues collection points until there are ``--points``, signs in as a
city admin and times, through the app in this process (what one worker does):

- ``GET /admin/points/qr.zip`` for every point, body read to the end (a cold cache, then a
  warm one: posters are cached per process);
- ``GET /admin/points/print`` for every point;
- the time to the first byte of each (both are streamed).

It checks that the ZIP holds one PNG per point plus ``index.csv`` and that a sample of
PNGs decodes to its point's link (when pyzbar is installed), and prints the time per poster
and the margin to gunicorn's 30-second worker timeout. With ``--old-renderer`` it also
times the previous renderer (python-qrcode, when installed) on the same links.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMEOUT = 30.0
PASSWORD = "benchmark password"


def build(work: Path, points: int):  # type: ignore[no-untyped-def]
    """An app on a fresh SQLite file with the demo city and ``points`` collection points."""
    from survey import create_app
    from survey.bootstrap import bootstrap
    from survey.extensions import db
    from survey.models import Channel
    from survey.models import CollectionPoint
    from survey.models import QuestionnaireVersion
    from survey.models import Region
    from survey.services.points import create_point
    from survey.services.users import create_user

    instance = work / "instance"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{work / 'survey.db'}",
            "SECRET_KEY": "benchmark-secret-0123456789abcdef",
            "BASE_URL": "https://survey.example.cn",
            "INSTANCE_PATH": str(instance),
        }
    )
    with app.app_context():
        bootstrap()
        create_user("bench", PASSWORD, "city_admin")
        have = db.session.execute(db.select(db.func.count(CollectionPoint.id))).scalar_one()
        version = db.session.execute(db.select(QuestionnaireVersion)).scalars().first()
        regions = list(
            db.session.execute(db.select(Region).where(Region.level == "community")).scalars()
        )
        channels = list(db.session.execute(db.select(Channel)).scalars())
        for i in range(points - have):
            region = regions[i % len(regions)]
            channel = channels[i % len(channels)]
            create_point(version, region, channel, f"{region.name}{channel.name}第{i + 1}号点位")
        db.session.commit()
        total = db.session.execute(db.select(db.func.count(CollectionPoint.id))).scalar_one()
    return app, int(total)


def signed_in(app):  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/admin/login",
        data={"username": "bench", "password": PASSWORD, "csrf_token": token, "next": ""},
    )
    assert response.status_code == 302, response.status_code
    return client


def timed(client, url: str) -> tuple[float, float, float, bytes]:  # type: ignore[no-untyped-def]
    """(seconds to the first byte, seconds to the last, CPU seconds, body) of a streamed GET.

    The CPU seconds are this process's: on a machine shared with other jobs they are what
    one idle worker core would take.
    """
    cpu = time.process_time()
    start = time.perf_counter()
    response = client.get(url, buffered=False)
    assert response.status_code == 200, response.status_code
    first = None
    parts = []
    for chunk in response.response:
        if first is None and chunk:
            first = time.perf_counter() - start
        parts.append(chunk)
    response.close()
    return first or 0.0, time.perf_counter() - start, time.process_time() - cpu, b"".join(parts)


def check_zip(body: bytes, points: int) -> None:
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = archive.namelist()
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) == points and "index.csv" in names, (len(pngs), points)
    assert archive.testzip() is None
    try:
        from PIL import Image
        from pyzbar.pyzbar import decode
    except ImportError:
        return
    for name in pngs[:: max(1, len(pngs) // 20)]:
        code = name.rsplit("_", 1)[1].removesuffix(".png")
        found = [d.data.decode() for d in decode(Image.open(io.BytesIO(archive.read(name))))]
        assert found == [f"https://survey.example.cn/q/{code}"], (name, found)


def old_renderer(codes: list[str]) -> float | None:
    """Seconds per PNG of the previous renderer (python-qrcode, optimize=True), if installed."""
    try:
        import qrcode
    except ImportError:
        return None
    from PIL import Image

    start = time.perf_counter()
    for code in codes:
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        qr.add_data(f"https://survey.example.cn/q/{code}")
        qr.make(fit=True)
        image = qr.make_image().get_image().convert("RGB")
        canvas = Image.new("RGB", (image.width, image.height + 100), "white")
        canvas.paste(image, (0, 0))
        canvas.save(io.BytesIO(), format="PNG", optimize=True)
    return (time.perf_counter() - start) / len(codes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="ZIP rounds (first is cold)")
    parser.add_argument("--old-renderer", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="survey-exports-") as tmp:
        app, total = build(Path(tmp), args.points)
        client = signed_in(app)
        print(f"points: {total} (limit in code: 2000), one process, SQLite")
        cpu_times = []
        for r in range(args.rounds):
            first, seconds, cpu, body = timed(client, "/admin/points/qr.zip")
            check_zip(body, total)
            cpu_times.append(cpu)
            label = "cold" if r == 0 else "warm"
            print(
                f"qr.zip ({label}): {seconds:6.2f} s wall, {cpu:6.2f} s CPU "
                f"({cpu / total * 1000:5.2f} ms/poster), first byte {first * 1000:5.0f} ms, "
                f"{len(body) / 1e6:.1f} MB"
            )
        first, seconds, cpu, body = timed(client, "/admin/points/print")
        assert body.count(b'class="poster"') == total
        print(
            f"print sheet:   {seconds:6.2f} s wall, {cpu:6.2f} s CPU "
            f"({cpu / total * 1000:5.2f} ms/poster), first byte {first * 1000:5.0f} ms, "
            f"{len(body) / 1e6:.1f} MB"
        )
        worst = max(cpu_times[0], cpu)
        share = worst / TIMEOUT
        print(
            f"slowest export {worst:.1f} s CPU = {share:.0%} of the {TIMEOUT:.0f} s worker timeout"
        )
        if args.old_renderer:
            codes = [f"CODE{i:05d}" for i in range(100)]
            per = old_renderer(codes)
            if per is not None:
                print(f"previous renderer (python-qrcode): {per * 1000:.1f} ms/PNG on 100 links")
        return 0 if worst < TIMEOUT else 1


if __name__ == "__main__":
    sys.exit(main())
