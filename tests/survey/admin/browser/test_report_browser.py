"""Browser: from the dashboard to the export menu; download the XLSX and the Word briefing,
open the question statistics and the A4 briefing (screenshots and a PDF under artifacts/)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
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
        demo.add_responses(400, seed=9, weeks=3, now=dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC))
    with serve(staff) as url:
        yield url


def test_download_xlsx_and_briefing_from_the_page(live_server: str, chromium: str) -> None:
    with signed_in_page(chromium, live_server, "city") as page:
        page.click("#dashboard-exports")
        page.wait_for_url("**/admin/exports**")
        with page.expect_download() as xlsx_download:
            page.click("#export-xlsx")
        book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
        assert book.sheetnames[:3] == ["说明", "总体", "按区县"]
        with page.expect_download() as docx_download:
            page.click("#export-docx")
        document = Document(str(docx_download.value.path()))
        assert "知晓率" in "\n".join(p.text for p in document.paragraphs)
        assert len(document.inline_shapes) == 4
        page.click("nav >> text=题目统计")
        page.wait_for_selector("section.question")
        assert page.locator("section.question").count() >= 20
        page.screenshot(path=str(ARTIFACTS / "admin_questions.png"), full_page=False)
        page.click("nav >> text=交叉分析")
        page.wait_for_selector("#test")
        assert "Rao–Scott" in page.inner_text("#test")
        page.screenshot(path=str(ARTIFACTS / "admin_crosstab.png"), full_page=True)
        page.goto(f"{live_server}/admin/exports/briefing")
        page.emulate_media(media="print")
        page.screenshot(path=str(ARTIFACTS / "admin_briefing.png"), full_page=True)
        page.pdf(path=str(ARTIFACTS / "admin_briefing.pdf"), format="A4")
    assert (ARTIFACTS / "admin_briefing.pdf").stat().st_size > 10_000
