"""Residents while sixteen slow clients hold connections: straight to gunicorn (as ``make run``
serves it) and through nginx with the shipped settings (``deploy/nginx-survey.conf``).

One command (``python benchmarks/slow_clients.py``; needs ``nginx`` from apt) bootstraps a
fresh SQLite database, starts gunicorn from the repository root (``gunicorn.conf.py``: 2
gthread workers x 4 threads) and nginx in a temporary prefix in front of it, both on random
loopback ports, and measures three phases of ``--seconds`` each:

1. **baseline**: residents alone through nginx;
2. **nginx**: the same while ``--slow`` clients (half trickle a request head a byte every
   ``--gap`` seconds, half announce a 1,000-byte body and send a byte every ``--gap``
   seconds) connect through nginx, each reconnecting at once when cut;
3. **direct**: the same slow clients and residents straight to gunicorn;
4. **before**: the same straight to gunicorn's plain gthread worker (``--worker-class
   gthread``, what ``gunicorn.conf.py`` served with before issue 23).

Per phase: resident flows, p50/p95/max of GET+POST, errors, and how many slow requests were
cut (connection closed by the server). Timing is noisy on a shared machine: compare the
phases of one run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
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

from load import MAKE_RUN
from load import ROOT
from load import Resident
from load import answer
from load import free_port
from load import pct
from load import start_project
from load import stop

SHIPPED = ROOT / "deploy" / "nginx-survey.conf"


@dataclass
class Phase:
    name: str
    flow_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cut: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def start_nginx(work: Path, upstream: int) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    prefix = work / "nginx"
    for sub in ("logs", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    temp = "".join(
        f"  {k}_temp_path {prefix}/{k};\n" for k in ("proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/error.log;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n{temp}"
        f"  upstream survey_app {{ server 127.0.0.1:{upstream}; }}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n    include {SHIPPED};\n  }}\n}}\n"
    )
    proc = subprocess.Popen([binary, "-p", str(prefix), "-c", str(conf)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("nginx did not start")


def slow_client(port: int, code: str, body: bool, gap: float, phase: Phase, until: float) -> None:
    """Trickle a head (or a body) a byte every ``gap`` s; reconnect when cut."""
    while time.perf_counter() < until:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                if body:
                    sock.sendall(
                        f"POST /q/{code} HTTP/1.1\r\nHost: survey.test\r\n"
                        "Content-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: 1000\r\n\r\n".encode()
                    )
                else:
                    sock.sendall(f"GET /q/{code} HTTP/1.1\r\nHost: survey.test\r\n".encode())
                while time.perf_counter() < until:
                    sock.sendall(b"a")
                    time.sleep(gap)
                    sock.setblocking(False)
                    try:
                        if sock.recv(65536) == b"":
                            raise ConnectionResetError
                    except BlockingIOError:
                        pass
                    finally:
                        sock.setblocking(True)
        except OSError:
            with phase.lock:
                phase.cut += 1


def resident_loop(port: int, codes: list[str], phase: Phase, until: float, seed: int) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < until:
        resident = Resident(port)
        resident.timeout = 600.0
        code = rng.choice(codes)
        try:
            t0 = time.perf_counter()
            status, _, html = resident.request("GET", f"/q/{code}")
            if status != 200:
                raise RuntimeError(f"GET {status}")
            t1 = time.perf_counter()
            body = urlencode(answer(html, rng)).encode()
            t2 = time.perf_counter()
            status, _, _ = resident.request("POST", f"/q/{code}", body)
            t3 = time.perf_counter()
            if status != 303:
                raise RuntimeError(f"POST {status}")
        except Exception as exc:
            with phase.lock:
                phase.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        with phase.lock:
            phase.flow_ms.append((t1 - t0 + t3 - t2) * 1000)
        time.sleep(0.25)


def run_phase(name: str, port: int, codes: list[str], args: argparse.Namespace, slow: int) -> Phase:
    phase = Phase(name)
    until = time.perf_counter() + args.seconds + 2
    threads = [
        threading.Thread(
            target=slow_client, args=(port, codes[0], i % 2 == 1, args.gap, phase, until)
        )
        for i in range(slow)
    ]
    for t in threads:
        t.start()
    time.sleep(2)  # the slow clients are connected first
    residents = [
        threading.Thread(target=resident_loop, args=(port, codes, phase, until, i))
        for i in range(args.residents)
    ]
    for t in residents:
        t.start()
    for t in residents + threads:
        t.join()
    return phase


def show(phase: Phase, base: Phase) -> None:
    values = phase.flow_ms
    top = max(values) if values else float("nan")
    print(
        f"{phase.name:<34} flows={len(values):<4} GET+POST ms p50={pct(values, 50):8.1f} "
        f"p95={pct(values, 95):8.1f} max={top:8.1f}  errors={len(phase.errors)} "
        f"slow requests cut={phase.cut}  p95/baseline={pct(values, 95) / pct(base.flow_ms, 95):.1f}"
    )
    for sample in phase.errors[:3]:
        print(f"    error: {sample}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--slow", type=int, default=16)
    parser.add_argument("--gap", type=float, default=1.0)
    parser.add_argument("--residents", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="survey-slow-"))
    target = start_project(work, argparse.Namespace(project=None))
    nginx, port = start_nginx(work, target.port)
    wait_for_workers(target.port, target.codes[0])
    print(
        f"gunicorn as make run (gunicorn.conf.py: 2 workers x 4 threads) on :{target.port}, "
        f"nginx on :{port} with "
        f"{SHIPPED.name}; {args.slow} slow clients (a byte every {args.gap} s), "
        f"{args.residents} residents, {args.seconds:.0f} s per phase; cpus={os.cpu_count()}"
    )
    try:
        base = run_phase("baseline (residents, via nginx)", port, target.codes, args, 0)
        proxied = run_phase("slow clients, via nginx", port, target.codes, args, args.slow)
        direct = run_phase(
            "slow clients, straight to gunicorn", target.port, target.codes, args, args.slow
        )
    finally:
        nginx.terminate()
        nginx.wait()
        stop(target.proc)
    # The same, straight to gunicorn's own gthread worker (gunicorn.conf.py before issue 23).
    (work / "plain").mkdir()
    plain = start_project(work / "plain", argparse.Namespace(project=MAKE_RUN))
    try:
        wait_for_workers(plain.port, plain.codes[0])
        before = run_phase(
            "slow clients, plain gthread (before)", plain.port, plain.codes, args, args.slow
        )
    finally:
        stop(plain.proc)
    for phase in (base, proxied, direct, before):
        show(phase, base)
    return 0


def wait_for_workers(port: int, code: str) -> None:
    """Until a form is served (the master listens before its workers have booted)."""
    for _ in range(120):
        try:
            if Resident(port).request("GET", f"/q/{code}")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)


if __name__ == "__main__":
    raise SystemExit(main())
