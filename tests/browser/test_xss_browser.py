"""XSS canaries in a real JupyterLab page: a comparison grid, the magic, a Result card and a
server error full of HTML are rendered by Chromium, and none of the markup ever runs.

The test writes its own notebook into the lab root. Each canary sets its own ``window`` flag if
it ever executes; the page must end with every flag unset, no element built from the canaries,
and the canary text visible where a person reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.notebooks import write_notebook

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

NOTEBOOK = "xss_canaries.ipynb"
FLAGS = ("__xss_grid", "__xss_label", "__xss_magic", "__xss_script", "__xss_server")
GRID_PROMPT = 'grid <img src=x onerror="window.__xss_grid=1">'
LABEL_VALUE = '<img src=x onerror="window.__xss_label=1">'
MAGIC_PROMPT = (
    'magic <img src=x onerror="window.__xss_magic=1"><script>window.__xss_script=1</script>'
)
SERVER_HTML = '<img src=y onerror="window.__xss_server=1"><b class="xss-bold">bold?</b>'

CELLS = [
    "import httpx\nimport mountsea_widgets as mw\nfrom mountsea_widgets import magics",
    f"mw.compare({GRID_PROMPT!r}, models=['nano-banana'], seeds=[1],\n"
    f"           vary={{'aspect_ratio': ['1:1', {LABEL_VALUE!r}]}}, history=False)",
    "%load_ext mountsea_widgets",
    f"%%mountsea nano-banana\n{MAGIC_PROMPT}",
    # A hub whose task fails with HTML in its error message.
    "def failing_hub(request):\n"
    "    if request.method == 'POST':\n"
    "        return httpx.Response(200, json={'task_id': 'hub-html'})\n"
    "    return httpx.Response(200, json={'task_id': 'hub-html', 'status': 'failed',\n"
    f"                                     'ready': True, 'error_message': {SERVER_HTML!r}}})\n"
    "magics.client_factory = lambda: mw.AsyncClient(\n"
    "    base_url='http://html.test', transport=httpx.MockTransport(failing_hub))",
    "%%mountsea nano-banana\nfails with server html",
    "magics.client_factory = None\nprint('all cells ran')",
]


def _open(page: Any, lab: dict[str, str]) -> None:
    page.goto(f"{lab['url']}/lab/tree/{NOTEBOOK}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   const kernel = w && w.sessionContext && w.sessionContext.session
                                  && w.sessionContext.session.kernel;
                   return kernel && kernel.status === 'idle'; }""",
        timeout=60_000,
    )


def test_canaries_show_as_text_and_never_run(page: Any, lab: dict[str, str]) -> None:
    write_notebook(Path(lab["root"]) / NOTEBOOK, CELLS)
    _open(page, lab)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator(".jp-OutputArea-output pre", has_text="all cells ran").wait_for(timeout=120_000)

    grid = page.locator(".mw-root.mw-grid").first
    grid.wait_for(timeout=60_000)
    page.wait_for_function(
        """() => { const img = document.querySelector('.mw-grid img.mw-thumb');
                   return img && img.complete && img.naturalWidth > 0; }""",
        timeout=60_000,
    )
    cells = page.locator(".mw-task .mw-card")
    page.wait_for_function(
        "() => document.querySelectorAll('.mw-task .mw-card').length === 2", timeout=30_000
    )
    magic_cell = cells.nth(0)
    failed_cell = cells.nth(1)
    magic_cell.locator("img.mw-thumb").first.wait_for(timeout=60_000)
    failed_cell.locator(".mw-card-error").wait_for(timeout=30_000)
    card = page.locator(".mountsea-result").first
    card.wait_for(timeout=30_000)

    # Nothing ran, and nothing was built from the canaries.
    ran = page.evaluate(f"() => {list(FLAGS)!r}.filter((flag) => window[flag] !== undefined)")
    assert ran == []
    built = page.evaluate(
        """() => [
            ...document.querySelectorAll('img[src="x"], img[src="y"], .xss-bold'),
            ...[...document.querySelectorAll('script')].filter((s) => s.text.includes('__xss')),
        ].length"""
    )
    assert built == 0

    # The canaries are there as text, where a person reads them.
    assert GRID_PROMPT in grid.inner_text()
    assert f"aspect_ratio = {LABEL_VALUE}" in grid.inner_text()
    assert MAGIC_PROMPT in magic_cell.locator(".mw-card-prompt").inner_text()
    assert SERVER_HTML in failed_cell.locator(".mw-card-error").inner_text()
    assert MAGIC_PROMPT in card.inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "xss_canaries.png"), full_page=True)
