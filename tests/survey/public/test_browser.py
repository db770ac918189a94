"""Headless Chromium at a 375×667 phone viewport: answer, miss one, fix it, get thanked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import ARTIFACTS
from tests.conftest import CHROMIUM_ARGS
from tests.conftest import serve
from tests.survey.public.conftest import Sample
from tests.survey.public.conftest import response_count
from tests.survey.public.conftest import valid_answers

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "public"


@pytest.fixture
def live_server(seeded: Flask) -> Iterator[str]:
    """The app served on a free loopback port by werkzeug, in a thread."""
    with serve(seeded) as url:
        yield url


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _phone(browser: Any, javascript: bool = True) -> Any:
    return browser.new_context(
        viewport={"width": 375, "height": 667},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        java_script_enabled=javascript,
    )


def _answer_all(page: Any, answers: dict[str, Any], skip: str) -> None:
    for key, value in answers.items():
        if key == skip:
            continue
        if key == "residence":
            page.select_option(f'select[name="{key}"]', value)
        elif key == "suggestions":
            page.fill(f'textarea[name="{key}"]', value)
        elif key.endswith("__other"):
            page.fill(f'input[name="{key}"]', value)
        else:
            for v in value if isinstance(value, list) else [value]:
                page.check(f'input[name="{key}"][value="{v}"]')


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_phone_flow(
    browser: Any, live_server: str, seeded: Flask, sample: Sample, javascript: bool
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tag = "js" if javascript else "nojs"
    context = _phone(browser, javascript)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))

    page.goto(f"{live_server}/q/{sample.code}")
    assert page.title() == "全国文明城市创建市民问卷"
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 18
    height = page.evaluate(
        "Math.min(...[...document.querySelectorAll('label.opt')].filter(e => e.offsetParent)"
        ".map(e => e.getBoundingClientRect().height))"
    )
    assert height >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    page.screenshot(path=str(SHOTS / f"{tag}-01-form.png"), full_page=True)

    answers = valid_answers(sample.street_code)
    if javascript:
        # Skip logic: the follow-up questions appear only after "参加过".
        assert page.is_hidden("#q-volunteer_frequency")
        page.check('input[name="volunteered"][value="no"]')
        assert page.is_hidden("#q-volunteer_frequency")
        assert page.is_visible("#progress")
    _answer_all(page, answers, skip="sat_traffic")
    if javascript:
        assert page.is_visible("#q-volunteer_frequency")
    page.click("button[type=submit]")
    error = page.locator("#q-sat_traffic .err")
    error.wait_for()
    assert error.inner_text() == "此题为必答题，请选择一项。"
    assert page.locator(".err").count() == 1
    if javascript:
        # Jumped to the first missing answer.
        box = page.locator("#q-sat_traffic").bounding_box()
        assert box is not None and 0 <= box["y"] < 667
    else:
        # The server's page opens with a link to the question, and keeps the answers.
        assert page.is_visible('.alert a[href="#q-sat_traffic"]')
        assert page.is_checked('input[name="sat_sanitation"][value="satisfied"]')
        assert page.input_value('textarea[name="suggestions"]') == answers["suggestions"]
        page.screenshot(path=str(SHOTS / f"{tag}-02a-error-summary.png"), full_page=False)
        page.click('.alert a[href="#q-sat_traffic"]')
    page.screenshot(path=str(SHOTS / f"{tag}-02-missing-answer.png"), full_page=False)
    assert response_count(seeded) == 0

    page.check('input[name="sat_traffic"][value="fairly_satisfied"]')
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/q/{sample.code}/thanks")
    assert "提交成功" in page.inner_text("h1")
    assert "文明城市，人人共建" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / f"{tag}-03-thanks.png"), full_page=True)
    assert response_count(seeded) == 1

    page.goto(f"{live_server}/q/{sample.code}")
    assert "您已经提交过" in page.inner_text("h1")
    page.screenshot(path=str(SHOTS / f"{tag}-04-already.png"), full_page=True)

    assert requested and all(url.startswith(live_server) for url in requested), requested
    context.close()
