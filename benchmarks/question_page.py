"""The 题目统计 page against the dashboard at the demo's size, same app, same run.

Builds a fresh SQLite database (demo city, ``--responses`` demo responses, default 3,000),
signs a city admin in through the real login form and requests ``/admin/`` and
``/admin/questions`` (each with the same explicit period, so both do their full work) in
``--rounds`` alternated rounds through Flask's test client, after one unmeasured request
each. Prints each page's median time and the ratio (issue 22's goal: at most 3x).

Usage: ``python benchmarks/question_page.py [--responses 3000] [--rounds 9]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "bench horse battery staple"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    from survey import create_app
    from survey import demo
    from survey.bootstrap import seed_demo_city
    from survey.extensions import db
    from survey.migrate import upgrade
    from survey.services.users import create_user

    work = Path(tempfile.mkdtemp(prefix="bench-questions-"))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
            "SECRET_KEY": "bench" * 8,
            "INSTANCE_PATH": str(work),
        }
    )
    upgrade(app)
    with app.app_context():
        seed_demo_city()
        demo.add_responses(args.responses, seed=22)
        create_user("bench", PASSWORD, "city_admin")
        db.session.commit()
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    client.post(
        "/admin/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
    )
    period = "from=2000-01-03&to=2100-12-26"
    pages = {"dashboard": f"/admin/?{period}", "questions": f"/admin/questions?{period}"}
    times: dict[str, list[float]] = {name: [] for name in pages}
    for name, url in pages.items():
        assert client.get(url).status_code == 200, name
    for _ in range(args.rounds):
        for name, url in pages.items():
            start = time.perf_counter()
            response = client.get(url)
            times[name].append(time.perf_counter() - start)
            assert response.status_code == 200, name
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"{args.responses:,d} demo responses, {args.rounds} alternated rounds, test client:")
    for name, ms in medians.items():
        print(f"  {name:10s} median {ms:7.1f} ms   (min {min(times[name]) * 1000:.1f} ms)")
    ratio = medians["questions"] / medians["dashboard"]
    print(f"ratio questions / dashboard: {ratio:.2f} (goal <= 3)")


if __name__ == "__main__":
    main()
