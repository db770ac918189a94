"""Residents while staff ask for the heaviest report: the form's p95 with and without the
per-process bound on heavy staff requests (issue 23, item 5; ``survey.web.staff_limit``).

One command (``python benchmarks/heavy_staff.py``) builds a SQLite database with the demo
city and ``--responses`` synthetic responses (or reuses ``--work DIR`` from an earlier run),
then serves it with gunicorn as ``make run`` does (``gunicorn.conf.py``: 2 gthread workers
x 4 threads, on loopback, a random port) and measures three phases of ``--seconds`` each:

1. **baseline**: residents alone (``--residents`` threads, each a fresh resident: GET the
   form, answer, POST, follow the 303; ``--think`` seconds between flows);
2. **bounded**: the same residents while ``--staff`` threads (default 8) ask for ``--path``
   (default ``/admin/questions?weighting=rake``) back to back as a signed-in viewer, with
   the shipped setting (``SURVEY_HEAVY_REQUESTS=1`` per worker); a staff thread that gets
   the 503 waits ``--retry`` seconds (less than the ``Retry-After`` it is sent) and asks
   again;
3. **unbounded**: the same on a server started with ``SURVEY_HEAVY_REQUESTS=0`` (the code
   before issue 23).

It prints per phase the residents' flows, p50/p95/max of GET, POST and GET+POST, errors,
and the staff requests completed and refused, then the ratios of each phase's p95 to the
baseline's. Goal: the bounded phase's GET+POST p95 under 1 s. Timing is noisy on a shared
machine: compare phases of the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import BIN
from load import ROOT
from load import Resident
from load import answer
from load import free_port
from load import pct
from load import start_gunicorn
from load import stop

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "bench-password-0123"
#: Seconds a client waits for an answer (a starved resident is measured, not cut off).
WAIT = 600.0


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    get_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    flow_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    staff_ok: list[float] = field(default_factory=list)
    staff_busy: int = 0
    staff_other: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def build(work: Path, responses: int) -> dict[str, str]:
    """The environment of a database with the demo city, ``responses`` and a viewer."""
    db = work / "survey.db"
    instance = work / "instance"
    instance.mkdir(exist_ok=True)
    key = work / "key"
    if not key.exists():
        key.write_text(secrets.token_hex(32))
    env = {
        **os.environ,
        "SURVEY_DATABASE_URL": f"sqlite:///{db}",
        "SURVEY_SECRET_KEY": key.read_text(),
        "SURVEY_INSTANCE_PATH": str(instance),
        "SURVEY_BASE_URL": "http://127.0.0.1",
        "SURVEY_ACCESS_LOG": str(work / "access.log"),
        # The integrity sweep would examine every synthetic response in the first minute.
        "SURVEY_INTEGRITY_SWEEP_SECONDS": "0",
    }
    if db.exists():
        return env
    survey = str(BIN / "survey")
    t0 = time.perf_counter()
    quiet = {"cwd": ROOT, "env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([survey, "bootstrap", "--demo-responses", "0"], **quiet)  # type: ignore[call-overload]
    subprocess.run([survey, "demo", "--responses", str(responses)], **quiet)  # type: ignore[call-overload]
    subprocess.run(  # type: ignore[call-overload]
        [survey, "user", "create", "bench", "--role", "viewer", "--password", PASSWORD], **quiet
    )
    print(f"built {responses:,} responses in {time.perf_counter() - t0:.0f} s ({db})")
    return env


def codes_of(env: dict[str, str]) -> list[str]:
    import sqlite3

    path = env["SURVEY_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        return [r[0] for r in con.execute("SELECT code FROM collection_points WHERE active")]


def sign_in(port: int) -> Resident:
    """A client holding a signed-in viewer's session cookie."""
    client = Resident(port, {"User-Agent": "bench-staff"})
    _, _, page = client.request("GET", "/admin/login")
    token = TOKEN.search(page)
    assert token, "no CSRF token on the sign-in page"
    body = urlencode({"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)})
    status, _, _ = client.request("POST", "/admin/login", body.encode())
    assert status == 302, f"sign-in answered {status}"
    return client


def resident_loop(
    port: int, codes: list[str], phase: Phase, until: float, seed: int, think: float
) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < until:
        resident = Resident(port)
        resident.timeout = WAIT
        code = rng.choice(codes)
        try:
            t0 = time.perf_counter()
            status, _, html = resident.request("GET", f"/q/{code}")
            t1 = time.perf_counter()
            if status != 200:
                raise RuntimeError(f"GET {status}")
            body = urlencode(answer(html, rng)).encode()
            t2 = time.perf_counter()
            status, _, _ = resident.request("POST", f"/q/{code}", body)
            t3 = time.perf_counter()
            if status != 303:
                raise RuntimeError(f"POST {status}")
        except Exception as exc:  # a refused or timed-out request is an error, not a crash
            with phase.lock:
                phase.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        with phase.lock:
            phase.get_ms.append((t1 - t0) * 1000)
            phase.post_ms.append((t3 - t2) * 1000)
            phase.flow_ms.append((t1 - t0 + t3 - t2) * 1000)
        time.sleep(think)


def staff_loop(
    port: int, cookie: Resident, path: str, phase: Phase, until: float, retry: float
) -> None:
    client = Resident(port, {"User-Agent": "bench-staff"})
    client.timeout = WAIT
    client.jar = cookie.jar
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            status, _, _ = client.request("GET", path)
        except Exception as exc:
            with phase.lock:
                phase.staff_other.append(f"{type(exc).__name__}: {exc}")
            continue
        seconds = time.perf_counter() - t0
        with phase.lock:
            if status == 200:
                phase.staff_ok.append(seconds)
            elif status == 503:
                phase.staff_busy += 1
            else:
                phase.staff_other.append(str(status))
        if status == 503:
            time.sleep(retry)


def run_phase(
    name: str, port: int, codes: list[str], args: argparse.Namespace, staff: int
) -> Phase:
    phase = Phase(name)
    cookie = sign_in(port)
    start = time.perf_counter()
    until = start + args.warm + args.seconds
    staffers = [
        threading.Thread(
            target=staff_loop, args=(port, cookie, args.path, phase, until, args.retry)
        )
        for _ in range(staff)
    ]
    for t in staffers:
        t.start()
    time.sleep(args.warm)  # the heavy requests take their threads first
    residents = [
        threading.Thread(
            target=resident_loop, args=(port, codes, phase, until, 1000 * i + len(name), args.think)
        )
        for i in range(args.residents)
    ]
    for t in residents:
        t.start()
    for t in residents + staffers:
        t.join()
    return phase


def show(phase: Phase, base: Phase | None) -> None:
    def trio(values: list[float]) -> str:
        top = max(values) if values else float("nan")
        return f"p50={pct(values, 50):7.1f} p95={pct(values, 95):7.1f} max={top:7.1f}"

    print(f"\n{phase.name}: {len(phase.flow_ms)} resident flows, {len(phase.errors)} errors")
    print(f"  GET       ms {trio(phase.get_ms)}")
    print(f"  POST      ms {trio(phase.post_ms)}")
    print(f"  GET+POST  ms {trio(phase.flow_ms)}")
    if phase.staff_ok or phase.staff_busy or phase.staff_other:
        ok = phase.staff_ok
        mean = sum(ok) / len(ok) if ok else float("nan")
        print(
            f"  staff: {len(ok)} heavy pages served (mean {mean:.1f} s), "
            f"{phase.staff_busy} answered 503 busy, {len(phase.staff_other)} other"
        )
    for sample in (phase.errors + phase.staff_other)[:5]:
        print(f"  error: {sample}")
    if base is not None and base.flow_ms:
        ratio = pct(phase.flow_ms, 95) / pct(base.flow_ms, 95)
        print(f"  GET+POST p95 / baseline p95 = {ratio:.1f}")


def serve(env: dict[str, str], work: Path, limit: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**env, "SURVEY_HEAVY_REQUESTS": limit}
    return start_gunicorn("wsgi:app", port, env, None, work / f"gunicorn-{limit}.log"), port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=15_000)
    parser.add_argument("--work", type=Path, help="reuse (or build) the database in DIR")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warm", type=float, default=3.0)
    parser.add_argument("--residents", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.25)
    parser.add_argument("--staff", type=int, default=8)
    parser.add_argument("--retry", type=float, default=1.0)
    parser.add_argument("--path", default="/admin/questions?weighting=rake")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="survey-heavy-"))
    work.mkdir(parents=True, exist_ok=True)
    env = build(work, args.responses)
    codes = codes_of(env)
    print(
        f"server as make run (gunicorn.conf.py: 2 workers x 4 threads), SQLite, "
        f"{args.residents} residents (think {args.think} s), {args.staff} staff on {args.path}, "
        f"{args.seconds:.0f} s per phase; os.cpu_count()={os.cpu_count()}"
    )
    phases: list[Phase] = []
    proc, port = serve(env, work, "1")
    try:
        t0 = time.perf_counter()
        status, _, _ = sign_in(port).request("GET", args.path)
        print(f"one heavy page alone (and warm-up): {status} in {time.perf_counter() - t0:.1f} s")
        phases.append(run_phase("baseline (residents alone)", port, codes, args, 0))
        phases.append(run_phase("bounded (SURVEY_HEAVY_REQUESTS=1)", port, codes, args, args.staff))
    finally:
        stop(proc)
    proc, port = serve(env, work, "0")
    try:
        phases.append(
            run_phase("unbounded (SURVEY_HEAVY_REQUESTS=0)", port, codes, args, args.staff)
        )
    finally:
        stop(proc)
    for phase in phases:
        show(phase, phases[0] if phase is not phases[0] else None)
    bounded = pct(phases[1].flow_ms, 95)
    verdict = "met" if bounded < 1000 else "NOT met"
    print(f"\ngoal: bounded GET+POST p95 < 1000 ms: {bounded:.0f} ms -> {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
