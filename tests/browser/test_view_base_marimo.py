"""The views' base in marimo (``marimo edit`` from PyPI, a real Chromium): the probe view renders,
a click reaches Python, and the new count comes back to the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .marimo_front_end import open_and_run, running_marimo, write_marimo_notebook

pytestmark = pytest.mark.browser

LABEL = "<b>probe</b> & co"


def test_the_probe_works_in_marimo(tmp_path: Path, page: Any) -> None:
    from playwright.sync_api import expect

    notebook = write_marimo_notebook(
        tmp_path / "probe_nb.py",
        [f"from tests.helpers.probe_view import Probe\nprobe = Probe(label={LABEL!r})\nprobe"],
    )
    with running_marimo(tmp_path, notebook) as server:
        open_and_run(page, server, ".mw-probe")
        count = page.locator(".mw-probe .mw-probe-count")
        expect(count).to_have_text("Count: 0", timeout=60_000)
        # Connected: the hello was answered, so the offline banner stays hidden.
        expect(page.locator(".mw-probe")).to_have_attribute(
            "data-connection", "connected", timeout=60_000
        )
        expect(page.locator(".mw-probe .mw-offline")).to_be_hidden()
        assert page.locator(".mw-probe .mw-probe-label").text_content() == LABEL
        assert page.locator(".mw-probe b").count() == 0
        page.locator("button.mw-probe-bump").click()
        expect(count).to_have_text("Count: 1", timeout=60_000)
        page.locator("button.mw-probe-bump").click()
        expect(count).to_have_text("Count: 2", timeout=60_000)
        expect(page.locator(".mw-probe .mw-offline")).to_be_hidden()
