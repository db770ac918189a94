"""Field sync benchmark: one interviewer's device syncs 500 queued interviews.

``python benchmarks/field_sync.py [--records 500] [--batch 50]`` bootstraps a fresh SQLite
file, draws a plan over the demo city, creates interviewer ``bench`` assigned to one drawn
community, generates ``--records`` complete interviews (the demo's answer generator, valid
by construction), then serves the app with gunicorn as ``make run`` does (gunicorn.conf.py)
on a free loopback port and sends the records through the real route, ``POST /field/sync``,
in batches of ``--batch`` as the device's script does (each batch with the device's fresh
CSRF token). It prints:

* the first sync: wall time for all records (goal: <= 30 s for 500), ms per record;
* the retry: the same records sent again (the server answers "already" for every one and
  stores nothing), a same-run baseline for the request and validation cost;
* a same-run floor: as many ``GET /field/token`` round trips as there were batches;
* stored counts read back from the database (must equal the records, once).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from load import free_port  # noqa: E402
from load import start_gunicorn  # noqa: E402
from load import stop  # noqa: E402

PASSWORD = "bench horse battery staple"


def opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def sign_in(web: urllib.request.OpenerDirector, base: str) -> None:
    page = web.open(f"{base}/admin/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no sign-in form"
    body = urllib.parse.urlencode(
        {"username": "bench", "password": PASSWORD, "csrf_token": token.group(1), "next": ""}
    ).encode()
    landed = web.open(f"{base}/admin/login", data=body)
    assert "/field/" in landed.geturl(), landed.geturl()


def csrf(web: urllib.request.OpenerDirector, base: str) -> str:
    return json.loads(web.open(f"{base}/field/token").read())["csrf"]


def sync(
    web: urllib.request.OpenerDirector, base: str, records: list, batch: int
) -> tuple[float, int, int]:  # type: ignore[type-arg]
    """Send ``records`` as the device does; (seconds, stored, already)."""
    stored = already = 0
    start = time.perf_counter()
    token = csrf(web, base)
    for i in range(0, len(records), batch):
        request = urllib.request.Request(
            f"{base}/field/sync",
            data=json.dumps({"records": records[i : i + batch]}).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
        )
        try:
            reply = json.loads(web.open(request).read())
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"sync refused: {exc.code} {exc.read().decode()[:500]}") from None
        stored += len(reply["stored"])
        already += len(reply["already"])
    return time.perf_counter() - start, stored, already


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="field-sync-") as tmp:
        work = Path(tmp)
        (work / "instance").mkdir()
        env = {
            **os.environ,
            "SURVEY_DATABASE_URL": f"sqlite:///{work / 'survey.db'}",
            "SURVEY_SECRET_KEY": secrets.token_hex(32),
            "SURVEY_INSTANCE_PATH": str(work / "instance"),
            "SURVEY_BASE_URL": "http://127.0.0.1",
        }
        subprocess.run(
            [str(BIN / "survey"), "bootstrap", "--demo-responses", "0", "--no-demo-mock"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        records_file = work / "records.json"
        subprocess.run(
            [sys.executable, "-P", str(ROOT / "benchmarks" / "field_sync_setup.py"),
             str(args.records), str(records_file), PASSWORD],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        records = json.loads(records_file.read_text())
        port = free_port()
        proc = start_gunicorn("wsgi:app", port, env, None, work / "gunicorn.log")
        try:
            base = f"http://127.0.0.1:{port}"
            web = opener()
            sign_in(web, base)
            first, stored, _ = sync(web, base, records, args.batch)
            retry, again, already = sync(web, base, records, args.batch)
            start = time.perf_counter()
            for _ in range(0, len(records), args.batch):
                csrf(web, base)
            floor = time.perf_counter() - start
        finally:
            stop(proc)
        with sqlite3.connect(work / "survey.db") as con:
            responses = con.execute(
                "SELECT count(*) FROM responses WHERE source = 'door_to_door'"
            ).fetchone()[0]
            attempts = con.execute("SELECT count(*) FROM contact_attempts").fetchone()[0]
    n = len(records)
    batches = -(-n // args.batch)
    print(
        f"records {n}, batches of {args.batch} ({batches} requests), gunicorn as make run, SQLite"
    )
    print(f"first sync:   {first:7.2f} s  ({first / n * 1000:.1f} ms/record)  stored {stored}")
    print(f"retry (all already): {retry:7.2f} s  stored {again}, already {already}")
    print(f"floor ({batches} x GET /field/token): {floor:7.3f} s")
    print(f"ratio first / retry: {first / retry:.2f}; first / floor: {first / floor:.1f}")
    print(f"stored in the database: {responses} responses, {attempts} contact attempts")
    print(f"goal: <= 30 s for 500 -> {'met' if first <= 30 * n / 500 else 'NOT met'}")
    if responses != n or attempts != n or again != 0:
        raise SystemExit("stored counts do not match the records")


if __name__ == "__main__":
    main()
