"""The real views in marimo (``marimo edit``, a real Chromium), against the offline simulator.

The Studio takes a prompt, Generate runs it and its card shows the image; the comparison grid's
cells fill with images. marimo draws each view inside a shadow root: Playwright locators pierce
it, ``document.querySelector`` does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .marimo_front_end import open_and_run, running_marimo, write_marimo_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CANARY = "<img src=x onerror=window.__xss=1>"
PROMPT = f"a paper boat {CANARY} on a pond"


def loaded(image: Any) -> bool:
    return bool(image.evaluate("(img) => img.complete && img.naturalWidth > 0"))


def test_the_studio_and_the_grid_work_in_marimo(tmp_path: Path, page: Any) -> None:
    from playwright.sync_api import expect

    history = tmp_path / "history"
    notebook = write_marimo_notebook(
        tmp_path / "views_nb.py",
        [
            "import mountsea_widgets as _mw\n"
            f"studio = _mw.studio(history={str(history / 'studio')!r})\n"
            "studio",
            "import mountsea_widgets as _mw\n"
            "grid = _mw.compare('a red cube', models=['nano-banana', 'nano-banana-2'],\n"
            f"                  seeds=[1, 2], history={str(history / 'grid')!r})\n"
            "grid",
        ],
    )
    with running_marimo(tmp_path, notebook) as server:
        open_and_run(page, server, ".mw-root.mw-grid")
        studio = page.locator(".mw-root.mw-studio")
        studio.wait_for(timeout=90_000)
        # The Studio's page code marks the element holding its root.
        holder = page.locator("[data-connection]").filter(has=page.locator(".mw-studio"))
        expect(holder.last).to_have_attribute("data-connection", "connected", timeout=60_000)
        studio.locator('.mw-field[data-name="prompt"] textarea').fill(PROMPT)
        generate = studio.locator("button.mw-generate")
        expect(generate).to_be_enabled(timeout=60_000)
        generate.click()
        card = studio.locator(".mw-card[data-run-id]").first
        expect(card).to_have_attribute("data-status", "completed", timeout=120_000)
        thumb = card.locator("img.mw-thumb").first
        thumb.wait_for(timeout=60_000)
        expect(thumb).to_have_js_property("complete", True, timeout=60_000)
        assert loaded(thumb)
        assert PROMPT in card.locator(".mw-card-prompt").inner_text()  # text, never markup
        assert page.evaluate("window.__xss === undefined")

        grid = page.locator(".mw-root.mw-grid")
        done = grid.locator('.mw-cell[data-status="completed"] img.mw-thumb')
        expect(done).to_have_count(4, timeout=120_000)
        for index in range(4):
            expect(done.nth(index)).to_have_js_property("complete", True, timeout=60_000)
            assert loaded(done.nth(index))
        assert grid.locator(".mw-cell[data-status]").count() == 4
        assert "4 of 4 done" in grid.inner_text()
