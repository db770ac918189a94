"""Benchmark of the issue-10 exports on a large database: time and peak memory of question
statistics, the XLSX workbook, the Word briefing and the raw responses (CSV, SPSS, Stata).

For each size (default 100,000 responses) it builds a fresh SQLite database (PostgreSQL
with ``--postgres URL``) with ``benchmarks/reports.py``'s ``prepare`` (demo city, synthetic
responses over 12 weeks), adds answers to ten questions of the bundled questionnaire per
response (single choice, a scale with 不了解, two multiple-choice questions, a follow-up
shown by skip logic), then times each export once, each in a fresh child process so that its
peak memory is the export's own, and prints the child's peak RSS before and after the
export (and, with ``--traced``, the traced Python peak: tracemalloc slows Python 3-4x).
The raw CSV is streamed to /dev/null and the ``.sav`` and ``.dta`` files are written to a
temporary file: their memory must not grow with the number of responses.

Usage: ``python benchmarks/report_exports.py [--sizes 100000,1000000] [--postgres URL]
[--steps questions,xlsx,docx,csv,sav,dta] [--traced]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

#: (question, kind, options) answered for every response; the follow-up only after "yes".
ANSWERED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("age_group", "single", ("18-29", "30-39", "40-49", "50-59", "60+")),
    ("sex", "single", ("male", "female")),
    ("aware_campaign", "single", ("yes", "heard", "no")),
    ("aware_report", "multiple", ("hotline", "snapshot", "grid", "none")),
    ("volunteered", "single", ("yes", "no")),
    ("volunteer_frequency", "follow", ("weekly", "monthly", "quarterly", "rarely")),
    ("civic_practices", "multiple", ("traffic", "chopsticks", "sorting", "queue")),
    ("sat_sanitation", "single", ("satisfied", "fairly_satisfied", "needs_improvement", "unsure")),
    ("sat_overall", "single", ("satisfied", "fairly_satisfied", "needs_improvement", "unsure")),
)


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_answers(url: str, seed: int = 10) -> int:
    """Answers for every response, in one transaction through the database's answer-cell
    triggers (executemany on SQLite, COPY on PostgreSQL: both fire the row triggers), then
    the statistics and, on PostgreSQL, the VACUUM that autovacuum would run; returns the
    rows written."""
    from sqlalchemy import create_engine
    from sqlalchemy import text

    from survey.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    rng = np.random.default_rng(seed)
    written = 0
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        ids = np.array(conn.execute(text("SELECT id FROM responses ORDER BY id")).scalars().all())
        sql = "INSERT INTO answers (response_id, question_key, value) VALUES (?, ?, ?)"
        for start in range(0, ids.size, 50_000):
            rows = _answers(rng, ids[start : start + 50_000])
            if postgres:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                copy = "COPY answers (response_id, question_key, value) FROM STDIN"
                with cursor.copy(copy) as stream:
                    for row in rows:
                        stream.write_row(row)
            else:
                conn.exec_driver_sql(sql, rows)
            written += len(rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if postgres:
            # As after reports.prepare: the cells' old row versions of the one long load
            # transaction go, and every page is all-visible, as autovacuum keeps them.
            conn.execute(text("VACUUM FULL ANALYZE answer_cells"))
            conn.execute(text("VACUUM ANALYZE answers"))
        else:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return written


def _answers(rng: np.random.Generator, ids: np.ndarray) -> list[tuple[int, str, str]]:
    rows: list[tuple[int, str, str]] = []
    volunteered = rng.random(ids.size) < 0.6
    for key, kind, options in ANSWERED:
        if kind == "multiple":
            ticks = rng.random((ids.size, len(options))) < 0.45
            ticks[~ticks.any(axis=1), 0] = True
            for j, option in enumerate(options):
                rows += [(int(i), key, option) for i in ids[ticks[:, j]]]
            continue
        chosen = rng.integers(0, len(options), ids.size)
        keep = volunteered if kind == "follow" else np.ones(ids.size, dtype=bool)
        if key == "volunteered":
            chosen = np.where(volunteered, 0, 1)
        rows += [(int(i), key, options[c]) for i, c in zip(ids[keep], chosen[keep], strict=True)]
    return rows


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(name: str, run: Callable[[], Any], out: dict[str, Any], traced: bool) -> Any:
    """Run one export: its time, the process's peak RSS before and after it and, when
    ``traced``, the traced Python peak (tracemalloc slows Python down 3-4x, so it is a
    separate run)."""
    before = _rss_mib()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    value = run()
    out[name] = {"seconds": time.perf_counter() - start, "rss_before": before}
    if traced:
        out[name]["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out[name]["rss_after"] = _rss_mib()
    return value


STEPS = ("dashboard", "questions", "xlsx", "docx", "csv", "sav", "dta")


def measure(url: str, steps: tuple[str, ...] = STEPS, traced: bool = False) -> dict[str, Any]:
    """Time the chosen exports once each in this (fresh) process."""
    import datetime as dt

    from survey import create_app
    from survey.reporting import report_requests
    from survey.reporting.exports import files as exports
    from survey.reporting.exports import raw as response_export
    from survey.reporting.questions import pages as question_reports

    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench" * 8, "INSTANCE_PATH": tempfile.mkdtemp()}
    )
    out: dict[str, Any] = {}
    with app.app_context():
        vf = question_reports.command_line_filter(
            "civilized-city", date_from=dt.date(2026, 11, 9), date_to=dt.date(2026, 11, 30)
        )
        whole = question_reports.command_line_filter("civilized-city", include_flagged=True)

        def stream() -> int:
            size = 0
            with open("/dev/null", "wb") as sink:
                for chunk in response_export.csv_chunks(whole.filter, whole.definition):
                    sink.write(chunk)
                    size += len(chunk)
            return size

        def stats_file(fmt: str) -> int:
            with tempfile.TemporaryFile() as handle:
                response_export.write_stats_file(whole.filter, whole.definition, handle, fmt)
                return handle.tell()

        runs: dict[str, tuple[str, Callable[[], Any]]] = {
            "dashboard": ("dashboard (baseline)", lambda: report_requests.dashboard(vf.filter)),
            "questions": ("question statistics", lambda: question_reports.statistics(vf)),
            "xlsx": ("xlsx workbook", lambda: exports.xlsx(exports.bundle(vf))),
            "docx": ("word briefing", lambda: exports.briefing_docx(vf)),
            "csv": ("raw responses csv (all)", stream),
            "sav": ("raw responses sav (all)", lambda: stats_file("sav")),
            "dta": ("raw responses dta (all)", lambda: stats_file("dta")),
        }
        for step in steps:
            name, run = runs[step]
            size = _timed(name, run, out, traced)
            if step in ("csv", "sav", "dta"):
                out[name]["mib"] = size / 2**20
    return out


def _print_step(name: str, value: dict[str, Any]) -> None:
    traced = value.get("traced_peak_mib")
    print(
        f"  {name:26s} {value['seconds']:7.2f} s   RSS {value['rss_before']:4.0f} ->"
        f" {value['rss_after']:4.0f} MiB"
        + (f"   traced peak {traced:6.1f} MiB" if traced is not None else "")
        + (f"   file {value['mib']:5.0f} MiB" if "mib" in value else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--postgres", default="")
    parser.add_argument(
        "--steps", default=",".join(STEPS), help=f"which exports, of {','.join(STEPS)}"
    )
    parser.add_argument(
        "--traced", action="store_true", help="also trace Python memory (3-4x slower)"
    )
    parser.add_argument("--measure", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    steps = tuple(s for s in args.steps.split(",") if s)
    if unknown := set(steps) - set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    if args.measure:
        print(json.dumps(measure(args.measure, steps, args.traced)))
        return
    reports = _module("reports")
    for n in [int(s) for s in args.sizes.split(",") if s]:
        if args.postgres:
            url = args.postgres
        else:
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-exports-')) / 'bench.db'}"
        load = reports.prepare(url, n)
        start = time.perf_counter()
        answers = add_answers(url)
        print(
            f"{url.split(':')[0]} n={n:,d}: responses loaded in {load:.1f}s, {answers:,d} answers"
            f" in {time.perf_counter() - start:.1f}s",
            flush=True,
        )
        for step in steps:  # each in a fresh child: its RSS peak is that export's own
            command = [sys.executable, __file__, "--measure", url, "--steps", step]
            child = subprocess.run(
                command + (["--traced"] if args.traced else []),
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            for name, value in result.items():
                _print_step(name, value)


if __name__ == "__main__":
    main()
