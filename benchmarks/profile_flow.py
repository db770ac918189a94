"""Where the server's time per resident flow goes: the flow of ``load.py`` under cProfile.

``python benchmarks/profile_flow.py [--flows 300] [--top 30]`` bootstraps a fresh SQLite
file, then runs GET form -> POST answers -> GET thank-you through the WSGI app in this
process (no network, one thread) under cProfile, and prints the CPU per flow and the
functions with the most own and cumulative time. The resident's side (parsing the form,
choosing answers) is outside the profile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load import answer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--dump", help="also write the raw profile here (for pstats/snakeviz)")
    args = parser.parse_args()
    from survey import create_app
    from survey.bootstrap import bootstrap
    from survey.extensions import db
    from survey.models import CollectionPoint

    with tempfile.TemporaryDirectory(prefix="survey-profile-") as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp}/survey.db",
                "SECRET_KEY": "profile-secret-0123456789abcdef",
                "BASE_URL": "http://127.0.0.1",
                "INSTANCE_PATH": f"{tmp}/instance",
            }
        )
        with app.app_context():
            bootstrap()
            codes = list(
                db.session.execute(
                    db.select(CollectionPoint.code).where(CollectionPoint.active)
                ).scalars()
            )
        rng = random.Random(1)
        for i in range(20):  # warm up: templates, caches, pages
            client = app.test_client()
            page = client.get(f"/q/{codes[i % len(codes)]}").get_data(as_text=True)
            _submit(client, codes[i % len(codes)], urlencode(answer(page, rng)))
        profiler = cProfile.Profile()
        cpu = time.process_time()
        for i in range(args.flows):
            code = codes[i % len(codes)]
            client = app.test_client()
            profiler.enable()
            page = client.get(f"/q/{code}").get_data(as_text=True)
            profiler.disable()
            body = urlencode(answer(page, random.Random(i)))
            profiler.enable()
            _submit(client, code, body)
            profiler.disable()
        spent = time.process_time() - cpu
        print(f"{args.flows} flows, {spent / args.flows * 1000:.1f} ms CPU per flow (profiled)")
        if args.dump:
            profiler.dump_stats(args.dump)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    return 0


def _submit(client, code: str, body: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        f"/q/{code}", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 303, response.status_code
    assert client.get(response.headers["Location"]).status_code == 200


if __name__ == "__main__":
    sys.exit(main())
