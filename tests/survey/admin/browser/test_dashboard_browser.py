"""Browser: sign in, read the dashboard, change weighting, period and level, download a chart.

Screenshots (and the downloaded PNG) are kept under ``artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from survey import demo
from tests.conftest import ARTIFACTS
from tests.conftest import serve
from tests.survey.admin.browser.conftest import signed_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(staff: Flask) -> Iterator[str]:
    """The demo city with 1,500 demo responses, served on a free loopback port."""
    with staff.app_context():
        demo.add_responses(1500)
    with serve(staff) as url:
        yield url


def test_dashboard_filters_and_chart_download(live_server: str, chromium: str) -> None:
    from playwright.sync_api import expect

    with signed_in_page(chromium, live_server, "city") as page:
        # the default view: the last four complete weeks, the three rates with intervals
        expect(page.locator("h1")).to_contain_text("两率一度总览")
        tiles = page.locator(".headline .tile")
        expect(tiles).to_have_count(4)
        expect(tiles.first).to_contain_text("知晓率")
        expect(tiles.first.locator(".figure .ci")).to_contain_text("–")
        expect(page.locator(".notes")).to_contain_text("默认显示最近 4 个完整周")
        expect(page.locator(".charts svg")).to_have_count(4)
        start = page.input_value("input[name=from]")
        end = page.input_value("input[name=to]")
        assert dt.date.fromisoformat(start).weekday() == 0
        page.screenshot(path=str(ARTIFACTS / "dashboard_default.png"), full_page=True)

        # weighting, a longer period and the street level
        first = dt.date.fromisoformat(start) - dt.timedelta(weeks=4)
        page.fill("input[name=from]", first.isoformat())
        page.select_option("select[name=weighting]", "poststratify")
        page.select_option("select[name=level]", "street")
        page.click("#filters button[type=submit]")
        page.wait_for_url(re.compile(r".*weighting=poststratify.*"))
        assert f"from={first.isoformat()}" in page.url and "level=street" in page.url
        expect(page.locator("h2", has_text="按街道/镇")).to_be_visible()
        expect(page.locator(".notes")).to_contain_text("事后分层加权")
        expect(page.locator(".notes")).to_contain_text(f"{first.isoformat()} 至 {end}")
        rows = page.locator("h2:has-text('按街道/镇') + .scroll table tbody tr")
        # 12 streets, and per district the points placed above the street level
        expect(rows).to_have_count(16)
        expect(rows.filter(has_text="街道/镇以上点位")).to_have_count(4)
        thin = rows.filter(has_text="白鹭镇")
        expect(thin).to_contain_text("样本不足")
        page.screenshot(path=str(ARTIFACTS / "dashboard_streets_weighted.png"), full_page=True)

        # one district at the community level
        qingshan = page.locator("select[name=region] option", has_text="青山区")
        page.select_option("select[name=region]", qingshan.get_attribute("value"))
        page.select_option("select[name=level]", "community")
        page.click("#filters button[type=submit]")
        page.wait_for_url(re.compile(r".*level=community.*"))
        expect(page.locator("h2", has_text="按社区/村")).to_be_visible()
        expect(page.locator("h2", has_text="青山区总体")).to_have_count(0)  # scope is city

        # the trend chart as a PNG download, for the same filter
        link = page.locator(".charts figure").first.locator("a", has_text="下载 PNG 图片")
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename == "trend-awareness.png"
        target = ARTIFACTS / "dashboard_trend_awareness.png"
        download.save_as(str(target))
        assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert target.stat().st_size > 5_000
    assert (ARTIFACTS / "dashboard_default.png").stat().st_size > 50_000
