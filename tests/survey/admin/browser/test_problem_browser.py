"""Browser: an officer opens 问题清单, raises the first weak spot of their district into the
ledger through its form, marks it 整改中, and downloads the ledger XLSX (screenshots under
artifacts/)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from survey import demo
from tests.conftest import ARTIFACTS
from tests.conftest import serve
from tests.survey.admin.browser.conftest import signed_in_page

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(staff: Flask) -> Iterator[str]:
    with staff.app_context():
        now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
        demo.add_responses(2400, seed=11, weeks=12, now=now, problems=True)
    with serve(staff) as url:
        yield url


def test_officer_raises_a_weak_spot_and_exports_the_ledger(live_server: str, chromium: str) -> None:
    with signed_in_page(chromium, live_server, "linjiang", "/admin/problems") as page:
        weak = page.locator("#weak-spots tr.weak")
        assert weak.count() >= 1
        assert "东门街道" in weak.first.inner_text()  # the seeded weak spot of 临江区
        page.screenshot(path=str(ARTIFACTS / "admin_problem_list.png"), full_page=False)
        weak.first.locator("summary").click()
        form = weak.first.locator("form")
        form.locator("input[name=deadline]").fill("2026-12-31")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/admin/ledger**")
        row = page.locator("#ledger tbody tr").first
        assert "东门街道" in row.inner_text() and "待整改" in row.inner_text()
        row.locator("select[name=status]").select_option("in_progress")
        row.locator("button[type=submit]").click()
        page.wait_for_url("**/admin/ledger**")
        assert "整改中" in page.locator("#ledger tbody tr").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "admin_ledger.png"), full_page=False)
        with page.expect_download() as download:
            page.click("#ledger-xlsx")
        sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][:3] == ("序号", "区域", "问题") and rows[2][1] == "东门街道"
        assert rows[2][6] == "整改中"
