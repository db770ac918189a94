"""Load benchmark: simulated residents against the real app and a minimal baseline app.

One command (``make bench-load`` or ``python benchmarks/load.py``) starts each app under
gunicorn with the same settings (2 sync workers) on a fresh SQLite file, on loopback only,
and runs the same resident flow from ``--concurrency`` threads. Every flow is a distinct
resident with its own cookie jar: GET the form, read the hidden fields and the questions,
answer every question, POST, follow the 303 to the thank-you page. It prints, per app,
completed flows/s, p50/p99 of GET and POST, errors, the ratio project/baseline, and checks
that stored responses equal acknowledged submissions (and, for the project, that every
scan was counted once the workers stopped).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CHOICE = re.compile(r'<input[^>]*type="(radio|checkbox)"[^>]*>')
ATTR = re.compile(r'(name|value)="([^"]*)"')
SELECT = re.compile(r'<select name="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')


@dataclass
class Stats:
    """Measurements of one run."""

    get_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    flows: int = 0
    acknowledged: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(what)


class Resident:
    """One resident's browser: a cookie jar and fresh connections to the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.jar: SimpleCookie = SimpleCookie()

    def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"User-Agent": "bench-resident", "Accept-Language": "zh-CN"}
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.jar.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
            for value in resp.headers.get_all("Set-Cookie") or []:
                self.jar.load(value)
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()


def answer(html: str, rng: random.Random) -> list[tuple[str, str]]:
    """Hidden fields plus one answer per question read from the page."""
    pairs = HIDDEN.findall(html)
    groups: dict[str, tuple[str, list[str]]] = {}
    for tag in CHOICE.finditer(html):
        attrs = dict(ATTR.findall(tag.group(0)))
        kind = tag.group(1)
        groups.setdefault(attrs["name"], (kind, []))[1].append(attrs["value"])
    for name, (kind, values) in groups.items():
        values = [v for v in values if v != "other"]  # "其他" would need its text
        if kind == "radio":
            pairs.append((name, rng.choice(values)))
        else:
            pairs.extend((name, v) for v in rng.sample(values, k=min(2, len(values))))
    for name, options in SELECT.findall(html):
        pairs.append((name, rng.choice(OPTION.findall(options))))
    return pairs


def flow(port: int, code: str, stats: Stats, rng: random.Random) -> None:
    """GET the form, answer, POST, follow the redirect."""
    resident = Resident(port)
    t0 = time.perf_counter()
    status, _, html = resident.request("GET", f"/q/{code}")
    t1 = time.perf_counter()
    if status != 200:
        stats.error(f"GET {status}")
        return
    body = urlencode(answer(html, rng)).encode()
    t2 = time.perf_counter()
    status, headers, text = resident.request("POST", f"/q/{code}", body)
    t3 = time.perf_counter()
    if status != 303:
        stats.error(f"POST {status} {text[:200]!r}")
        return
    with stats.lock:
        stats.acknowledged += 1  # the server said it has the response
    location = headers.get("location", "")
    path = location.split("//", 1)[-1].split("/", 1)[-1] if "//" in location else location
    status, _, _ = resident.request("GET", "/" + path.lstrip("/"))
    if status != 200:
        stats.error(f"thanks {status}")
        return
    with stats.lock:
        stats.get_ms.append((t1 - t0) * 1000)
        stats.post_ms.append((t3 - t2) * 1000)
        stats.flows += 1


def run_load(
    port: int, codes: list[str], flows: int, concurrency: int, seed: int
) -> tuple[Stats, float]:
    """Run ``flows`` resident flows from ``concurrency`` threads; return stats and seconds."""
    stats = Stats()
    remaining = iter(range(flows))
    take = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        while True:
            with take:
                i = next(remaining, None)
            if i is None:
                return
            try:
                flow(port, codes[i % len(codes)], stats, rng)
            except Exception as exc:  # a refused or reset connection is an error, not a crash
                stats.error(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats, time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    app: str, port: int, env: dict[str, str], workers: int, log: Path
) -> subprocess.Popen[bytes]:
    cmd = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "--timeout",
        "60",
        app,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn {app} did not start; see {log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Graceful stop (SIGTERM), so workers flush their scan counters."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_cpu_seconds(proc: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) used so far by the gunicorn master and its workers."""
    pids = [proc.pid]
    try:
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(name: str, stats: Stats, seconds: float, cpu: float) -> float:
    rate = stats.flows / seconds if seconds else 0.0
    cpu_ms = cpu * 1000 / stats.flows if stats.flows else float("nan")
    print(
        f"{name:<9} flows={stats.flows:<5} {rate:7.1f} flows/s  server CPU {cpu_ms:5.1f} ms/flow  "
        f"GET p50={pct(stats.get_ms, 50):6.1f}ms p99={pct(stats.get_ms, 99):6.1f}ms  "
        f"POST p50={pct(stats.post_ms, 50):6.1f}ms p99={pct(stats.post_ms, 99):6.1f}ms  "
        f"errors={stats.errors}"
    )
    for sample in stats.error_samples:
        print(f"          error: {sample}")
    return rate


def bench_project(
    work: Path, args: argparse.Namespace
) -> tuple[Stats, float, float, int, int, int]:
    db = work / "survey.db"
    instance = work / "instance"
    instance.mkdir()
    env = {
        **os.environ,
        "SURVEY_DATABASE_URL": f"sqlite:///{db}",
        "SURVEY_SECRET_KEY": secrets.token_hex(32),
        "SURVEY_INSTANCE_PATH": str(instance),
        "SURVEY_BASE_URL": "http://127.0.0.1",
    }
    subprocess.run(
        [str(BIN / "survey"), "bootstrap", "--demo-responses", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with sqlite3.connect(db) as con:
        codes = [
            r[0] for r in con.execute("SELECT code FROM collection_points WHERE active ORDER BY id")
        ]
    port = free_port()
    proc = start_gunicorn("wsgi:app", port, env, args.workers, work / "project.log")
    try:
        run_load(port, codes, min(20, args.flows), args.concurrency, seed=1)  # warm-up
        cpu0 = server_cpu_seconds(proc)
        stats, seconds = run_load(port, codes, args.flows, args.concurrency, seed=2)
        cpu = server_cpu_seconds(proc) - cpu0
    finally:
        stop(proc)
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT count(*) FROM responses").fetchone()[0]
        scans = con.execute("SELECT coalesce(sum(scans), 0) FROM point_scans_daily").fetchone()[0]
    return stats, seconds, cpu, stored, scans, min(20, args.flows)


def bench_baseline(work: Path, args: argparse.Namespace) -> tuple[Stats, float, float, int, int]:
    db = work / "baseline.db"
    env = {**os.environ, "BASELINE_DB": str(db), "BASELINE_KEY": secrets.token_hex(16)}
    port = free_port()
    proc = start_gunicorn(
        "benchmarks.baseline_app:app", port, env, args.workers, work / "baseline.log"
    )
    codes = [f"CODE{i:05d}" for i in range(100)]
    try:
        run_load(port, codes, min(20, args.flows), args.concurrency, seed=1)
        cpu0 = server_cpu_seconds(proc)
        stats, seconds = run_load(port, codes, args.flows, args.concurrency, seed=2)
        cpu = server_cpu_seconds(proc) - cpu0
    finally:
        stop(proc)
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT count(*) FROM responses").fetchone()[0]
    return stats, seconds, cpu, stored, min(20, args.flows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=1500, help="measured flows per app")
    parser.add_argument("--concurrency", type=int, default=50, help="simultaneous residents")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both apps)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="survey-load-") as tmp:
        work = Path(tmp)
        print(
            f"resident flows: {args.flows} per app, {args.concurrency} concurrent residents, "
            f"gunicorn --workers {args.workers} --worker-class sync, SQLite, loopback"
        )
        (work / "p").mkdir()
        (work / "b").mkdir()
        p_stats, p_secs, p_cpu, p_stored, p_scans, p_warm = bench_project(work / "p", args)
        b_stats, b_secs, b_cpu, b_stored, b_warm = bench_baseline(work / "b", args)
        p_rate = report("project", p_stats, p_secs, p_cpu)
        b_rate = report("baseline", b_stats, b_secs, b_cpu)
        ratio = p_rate / b_rate if b_rate else 0.0
        verdict = "met" if ratio >= 0.5 else "NOT met"
        print(f"ratio project/baseline (flows/s): {ratio:.2f}  (goal >= 0.5: {verdict})")

        p_ack = p_stats.acknowledged + p_warm
        b_ack = b_stats.acknowledged + b_warm
        p_gets = p_stats.flows + p_stats.errors + p_warm  # every flow starts with one GET
        ok = True
        for name, ack, stored in (("project", p_ack, p_stored), ("baseline", b_ack, b_stored)):
            lost = ack - stored
            print(f"{name:<9} acknowledged={ack} stored={stored} lost={lost}")
            ok = ok and lost == 0
        print(f"project   scans counted={p_scans} form GETs={p_gets}")
        ok = ok and p_stats.errors == 0 and b_stats.errors == 0
        print("RESULT (zero errors, zero lost): " + ("OK" if ok else "FAILED"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
