"""Browser: sign in, issue a batch of points for a street, open the A4 print sheet, screenshot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import ARTIFACTS
from tests.conftest import serve
from tests.survey.admin.browser.conftest import signed_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(staff: Flask) -> Iterator[str]:
    """The app served by werkzeug on a free loopback port."""
    with serve(staff) as url:
        yield url


def test_batch_for_a_street_and_print_sheet(live_server: str, chromium: str) -> None:
    with signed_in_page(chromium, live_server, "linjiang", "/admin/points/batch") as page:
        page.select_option("select[name=region_id]", label="　　滨江街道（街道/镇）")
        page.select_option("select[name=level]", "community")
        page.select_option("select[name=channel_id]", label="学校")
        page.fill("input[name=label_pattern]", "{region}{channel}")
        page.click("#batch-form button[type=submit]")
        page.wait_for_url("**/admin/points?ids=*")
        assert "已批量发放 2 个点位" in page.content()
        rows = page.locator("table.points tbody tr")
        assert rows.count() == 2
        page.screenshot(path=str(ARTIFACTS / "admin_batch_points.png"), full_page=True)
        with page.expect_popup() as popup:
            page.click("#print-sheet")
        sheet = popup.value
        sheet.wait_for_load_state()
        posters = sheet.locator(".poster")
        assert posters.count() == 2
        assert "学校" in sheet.locator(".poster").first.inner_text()
        sheet.emulate_media(media="print")
        sheet.screenshot(path=str(ARTIFACTS / "admin_print_sheet.png"), full_page=True)
        sheet.pdf(path=str(ARTIFACTS / "admin_print_sheet.pdf"), format="A4")
    assert (ARTIFACTS / "admin_print_sheet.png").stat().st_size > 10_000
