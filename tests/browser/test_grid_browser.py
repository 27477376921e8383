"""The comparison grid in a real JupyterLab page (Chromium), against the offline simulator.

A 2×2 grid fills with images; a grid paged by a third axis switches pages with its picker
(every page's cells ran); a grid asked about (``confirm="ask"``) runs once Run is clicked; a
thumbnail opens its image larger. Hooks: ``.mw-root.mw-grid``, ``.mw-cell[data-status]``,
``img.mw-thumb``, ``select.mw-page``, ``button.mw-run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.notebooks import write_notebook

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

NOTEBOOK = "grid_views.ipynb"
CELLS = [
    "import os\nimport mountsea_widgets as mw",
    "square = mw.compare('a lighthouse at dusk', models=['nano-banana', 'nano-banana-2'],\n"
    "                    seeds=[1, 2], history=False)\n"
    "square",
    "paged = mw.compare('a {animal} on a hill', models=['nano-banana-2'],\n"
    "                   vary={'animal': ['fox', 'owl'], 'aspect_ratio': ['1:1'],\n"
    "                         'resolution': ['0.5K', '1K']}, history=False)\n"
    "paged",
    "os.environ['MOUNTSEA_CONFIRM_ABOVE'] = '0.01'\n"
    "asked = mw.compare('a harbour', models=['nano-banana-2'], seeds=[7], history=False,\n"
    "                   confirm='ask')\n"
    "asked",
    "square.wait(); paged.wait()\nprint('grids finished', square.summary(), paged.summary())",
]

#: True once every cell of the ``n``-th grid shows a loaded thumbnail.
FILLED = """([n, count]) => {
  const grid = document.querySelectorAll('.mw-root.mw-grid')[n];
  if (!grid) return false;
  const cells = [...grid.querySelectorAll('.mw-cell[data-status]')];
  const shown = cells.filter((cell) => {
    const img = cell.querySelector('img.mw-thumb');
    return cell.dataset.status === 'completed' && img && !img.hidden && img.complete
           && img.naturalWidth > 0;
  });
  return cells.length === count && shown.length === count;
}"""


def _open(page: Any, lab: dict[str, str]) -> None:
    write_notebook(Path(lab["root"]) / NOTEBOOK, CELLS)
    page.goto(f"{lab['url']}/lab/tree/{NOTEBOOK}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   const kernel = w && w.sessionContext && w.sessionContext.session
                                  && w.sessionContext.session.kernel;
                   return kernel && kernel.status === 'idle'; }""",
        timeout=60_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def test_grids_fill_page_and_run_once_confirmed(page: Any, lab: dict[str, str]) -> None:
    _open(page, lab)
    page.locator(".jp-OutputArea-output pre", has_text="grids finished").wait_for(timeout=180_000)
    grids = page.locator(".mw-root.mw-grid")
    page.wait_for_function("() => document.querySelectorAll('.mw-root.mw-grid').length === 3")

    # A 2×2 grid fills with images; its labels are there as text.
    page.wait_for_function(FILLED, arg=[0, 4], timeout=60_000)
    square = grids.nth(0)
    text = square.inner_text()
    assert "a lighthouse at dusk" in text and "seed 1" in text and "nano-banana-2" in text
    assert "4 of 4 done" in text
    assert square.locator("progress.mw-grid-progress").evaluate("(b) => [b.value, b.max]") == [
        4,
        4,
    ]

    # The paged grid shows one page at a time; the picker switches it.
    paged = grids.nth(1)
    page.wait_for_function(FILLED, arg=[1, 2], timeout=60_000)
    picker = paged.locator("select.mw-page")
    assert picker.locator("option").all_inner_texts() == [
        "resolution = 0.5K",
        "resolution = 1K",
    ]
    first = paged.locator(".mw-cell").evaluate_all("(cells) => cells.map((c) => c.dataset.index)")
    assert first == ["0", "1"]
    picker.select_option("1")
    page.wait_for_function(
        """() => { const grid = document.querySelectorAll('.mw-root.mw-grid')[1];
                   const cells = [...grid.querySelectorAll('.mw-cell')];
                   return cells.map((c) => c.dataset.index).join() === '2,3'; }""",
        timeout=30_000,
    )
    page.wait_for_function(FILLED, arg=[1, 2], timeout=60_000)  # that page ran too
    assert "4 of 4 done" in paged.inner_text()

    # A click on a thumbnail shows the image larger (fetched by a message).
    square.locator("img.mw-thumb").first.click()
    page.wait_for_function(
        """() => { const img = document.querySelector('.mw-grid .mw-full img.mw-full-image');
                   return img && img.complete && img.naturalWidth > 160; }""",
        timeout=30_000,
    )
    square.locator("button.mw-full-close").click()
    assert square.locator(".mw-full img").count() == 0

    # confirm="ask": nothing runs before Run; one click runs it.
    asked = grids.nth(2)
    run = asked.locator("button.mw-run")
    run.wait_for(state="visible", timeout=30_000)
    assert "Run this grid? It is estimated at" in asked.inner_text()
    assert asked.locator(".mw-cell").first.get_attribute("data-status") == "queued"
    run.click()
    page.wait_for_function(FILLED, arg=[2, 1], timeout=90_000)
    assert run.is_hidden()

    ARTIFACTS.mkdir(exist_ok=True)
    square.screenshot(path=str(ARTIFACTS / "grid_view.png"))
