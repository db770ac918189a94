"""Benchmark of the dashboard (issue 9) against a bare ``GROUP BY`` over the same rows.

For each backend (a fresh SQLite file; PostgreSQL with ``--postgres URL``, whose schema is
dropped and migrated again) and each size (default 100,000 and 1,000,000 responses):

1. migrate, create the demo city (regions, population, 96 collection points), bulk-insert
   synthetic responses over 12 weeks (``benchmarks/reports_data.py``: executemany on
   SQLite, COPY on PostgreSQL), then ANALYZE (and VACUUM on PostgreSQL);
2. in a fresh child process, so that its peak memory is the report's own, time in the same
   run, alternating, best of ``--repeat``:
   (a) ``SELECT district_id, count(*) FROM responses WHERE <same filter> GROUP BY
       district_id``, the bare baseline over the same rows, twice: with plain conditions
       (the planner's own choice) and with exactly the report statement's WHERE clause;
       the faster of the two is the baseline;
   (b) the whole dashboard: ``survey.reporting.dashboard`` (headline with changes and
       targets, district table with ranks, weekly trend, channels and points) for the last
       four weeks against the four before, post-stratified;
   (a week-based report reads ``report_cells``, the sums the database's triggers keep per
   week x point x age-sex cell and exclusion, migrations 0007 and 0009; the bulk load pays
   for them)
   and print the ratio (goal <= 2), the CPU time of the Python process (on SQLite the
   queries run in it, so the CPU ratio is the work ratio, less sensitive to other jobs), the
   peak traced Python memory (tracemalloc, in one more dashboard run that is not timed:
   tracing slows Python down 2-3x) and the child's peak RSS (goal: independent of the
   number of responses).

Usage: ``python benchmarks/reports.py [--sizes 100000,1000000] [--postgres URL]
[--repeat 5] [--weighting poststratify]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
# This folder holds analysis.py, which must not shadow the analysis package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

TODAY = dt.date(2026, 11, 30)  # a Monday: the data covers the 12 weeks up to this one
PERIOD_FROM = TODAY - dt.timedelta(weeks=3)
PERIOD_TO = TODAY


def prepare(url: str, n: int) -> float:
    """Fresh schema, demo city and ``n`` responses; returns the load time in seconds."""
    import importlib.util

    from sqlalchemy import create_engine
    from sqlalchemy import text

    from survey import create_app
    from survey.bootstrap import seed_demo_city
    from survey.config import normalise_database_url
    from survey.extensions import db
    from survey.migrate import upgrade

    spec = importlib.util.spec_from_file_location("reports_data", HERE / "reports_data.py")
    assert spec is not None and spec.loader is not None
    data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)
    if url.startswith("postgres"):
        engine = create_engine(normalise_database_url(url))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    instance = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench" * 8, "INSTANCE_PATH": str(instance)}
    )
    upgrade(app)
    with app.app_context():
        seed_demo_city()
        db.session.commit()
        start = time.perf_counter()
        data.insert_responses(db.session.connection(), n, today=TODAY)
        db.session.commit()
        data.analyse(db.session.connection())
        db.session.commit()
        elapsed = time.perf_counter() - start
        db.engine.dispose()
    if url.startswith("postgres"):
        engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            # The steady state autovacuum keeps: every page all-visible, so index-only scans
            # need no heap fetches (for the bare count and the report alike). The first
            # VACUUM straight after the load was seen to leave the visibility map empty
            # (relallvisible 0: 583,559 heap fetches per report at 1M), so repeat until set.
            # The bulk load updated each report cell hundreds of times in one transaction,
            # leaving its old versions (176 MB for 14k cells at 1M); per-response
            # transactions and autovacuum keep the table near its live size in production.
            conn.execute(text("VACUUM FULL ANALYZE report_cells"))
            for _ in range(5):
                conn.execute(text("VACUUM ANALYZE responses"))
                visible, pages = conn.execute(
                    text("SELECT relallvisible, relpages FROM pg_class WHERE relname = 'responses'")
                ).one()
                if visible >= 0.99 * pages:
                    break
                time.sleep(1)
        engine.dispose()
    return elapsed


def measure(url: str, repeat: int, weighting: str) -> dict[str, Any]:
    """Time the bare GROUP BY and the dashboard (run in a child process)."""
    from sqlalchemy import create_engine
    from sqlalchemy import func
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from survey.config import normalise_database_url
    from survey.models import Questionnaire
    from survey.models import Response
    from survey.reporting import ReportFilter
    from survey.reporting import dashboard
    from survey.reporting.filters import included_condition
    from survey.reporting.region_index import RegionIndex
    from survey.reporting.statement import base_conditions

    engine = create_engine(normalise_database_url(url))
    with Session(engine) as session:
        qid = session.execute(select(Questionnaire.id)).scalar_one()
        flt = ReportFilter(
            questionnaire_id=qid, date_from=PERIOD_FROM, date_to=PERIOD_TO, weighting=weighting
        )
        previous = flt.previous()
        assert previous is not None
        bare = (
            select(Response.district_id, func.count())
            .where(
                Response.questionnaire_id == qid,
                Response.week_start >= previous.date_from,
                Response.week_start <= PERIOD_TO,
                (Response.flags == 0) | (Response.flags.bitwise_and(15) == 0),
            )
            .group_by(Response.district_id)
        )
        # The same WHERE clause as the report statement (its terms kept off SQLite's other
        # indexes, so SQLite counts on the covering index too).
        regions = RegionIndex.load(session)
        same_where = (
            select(Response.district_id, func.count())
            .where(
                *base_conditions(
                    flt, regions, with_previous=True, listed=engine.dialect.name == "sqlite"
                ),
                included_condition(Response.flags),
            )
            .group_by(Response.district_id)
        )
        targets = {"awareness": 0.7, "participation": 0.5, "satisfaction": 0.7}
        dashboard(session, flt, targets=targets)  # warm caches and imports
        session.execute(bare).all()
        session.execute(same_where).all()
        times: dict[str, list[float]] = {"bare": [], "bare_same_where": [], "dashboard": []}
        rows = 0
        responses = 0
        for _ in range(repeat):
            start, cpu = time.perf_counter(), time.process_time()
            counted = session.execute(bare).all()
            times["bare"].append(time.perf_counter() - start)
            times.setdefault("bare_cpu", []).append(time.process_time() - cpu)
            start, cpu = time.perf_counter(), time.process_time()
            session.execute(same_where).all()
            times["bare_same_where"].append(time.perf_counter() - start)
            times["bare_cpu"].append(time.process_time() - cpu)
            start, cpu = time.perf_counter(), time.process_time()
            board = dashboard(session, flt, targets=targets)
            times["dashboard"].append(time.perf_counter() - start)
            times.setdefault("dashboard_cpu", []).append(time.process_time() - cpu)
            rows = board.rows_read
            responses = board.headline.responses
            session.rollback()
        # Peak memory in a run of its own: tracing every allocation slows Python down
        # (2-3x here), so timed runs are not traced.
        tracemalloc.start()
        dashboard(session, flt, targets=targets)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        session.rollback()
        total = sum(int(c) for _, c in counted)
    engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "bare_plain": min(times["bare"]),
        "bare_same_where": min(times["bare_same_where"]),
        "bare": min(min(times["bare"]), min(times["bare_same_where"])),
        "dashboard": min(times["dashboard"]),
        "rows_read": rows,
        "rows_counted": total,
        "responses_current": responses,
        "traced_peak": peak,
        "rss_peak": rss,
        "dashboard_runs": times["dashboard"],
        "dashboard_cpu": min(times["dashboard_cpu"]),
        "bare_cpu": min(times["bare_cpu"]),
        "bare_runs": times["bare"],
    }


def child(url: str, repeat: int, weighting: str) -> dict[str, Any]:
    """Run :func:`measure` in a fresh interpreter and read its JSON."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            url,
            "--repeat",
            str(repeat),
            "--weighting",
            weighting,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(backend: str, n: int, load: float, result: dict[str, Any]) -> str:
    ratio = result["dashboard"] / result["bare"]
    cpu_ratio = result["dashboard_cpu"] / max(result["bare_cpu"], 1e-9)
    mib = 1024 * 1024
    return (
        f"{backend:10s} n={n:>9,d} load={load:6.1f}s  bare GROUP BY={result['bare'] * 1000:7.1f} ms"
        f" (plain {result['bare_plain'] * 1000:.0f}, same WHERE"
        f" {result['bare_same_where'] * 1000:.0f})"
        f"  dashboard={result['dashboard'] * 1000:7.1f} ms  ratio={ratio:5.2f}"
        f" (CPU of this process: bare {result['bare_cpu'] * 1000:.0f} ms, dashboard"
        f" {result['dashboard_cpu'] * 1000:.0f} ms, ratio {cpu_ratio:.2f})"
        f"  rows read={result['rows_read']:,d} (of {result['rows_counted']:,d} responses)"
        f"  traced peak={result['traced_peak'] / mib:6.1f} MiB"
        f"  RSS peak={result['rss_peak'] / mib:6.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--postgres", default="", help="URL of a PostgreSQL database to reuse")
    parser.add_argument("--sqlite", default="", help="SQLite file (default: a temporary one)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--weighting", default="poststratify")
    parser.add_argument("--measure", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat, args.weighting)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    folder = Path(tempfile.mkdtemp(prefix="bench-reports-db-"))
    backends = [("sqlite", args.sqlite or str(folder / "bench.db"))]
    if args.postgres:
        backends.append(("postgresql", args.postgres))
    print(
        f"dashboard: {PERIOD_FROM}..{PERIOD_TO} vs the 4 weeks before, {args.weighting},"
        f" best of {args.repeat}",
        flush=True,
    )
    for backend, target in backends:
        for n in sizes:
            url = target if backend != "sqlite" else f"sqlite:///{target}"
            if backend == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(target + suffix).unlink(missing_ok=True)
            load = prepare(url, n)
            result = child(url, args.repeat, args.weighting)
            print(report(backend, n, load, result), flush=True)
            print(
                f"           load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs;"
                f" dashboard runs (ms): {[round(t * 1000) for t in result['dashboard_runs']]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
