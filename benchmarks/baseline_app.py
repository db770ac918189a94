"""The least code that does the resident flow: a 10-question form with a token, one row.

Run by ``benchmarks/load.py`` under gunicorn next to the real app, as the yardstick.
``BASELINE_DB`` names the SQLite file (created on start, WAL mode like the real app).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import time

from flask import Flask
from flask import abort
from flask import g
from flask import redirect
from flask import request

DB = os.environ.get("BASELINE_DB", "baseline.db")
KEY = (
    secrets.token_bytes(32)
    if "BASELINE_KEY" not in os.environ
    else os.environ["BASELINE_KEY"].encode()
)
OPTIONS = ("satisfied", "fairly_satisfied", "needs_improvement", "very_dissatisfied")
QUESTIONS = tuple(f"q{i}" for i in range(1, 11))

app = Flask(__name__)


def _db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(DB, timeout=10, isolation_level=None)
        g.db.execute("PRAGMA journal_mode=WAL")
        g.db.execute("PRAGMA synchronous=NORMAL")
    return g.db


@app.teardown_appcontext
def _close(_exc: BaseException | None) -> None:
    con = g.pop("db", None)
    if con is not None:
        con.close()


with sqlite3.connect(DB) as _con:
    _con.execute(
        "CREATE TABLE IF NOT EXISTS responses (id INTEGER PRIMARY KEY, code TEXT, token TEXT"
        " UNIQUE, answers TEXT, served REAL, submitted REAL)"
    )


def _sign(nonce: str) -> str:
    return nonce + "." + hmac.new(KEY, nonce.encode(), hashlib.sha256).hexdigest()[:32]


@app.get("/q/<code>")
def form(code: str) -> str:
    """Render the form with a signed token."""
    token = _sign(f"{secrets.token_urlsafe(12)}:{time.time():.3f}")
    rows = "".join(
        f"<fieldset><legend>{q}</legend>"
        + "".join(f'<label><input type="radio" name="{q}" value="{o}">{o}</label>' for o in OPTIONS)
        + "</fieldset>"
        for q in QUESTIONS
    )
    return (
        f'<!doctype html><form method="post"><input type="hidden" name="token" value="{token}">'
        f"{rows}<button>提交</button></form>"
    )


@app.post("/q/<code>")
def submit(code: str):  # type: ignore[no-untyped-def]
    """Check the token and the answers, insert one row, redirect."""
    token = request.form.get("token", "")
    nonce = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(_sign(nonce), token):
        abort(400)
    answers = [request.form.get(q, "") for q in QUESTIONS]
    if any(a not in OPTIONS for a in answers):
        abort(400)
    served = float(nonce.split(":")[1])
    _db().execute(
        "INSERT INTO responses (code, token, answers, served, submitted) VALUES (?, ?, ?, ?, ?)",
        (code, nonce, ",".join(answers), served, time.time()),
    )
    return redirect(f"/q/{code}/thanks", 303)


@app.get("/q/<code>/thanks")
def thanks(code: str) -> str:
    """Thank-you page."""
    return "<!doctype html><p>感谢您的参与！</p>"
