"""Integrity end to end through HTTP: what a bulk-fill script gets, what a resident gets."""

from __future__ import annotations

import datetime as dt
import http.client
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.extensions import db
from survey.models import Channel
from survey.models import CollectionPoint
from survey.models import QualityFlag
from survey.models import Region
from survey.models import Response
from survey.services import form_tokens
from survey.services import network
from survey.services.integrity.sweep import sweep_all
from survey.services.integrity.windows import set_window
from tests.conftest import serve
from tests.survey.public.conftest import Sample
from tests.survey.public.conftest import open_form
from tests.survey.public.conftest import valid_answers

EXCLUDED = int(QualityFlag.EXCLUDED)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
TEXT = re.compile(r'<input type="text" name="([^"]+)"')
CHOICE = re.compile(r'<input[^>]*type="(radio|checkbox)"[^>]*>')
ATTR = re.compile(r'(name|value)="([^"]*)"')
SELECT = re.compile(r'<select name="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')


@contextmanager
def served_earlier(monkeypatch: pytest.MonkeyPatch, seconds: float) -> Iterator[None]:
    """Forms served now carry a served time ``seconds`` ago (a resident who took that long)."""
    real = form_tokens.utcnow
    monkeypatch.setattr(form_tokens, "utcnow", lambda: real() - dt.timedelta(seconds=seconds))
    try:
        yield
    finally:
        monkeypatch.setattr(form_tokens, "utcnow", real)


def _sweep(app: Flask) -> None:
    with app.app_context():
        sweep_all(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))


def _stored(app: Flask) -> list[Response]:
    with app.app_context():
        return list(db.session.execute(db.select(Response).order_by(Response.id)).scalars())


def test_honeypot_is_invisible_to_people(client: FlaskClient, sample: Sample) -> None:
    html = open_form(client, sample.code).html
    match = re.search(r'<div class="hp" hidden aria-hidden="true">.*?</div>', html, re.S)
    assert match and 'name="contact-note"' in match.group(0)
    assert 'tabindex="-1"' in match.group(0) and 'autocomplete="off"' in match.group(0)


def test_a_resident_answering_normally_is_not_flagged(
    client: FlaskClient, seeded: Flask, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_earlier(monkeypatch, 240):
        page = open_form(client, sample.code)
    body = {**page.body(valid_answers(sample.street_code)), "contact-note": ""}
    response = client.post(f"/q/{sample.code}", data=body)
    assert response.status_code == 303
    _sweep(seeded)
    (stored,) = _stored(seeded)
    assert stored.flags == 0 and 230 < (stored.duration_seconds or 0) < 260
    assert stored.network_hash is not None and stored.agent_hash is not None


def test_filled_honeypot_is_stored_and_flagged(
    client: FlaskClient, seeded: Flask, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_earlier(monkeypatch, 240):
        page = open_form(client, sample.code)
    body = {**page.body(valid_answers(sample.street_code)), "contact-note": "13800000000"}
    assert client.post(f"/q/{sample.code}", data=body).status_code == 303
    (stored,) = _stored(seeded)
    assert stored.flags & QualityFlag.HONEYPOT and stored.flags & EXCLUDED
    assert "13800000000" not in str([getattr(stored, c) for c in ("network_hash", "agent_hash")])


def test_network_prefix_and_browser_are_hashed(
    client: FlaskClient, seeded: Flask, sample: Sample
) -> None:
    page = open_form(client, sample.code)
    client.post(
        f"/q/{sample.code}",
        data=page.body(valid_answers(sample.street_code)),
        environ_base={"REMOTE_ADDR": "203.0.113.77"},
        headers={"User-Agent": "python-requests/2.31"},
    )
    (stored,) = _stored(seeded)
    with seeded.app_context():
        assert (stored.network_hash, stored.agent_hash) == network.client_hashes(
            "203.0.113.1", "curl/8"
        )


def _local_point(app: Flask) -> tuple[str, str]:
    """A community notice board's code and a street of another district."""
    with app.app_context():
        point = (
            db.session.execute(
                db.select(CollectionPoint)
                .join(Channel, Channel.id == CollectionPoint.channel_id)
                .where(Channel.code == "notice_board")
                .order_by(CollectionPoint.id)
            )
            .scalars()
            .first()
        )
        assert point is not None
        district_path = "/".join(point.region.path.split("/")[:3]) + "/"
        street = (
            db.session.execute(
                db.select(Region.code).where(
                    Region.level == "street", Region.path.not_like(f"{district_path}%")
                )
            )
            .scalars()
            .first()
        )
        assert street is not None
        return point.code, street


def test_residence_outside_a_local_point_is_weak(
    client: FlaskClient, seeded: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, elsewhere = _local_point(seeded)
    with served_earlier(monkeypatch, 240):
        page = open_form(client, code)
    assert client.post(f"/q/{code}", data=page.body(valid_answers(elsewhere))).status_code == 303
    _sweep(seeded)
    (stored,) = _stored(seeded)
    assert stored.flags & QualityFlag.RESIDENCE and not stored.flags & EXCLUDED
    with seeded.app_context():
        from tests.survey.integrity.conftest import flags_of

        assert "不在点位所在的" in _explained(flags_of(stored.id)["RESIDENCE"])


def _explained(flag: Any) -> str:
    from survey.services.integrity.catalogue import explain

    return explain(flag.code, flag.evidence)


def test_outside_the_point_window(
    client: FlaskClient, seeded: Flask, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    with seeded.app_context():
        point = db.session.get(CollectionPoint, sample.point_id)
        assert point is not None
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
        set_window(None, point, past, past + dt.timedelta(days=1), None)
        db.session.commit()
    with served_earlier(monkeypatch, 240):
        page = open_form(client, sample.code)
    client.post(f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code)))
    _sweep(seeded)
    (stored,) = _stored(seeded)
    assert stored.flags & QualityFlag.OUT_OF_WINDOW and not stored.flags & EXCLUDED


def test_preloaded_forms_submitted_together(
    client: FlaskClient, seeded: Flask, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A patient bot: opens 12 forms, each with a fresh device cookie it keeps for that
    form, waits past the reading time, submits them at once."""
    with served_earlier(monkeypatch, 150):
        pages = []
        for _ in range(12):
            client.delete_cookie("sv_device")
            pages.append(open_form(client, sample.code))
            device = client.get_cookie("sv_device")
            assert device is not None
            pages[-1] = (pages[-1], device.value)
    for page, device_cookie in pages:
        client.set_cookie("sv_device", device_cookie)
        response = client.post(
            f"/q/{sample.code}", data=page.body(valid_answers(sample.street_code))
        )
        assert response.status_code == 303
    _sweep(seeded)
    stored = _stored(seeded)
    assert len(stored) == 12
    assert all(r.flags & QualityFlag.PRELOADED and r.flags & EXCLUDED for r in stored)
    assert not any(r.flags & QualityFlag.TOO_FAST for r in stored)


class Script:
    """A bulk-fill script: no cookie kept, every field it sees filled, posted at once."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def request(
        self, method: str, path: str, body: bytes | None = None, cookie: str = ""
    ) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"User-Agent": "python-requests/2.31.0"}
        if cookie:
            headers["Cookie"] = cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            jar = SimpleCookie()
            for value in resp.headers.get_all("Set-Cookie") or []:
                jar.load(value)
            cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
            return resp.status, resp.read().decode(), cookie
        finally:
            conn.close()

    def fill(self, code: str, n: int) -> int:
        ok = 0
        for i in range(n):
            status, html, cookie = self.request("GET", f"/q/{code}")
            assert status == 200
            pairs = HIDDEN.findall(html) + [(name, f"好{i}") for name in TEXT.findall(html)]
            seen: set[str] = set()
            for tag in CHOICE.finditer(html):
                attrs = dict(ATTR.findall(tag.group(0)))
                if attrs["name"] not in seen and attrs["value"] != "other":
                    seen.add(attrs["name"])
                    pairs.append((attrs["name"], attrs["value"]))  # the first option, always
            for name, options in SELECT.findall(html):
                pairs.append((name, OPTION.findall(options)[0]))
            status, _, _ = self.request("POST", f"/q/{code}", urlencode(pairs).encode(), cookie)
            ok += status == 303
        return ok


@pytest.mark.slow
def test_bulk_fill_script_against_the_running_app(seeded: Flask, sample: Sample) -> None:
    with serve(seeded) as base:
        assert Script(base).fill(sample.code, 30) == 30
    _sweep(seeded)
    stored = _stored(seeded)
    assert len(stored) == 30 and all(r.flags & EXCLUDED for r in stored)
    codes = QualityFlag(0)
    for r in stored:
        codes |= QualityFlag(r.flags)
    assert QualityFlag.TOO_FAST in codes and QualityFlag.HONEYPOT in codes
    assert QualityFlag.SERIAL in codes  # one address and browser, one form after another
