"""Acceptance: the interviewer's form offline in chromium, then one sync per record.

An interviewer signs in, the form is loaded once, the browser goes offline
(``context.set_offline(True)``), the form is reloaded and still opens; three interviews and
two non-contacts are recorded offline; back online the sync stores 3 responses and 2
attempts; a second sync (the device lost the reply) stores nothing; the same draft open in
two tabs stores one response.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import ARTIFACTS
from tests.conftest import CHROMIUM_ARGS
from tests.conftest import serve
from tests.survey.admin.conftest import PASSWORD
from tests.survey.field.conftest import Fieldwork
from tests.survey.public.conftest import valid_answers

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "field"


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """SQLite only: the live server runs in a thread of the test process."""
    path = tmp_path / "survey.db"
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def live_server(fieldwork: Fieldwork, staff: Flask) -> Iterator[str]:
    with serve(staff) as url:
        yield url


def _counts(app: Flask) -> tuple[int, int, int]:
    """Field responses, contact attempts without an interview, responses per distinct UUID."""
    from survey.extensions import db
    from survey.models import ContactAttempt
    from survey.models import Response

    with app.app_context():
        responses = db.session.execute(
            db.select(db.func.count()).where(Response.source == "door_to_door")
        ).scalar_one()
        attempts = db.session.execute(
            db.select(db.func.count(ContactAttempt.id)).where(ContactAttempt.response_id.is_(None))
        ).scalar_one()
        distinct = db.session.execute(
            db.select(db.func.count(db.distinct(Response.form_instance))).where(
                Response.source == "door_to_door"
            )
        ).scalar_one()
        db.session.remove()
    return responses, attempts, distinct


def _answer_all(page: Any, answers: dict[str, Any]) -> None:
    for key, value in answers.items():
        if key == "residence":
            page.select_option(f'select[name="{key}"]', value)
        elif key == "suggestions":
            page.fill(f'textarea[name="{key}"]', value)
        elif key.endswith("__other"):
            page.fill(f'input[name="{key}"]', value)
        else:
            for v in value if isinstance(value, list) else [value]:
                page.check(f'input[name="{key}"][value="{v}"]')


def _queued(page: Any) -> int:
    return int(page.get_attribute("#queue-status", "data-queued") or -1)


def _wait_queue(page: Any, queued: int, synced: int) -> None:
    page.wait_for_function(
        "([q, s]) => { const e = document.getElementById('queue-status');"
        " return e && e.dataset.queued === String(q) && e.dataset.synced === String(s); }",
        arg=[queued, synced],
        timeout=60_000,
    )


def _sign_in(page: Any, server: str) -> None:
    page.goto(f"{server}/field/")
    assert "/admin/login" in page.url
    page.fill("input[name=username]", "iv_linjiang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/field/")


def test_offline_form_and_sync_once(
    chromium: str, live_server: str, fieldwork: Fieldwork, staff: Flask
) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    form_url = f"{live_server}/field/plans/{fieldwork.plan_id}"
    answers = valid_answers("999901001")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 375, "height": 667},
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
            )
            page = context.new_page()
            _sign_in(page, live_server)
            page.goto(form_url)
            page.wait_for_selector("#field[data-offline=ready]", state="attached", timeout=60_000)

            context.set_offline(True)
            page.reload()
            assert page.title().startswith("全国文明城市创建市民问卷")
            assert page.is_visible("#qform")
            page.wait_for_selector("#draft-id[data-draft]:not([data-draft=''])")
            reached = page.evaluate("fetch('/field/token').then(() => 'online', () => 'offline')")
            assert reached == "offline"
            page.screenshot(path=str(SHOTS / "01-offline-form.png"), full_page=True)

            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            for done in range(1, 4):
                _answer_all(page, answers)
                page.click("button[type=submit]")
                _wait_queue(page, done, 0)
            for done in range(4, 6):
                page.click("button.outcome[data-disposition=non_contact]")
                _wait_queue(page, done, 0)
            assert _counts(staff) == (0, 0, 0)
            page.screenshot(path=str(SHOTS / "02-queued.png"), full_page=True)

            context.set_offline(False)
            page.click("#sync-now")
            _wait_queue(page, 0, 5)
            assert _counts(staff) == (3, 2, 3)

            # The reply was lost: the device sends the same five records again.
            page.evaluate(
                """() => new Promise((resolve, reject) => {
                  const open = indexedDB.open('survey-field', 1);
                  open.onsuccess = () => {
                    const t = open.result.transaction('records', 'readwrite');
                    const s = t.objectStore('records');
                    s.getAll().onsuccess = (ev) => ev.target.result
                      .filter((r) => r.status === 'synced')
                      .forEach((r) => { r.status = 'queued'; s.put(r); });
                    t.oncomplete = resolve; t.onerror = reject;
                  };
                })"""
            )
            page.reload()
            page.wait_for_selector("#sync-status[data-already='5']", timeout=60_000)
            assert page.get_attribute("#sync-status", "data-stored") == "0"
            assert _counts(staff) == (3, 2, 3)

            # One draft open in two tabs, finished in both: one response.
            _answer_all(page, answers)
            draft = page.get_attribute("#draft-id", "data-draft")
            assert draft
            other = context.new_page()
            other.goto(f"{form_url}?draft={draft}")
            other.wait_for_selector(f"#draft-id[data-draft='{draft}']")
            assert other.is_checked('input[name="sex"][value="female"]')  # the same draft
            other.click("button[type=submit]")
            page.click("button[type=submit]")
            for tab in (other, page):
                tab.click("#sync-now")
                tab.wait_for_function(
                    # a function, not an expression: polling an expression needs eval(),
                    # which the page's CSP (script-src 'self') refuses
                    "() => document.getElementById('queue-status').dataset.queued === '0'",
                    timeout=60_000,
                )
            assert _counts(staff) == (4, 2, 4)
            assert errors == []
            page.screenshot(path=str(SHOTS / "03-synced.png"), full_page=True)
        finally:
            browser.close()
