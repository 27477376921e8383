"""A batch in a real JupyterLab page: one small live summary, never a widget per run.

The notebook starts a batch of eight runs on the offline simulator and displays it. Chromium
must show one summary (progress bar, the counts line, the latest images), no grid and no
per-run cell, and the batch id is shown as text (an HTML id could never run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.notebooks import write_notebook

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

NOTEBOOK = "batch_summary.ipynb"
CELLS = [
    "import mountsea_widgets as mw",
    "job = mw.batch('a {animal} at dusk', models=['nano-banana', 'nano-banana-2'],\n"
    "               vary={'animal': ['fox', 'owl', 'cat', 'hare']}, batch_id='seen-in-lab')\n"
    "job",
    "job.wait()\nprint('batch finished', job.progress)",
]


def test_a_batch_shows_one_live_summary_with_progress_counts_and_latest_images(
    page: Any, lab: dict[str, str]
) -> None:
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
    page.locator(".jp-OutputArea-output pre", has_text="batch finished (8, 8)").wait_for(
        timeout=120_000
    )
    summary = page.locator(".mw-root.mw-batch")
    summary.wait_for(timeout=30_000)
    page.wait_for_function(
        """() => { const s = document.querySelector('.mw-root.mw-batch');
                   return s && s.innerText.includes('8 of 8 done'); }""",
        timeout=60_000,
    )
    page.wait_for_function(
        """() => [...document.querySelectorAll('.mw-batch img.mw-thumb')]
                   .filter((img) => img.complete && img.naturalWidth > 0
                                    && img.offsetParent !== null).length === 4""",
        timeout=60_000,
    )
    assert summary.count() == 1
    text = summary.inner_text()
    assert text.count("batch seen-in-lab") == 1 and "8 of 8 done" in text
    progress = summary.locator("progress.mw-batch-progress")
    assert progress.count() == 1
    assert progress.evaluate("(bar) => [bar.value, bar.max]") == [8, 8]
    # No grid and no widget per run.
    assert page.locator(".mw-grid, .mountsea-comparison").count() == 0
    assert page.locator(".mountsea-history-cell").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    summary.screenshot(path=str(ARTIFACTS / "batch_summary.png"))
