"""Load benchmark: simulated residents against the real app and a minimal baseline app.

One command (``make bench-load`` or ``python benchmarks/load.py``) starts the project as
``make run`` serves it (``gunicorn.conf.py``: gthread workers) and the minimal baseline app
in several server configurations (``--baseline`` ``sync:2``, ``gthread:2x4``, ...: workers
and threads), each on a fresh SQLite file, on loopback only, and runs the same resident
flow from ``--concurrency`` threads, alternating between the servers in ``--rounds`` rounds
so that load from other jobs on the machine hits all alike. Every flow is a distinct
resident with its own cookie jar: GET the form, read the hidden fields and the questions,
answer every question, POST, follow the 303 to the thank-you page. It prints, per server,
completed flows/s, server and load-generator CPU per flow, p50/p99 of GET and POST,
errors, then two ratios: project / baseline in the project's own configuration, and
project / baseline in the baseline's *best* configuration (the fair yardstick), and checks
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
    client_cpu: float = 0.0
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(what)


class Resident:
    """One resident's browser: a cookie jar and fresh connections to the server (``headers``
    on every request; ``benchmarks/integrity.py`` gives each its own address and agent)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.headers = headers or {"User-Agent": "bench-resident", "Accept-Language": "zh-CN"}
        self.jar: SimpleCookie = SimpleCookie()
        self.timeout = 60.0

    def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = dict(self.headers)
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
    cpu = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats.client_cpu = time.process_time() - cpu
    return stats, time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ServerConfig:
    """A gunicorn configuration: worker class, workers and threads per worker."""

    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        """``sync:2`` or ``gthread:2x4`` (workers x threads)."""
        kind, _, size = text.partition(":")
        workers, _, threads = size.partition("x")
        if kind not in {"sync", "gthread"} or not workers.isdigit():
            raise argparse.ArgumentTypeError(f"expected sync:N or gthread:NxT, got {text!r}")
        return cls(kind, int(workers), int(threads or 1))

    def __str__(self) -> str:
        if self.worker_class == "sync":
            return f"sync:{self.workers}"
        return f"gthread:{self.workers}x{self.threads}"

    def flags(self) -> list[str]:
        return [
            "--worker-class",
            self.worker_class,
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
        ]


#: What ``make run`` serves with: gunicorn.conf.py's gthread workers (2 x 4 threads).
MAKE_RUN = ServerConfig("gthread", 2, 4)


def start_gunicorn(
    app: str,
    port: int,
    env: dict[str, str],
    config: ServerConfig | None,
    log: Path,
    config_file: Path | None = None,
) -> subprocess.Popen[bytes]:
    """gunicorn with ``config_file`` (None: the repository's gunicorn.conf.py, as make run)
    and, when given, the worker settings of ``config`` on top."""
    cmd = [str(BIN / "gunicorn")]
    if config_file is not None:
        cmd += ["--config", str(config_file)]
    if config is not None:
        cmd += config.flags()
    cmd += ["--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--timeout", "60", app]
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
    client_ms = stats.client_cpu * 1000 / stats.flows if stats.flows else float("nan")
    print(
        f"{name:<22} flows={stats.flows:<5} {rate:7.1f} flows/s  "
        f"CPU ms/flow server={cpu_ms:4.1f} load-generator={client_ms:4.1f}  "
        f"GET p50={pct(stats.get_ms, 50):6.1f}ms p99={pct(stats.get_ms, 99):6.1f}ms  "
        f"POST p50={pct(stats.post_ms, 50):6.1f}ms p99={pct(stats.post_ms, 99):6.1f}ms  "
        f"errors={stats.errors}"
    )
    for sample in stats.error_samples:
        print(f"          error: {sample}")
    return rate


@dataclass
class Target:
    """One app under test: its gunicorn process, codes to scan and accumulated figures."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    codes: list[str]
    db: Path
    stats: Stats = field(default_factory=Stats)
    seconds: float = 0.0
    cpu: float = 0.0
    warm: int = 0
    rates: list[float] = field(default_factory=list)

    def run(self, flows: int, concurrency: int, seed: int) -> None:
        """One measured round; figures accumulate over rounds."""
        cpu0 = server_cpu_seconds(self.proc)
        stats, seconds = run_load(self.port, self.codes, flows, concurrency, seed)
        self.cpu += server_cpu_seconds(self.proc) - cpu0
        self.seconds += seconds
        self.rates.append(stats.flows / seconds if seconds else 0.0)
        total = self.stats
        total.get_ms += stats.get_ms
        total.post_ms += stats.post_ms
        total.flows += stats.flows
        total.acknowledged += stats.acknowledged
        total.errors += stats.errors
        total.client_cpu += stats.client_cpu
        total.error_samples += stats.error_samples[: 5 - len(total.error_samples)]

    def warm_up(self, flows: int, concurrency: int) -> None:
        """Unmeasured flows (first requests compile templates and fill caches)."""
        stats, _ = run_load(self.port, self.codes, flows, concurrency, seed=1)
        self.warm = stats.acknowledged
        self.stats.errors += stats.errors


def start_project(work: Path, args: argparse.Namespace) -> Target:
    """``survey bootstrap`` on a fresh SQLite file, then gunicorn ``wsgi:app`` as make run
    serves it (gunicorn.conf.py with the access log, or ``--project`` settings on top)."""
    db = work / "survey.db"
    instance = work / "instance"
    instance.mkdir()
    env = {
        **os.environ,
        "SURVEY_DATABASE_URL": f"sqlite:///{db}",
        "SURVEY_SECRET_KEY": secrets.token_hex(32),
        "SURVEY_INSTANCE_PATH": str(instance),
        "SURVEY_BASE_URL": "http://127.0.0.1",
        "SURVEY_ACCESS_LOG": str(work / "access.log"),
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
    proc = start_gunicorn("wsgi:app", port, env, args.project, work / "project.log")
    label = f"project {args.project or 'make-run'}"
    return Target(label, proc, port, codes, db)


def start_baseline(work: Path, config: ServerConfig) -> Target:
    """The minimal baseline app under gunicorn (``config``, nothing else) on a fresh file."""
    work.mkdir()
    db = work / "baseline.db"
    env = {**os.environ, "BASELINE_DB": str(db), "BASELINE_KEY": secrets.token_hex(16)}
    empty = work / "gunicorn.conf.py"
    empty.write_text("# the baseline runs with gunicorn's defaults and its flags only\n")
    port = free_port()
    proc = start_gunicorn(
        "benchmarks.baseline_app:app", port, env, config, work / "baseline.log", empty
    )
    return Target(f"baseline {config}", proc, port, [f"CODE{i:05d}" for i in range(100)], db)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=1500, help="measured flows per server")
    parser.add_argument("--concurrency", type=int, default=50, help="simultaneous residents")
    parser.add_argument(
        "--project",
        type=ServerConfig.parse,
        default=None,
        help="project server settings on top of gunicorn.conf.py (default: as make run)",
    )
    parser.add_argument(
        "--baseline",
        type=ServerConfig.parse,
        action="append",
        help="baseline configurations (repeat; default sync:2 and gthread:2x4)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds (evens out machine noise)"
    )
    args = parser.parse_args()
    baselines = args.baseline or [ServerConfig("sync", 2), ServerConfig("gthread", 2, 4)]

    with tempfile.TemporaryDirectory(prefix="survey-load-") as tmp:
        work = Path(tmp)
        print(
            f"resident flows: {args.flows} per server in {args.rounds} alternating rounds, "
            f"{args.concurrency} concurrent residents, SQLite, loopback; project as make run "
            f"(gunicorn.conf.py{', ' + str(args.project) if args.project else ''}), "
            f"baseline as {', '.join(map(str, baselines))}"
        )
        (work / "p").mkdir()
        targets: list[Target] = []
        try:
            targets.append(start_project(work / "p", args))
            for i, config in enumerate(baselines):
                targets.append(start_baseline(work / f"b{i}", config))
            for target in targets:
                target.warm_up(min(20, args.flows), args.concurrency)
            per_round = max(1, args.flows // args.rounds)
            for r in range(args.rounds):
                for target in targets:  # the idle servers wait while one is loaded
                    target.run(per_round, args.concurrency, seed=2 + r)
        finally:
            for target in targets:
                stop(target.proc)
        rates = {t.name: report(t.name, t.stats, t.seconds, t.cpu) for t in targets}
        project, others = targets[0], targets[1:]
        p_rate = rates[project.name]
        best = max(others, key=lambda t: rates[t.name])
        own = str(args.project or MAKE_RUN)
        same = next((t for t in others if t.name.endswith(own)), others[0])
        for label, base in (("its own configuration", same), ("its best configuration", best)):
            b_rate = rates[base.name]
            ratio = p_rate / b_rate if b_rate else 0.0
            rounds = [p / b for p, b in zip(project.rates, base.rates, strict=True) if b]
            print(
                f"ratio project / {base.name} ({label}): {ratio:.2f}; per round: "
                f"{', '.join(f'{x:.2f}' for x in rounds)}; median {statistics.median(rounds):.2f}"
            )
        b_rate = rates[best.name]
        verdict = "met" if p_rate >= 0.5 * b_rate else "NOT met"
        print(f"goal: project >= 0.5 x baseline at its best ({best.name}): {verdict}")

        ok = True
        for target in targets:
            with sqlite3.connect(target.db) as con:
                stored = con.execute("SELECT count(*) FROM responses").fetchone()[0]
            ack = target.stats.acknowledged + target.warm
            lost = ack - stored
            print(f"{target.name:<22} acknowledged={ack} stored={stored} lost={lost}")
            ok = ok and lost == 0 and target.stats.errors == 0
        with sqlite3.connect(project.db) as con:
            scans = con.execute("SELECT coalesce(sum(scans), 0) FROM point_scans_daily").fetchone()
        gets = project.stats.flows + project.stats.errors + project.warm
        print(f"project scans counted={scans[0]} form GETs={gets}")
        print("RESULT (zero errors, zero lost): " + ("OK" if ok else "FAILED"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
