"""Staff browser tests: chromium against a live server in a thread, on a seeded SQLite copy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS
from tests.conftest import CHROMIUM_ARGS
from tests.survey.admin.conftest import PASSWORD


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """A seeded SQLite copy only (the live server runs in a thread of the test process)."""
    path = tmp_path / "survey.db"
    shutil.copyfile(sqlite_template, path)
    yield f"sqlite:///{path}"


@contextmanager
def signed_in_page(
    chromium: str, server: str, username: str, path: str = "/admin/"
) -> Iterator[Any]:
    """A chromium page (zh-CN, 1366x900, downloads on) that opened ``path``, was sent to the
    sign-in form, signed in as ``username`` and is back on ``path``; closed afterwards."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True
            )
            page.goto(f"{server}{path}")
            assert "/admin/login" in page.url
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}{path}")
            yield page
        finally:
            browser.close()
