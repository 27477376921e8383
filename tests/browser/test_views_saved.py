"""The real views saved, reopened and converted, in JupyterLab 4 and Notebook 7 (Chromium).

A notebook with a Studio and a comparison grid runs against the offline simulator; one run is
generated in the Studio by clicking (its prompt carries an XSS canary); the grid fills. Once the
saved fallback outputs are current the notebook is saved and its kernel shut down. Reopened, the
views say they are not connected to a kernel and the fallback outputs show the images, the
prompt as text and the statuses; nbconvert's HTML carries the same current results. In Notebook
7, a short round of Generate, Reuse and Remove in the Studio.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.notebooks import write_notebook

from .front_ends import (
    Server,
    open_notebook,
    run_all,
    save,
    shut_everything_down,
    wait_until_idle_after_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

CANARY = "<img src=x onerror=window.__xss=1>"
PROMPT = f"a tiny robot {CANARY} watering tulips"
ESCAPED_PROMPT = html.escape(PROMPT)
PROMPT_BOX = '.mw-field[data-name="prompt"] textarea'
STUDIO = ".mw-root.mw-studio"
GRID = ".mw-root.mw-grid"
#: How the grid's fallback writes a completed cell's status.
GRID_DONE = "<b class='ok'>completed</b>"

#: The JavaScript text of the HTML outputs of code cell ``i`` in the open notebook's model.
CELL_HTML = """(i) => {
  const outputs = window.jupyterapp.shell.currentWidget.content.model.cells.get(i)
    .outputs.toJSON();
  return outputs.map((o) => {
    const h = (o.data || {})['text/html'];
    return Array.isArray(h) ? h.join('') : (h || '');
  }).join('\\n');
}"""

#: True once the Studio's newest card is completed with a loaded thumbnail.
CARD_DONE = """() => {
  const card = document.querySelector('.mw-studio .mw-card[data-run-id]');
  const img = card && card.querySelector('img.mw-thumb');
  return !!card && card.dataset.status === 'completed' && !!img && img.complete
         && img.naturalWidth > 0;
}"""

#: True once the grid shows ``count`` completed cells with loaded thumbnails.
GRID_FILLED = """(count) => {
  const grid = document.querySelector('.mw-root.mw-grid');
  if (!grid) return false;
  const cells = [...grid.querySelectorAll('.mw-cell[data-status]')];
  return cells.length === count && cells.every((cell) => {
    const img = cell.querySelector('img.mw-thumb');
    return cell.dataset.status === 'completed' && img && img.complete && img.naturalWidth > 0;
  });
}"""

#: The connection state a view's page code shows (on its root or the element holding it).
CONNECTION = """(selector) => {
  const root = document.querySelector(selector);
  const holder = root && root.closest('[data-connection]');
  return holder ? holder.dataset.connection : null;
}"""

#: The offline banner's text of a view, when visible.
BANNER = """(selector) => {
  const root = document.querySelector(selector);
  const holder = root && root.closest('[data-connection]');
  const banner = holder && holder.querySelector('.mw-offline');
  return banner && !banner.hidden && banner.offsetParent !== null ? banner.textContent : null;
}"""


def cells(server: Server, name: str) -> list[str]:
    """The notebook's code: a Studio and a 2×2 grid, each with a history folder of its own."""
    history = server.root / f"history-{name}"
    return [
        "import mountsea_widgets as mw",
        f"studio = mw.studio(history={str(history / 'studio')!r})\nstudio",
        "grid = mw.compare('a red cube', models=['nano-banana', 'nano-banana-2'], seeds=[1, 2],\n"
        f"                  history={str(history / 'grid')!r})\n"
        "grid",
    ]


def wait_connected(page: Any, selector: str) -> None:
    page.wait_for_function(f"() => ({CONNECTION})({selector!r}) === 'connected'", timeout=90_000)


def generate(page: Any, prompt: str) -> None:
    """Type ``prompt`` into the Studio and click Generate once it is enabled."""
    studio = page.locator(STUDIO).first
    studio.locator(PROMPT_BOX).fill(prompt)
    page.wait_for_function(
        "() => !document.querySelector('.mw-studio button.mw-generate').disabled",
        timeout=30_000,
    )
    studio.locator("button.mw-generate").click()


def fallback_current(studio_html: str, grid_html: str) -> bool:
    """True when both fallback outputs show the finished results."""
    return (
        ESCAPED_PROMPT in studio_html
        and "completed" in studio_html
        and "data:image/jpeg;base64," in studio_html
        and grid_html.count(GRID_DONE) == 4
        and "data:image/" in grid_html
    )


def without_scripts(text: str) -> str:
    """``text`` without its <script> elements (nbconvert embeds the widget state as JSON)."""
    return re.sub(r"<script\b.*?</script>", "", text, flags=re.DOTALL | re.IGNORECASE)


def test_saved_views_reopen_offline_with_their_results_and_convert(
    front_end: Server, page: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    name = f"views-saved-{front_end.kind}.ipynb"
    write_notebook(front_end.root / name, cells(front_end, name))
    open_notebook(page, front_end, name)
    run_all(page)
    wait_until_idle_after_run(page)
    page.locator(STUDIO).first.wait_for(timeout=90_000)
    wait_connected(page, STUDIO)
    wait_connected(page, GRID)

    generate(page, PROMPT)
    page.wait_for_function(CARD_DONE, timeout=120_000)
    card = page.locator(STUDIO).locator(".mw-card[data-run-id]").first
    assert CANARY in card.locator(".mw-card-prompt").inner_text()
    page.wait_for_function(GRID_FILLED, arg=4, timeout=120_000)
    assert page.evaluate("window.__xss === undefined")

    # The fallback outputs are rewritten about a second after the results change: wait for it.
    page.wait_for_function(
        f"""([done, prompt]) => {{
              const studio = ({CELL_HTML})(1); const grid = ({CELL_HTML})(2);
              return studio.includes(prompt) && studio.includes('data:image/jpeg;base64,')
                     && grid.split(done).length - 1 === 4 && grid.includes('data:image/'); }}""",
        arg=[GRID_DONE, ESCAPED_PROMPT],
        timeout=60_000,
    )
    saved = save(page, front_end, name)
    # nbconvert of the saved file runs meanwhile (on a copy: reopening must not change it).
    copy = tmp_path / name
    shutil.copyfile(front_end.root / name, copy)
    command = [sys.executable, "-m", "nbconvert", "--to", "html", "--stdout", str(copy)]
    conversion = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    request.addfinalizer(conversion.kill)  # whatever happens below
    html_of = [
        "".join(
            "".join(o["data"]["text/html"])
            for o in cell["outputs"]
            if "text/html" in o.get("data", {})
        )
        for cell in saved["cells"]
    ]
    assert fallback_current(html_of[1], html_of[2])
    assert CANARY not in html_of[1]  # escaped, never markup
    assert "No runs yet" not in html_of[1]

    shut_everything_down(front_end)
    page.goto("about:blank")

    # Reopened without the kernel that made them: the views say so; the fallbacks show.
    open_notebook(page, front_end, name)
    page.locator(STUDIO).first.wait_for(timeout=90_000)
    page.locator(GRID).first.wait_for(timeout=90_000)
    for selector in (STUDIO, GRID):
        page.wait_for_function(f"() => ({CONNECTION})({selector!r}) === 'offline'", timeout=60_000)
        assert "Not connected to a kernel" in (page.evaluate(BANNER, selector) or "")
    fallbacks = page.locator(".mountsea-fallback")
    assert fallbacks.count() == 2
    for index in range(2):
        fallbacks.nth(index).wait_for(state="visible", timeout=60_000)
    studio_fallback, grid_fallback = fallbacks.nth(0), fallbacks.nth(1)
    assert PROMPT in (studio_fallback.text_content() or "")  # the canary shows as text
    assert "completed" in (studio_fallback.text_content() or "")
    assert grid_fallback.locator("td b", has_text="completed").count() == 4
    for fallback in (studio_fallback, grid_fallback):
        page.wait_for_function(
            """(el) => { const images = [...el.querySelectorAll('img')];
                         return images.length > 0 && images.every((img) =>
                           img.src.startsWith('data:image/') && img.complete
                           && img.naturalWidth > 0); }""",
            arg=fallback.element_handle(),
            timeout=30_000,
        )
    assert page.locator(".mountsea-fallback img[src='x']").count() == 0
    assert page.evaluate("window.__xss === undefined")
    shut_everything_down(front_end)
    page.goto("about:blank")

    # nbconvert: the same current results, escaped; no stale first rendering.
    converted, errors = conversion.communicate(timeout=300)
    assert conversion.returncode == 0, errors
    shown = without_scripts(converted)
    assert ESCAPED_PROMPT in shown
    assert CANARY not in shown
    # nbconvert rewrites attribute quotes: count the completed cells whatever the quotes.
    assert len(re.findall(r"<b class=[\"']ok[\"']>completed</b>", shown)) == 4
    assert "data:image/jpeg;base64," in shown
    assert "0 runs" not in converted
    assert "No runs yet" not in shown
    assert "0 of 4 done" not in shown


def test_generate_reuse_and_remove_in_notebook7(notebook7: Server, page: Any) -> None:
    name = "studio-notebook7.ipynb"
    history = notebook7.root / "history-studio-notebook7"
    write_notebook(
        notebook7.root / name,
        [f"import mountsea_widgets as mw\nstudio = mw.studio(history={str(history)!r})\nstudio"],
    )
    open_notebook(page, notebook7, name)
    run_all(page)
    studio = page.locator(STUDIO).first
    studio.wait_for(timeout=90_000)
    wait_connected(page, STUDIO)

    first = "a lighthouse at dusk, oil painting"
    studio.locator('.mw-field[data-name="aspect_ratio"] select').select_option("16:9")
    generate(page, first)
    page.wait_for_function(CARD_DONE, timeout=120_000)
    cards = studio.locator(".mw-card[data-run-id]")
    assert first in cards.first.locator(".mw-card-prompt").inner_text()

    generate(page, PROMPT)
    page.wait_for_function(
        "() => document.querySelectorAll('.mw-studio .mw-card[data-run-id]').length === 2",
        timeout=60_000,
    )
    page.wait_for_function(CARD_DONE, timeout=120_000)
    assert CANARY in cards.first.locator(".mw-card-prompt").inner_text()
    assert page.evaluate("window.__xss === undefined")

    # Reuse of the first run puts its prompt and aspect ratio back into the form.
    studio.locator('.mw-field[data-name="aspect_ratio"] select').select_option("1:1")
    cards.nth(1).locator('button[data-action="reuse"]').click()
    page.wait_for_function(
        f"() => document.querySelector('.mw-studio {PROMPT_BOX}').value === {first!r}",
        timeout=30_000,
    )
    assert studio.locator('.mw-field[data-name="aspect_ratio"] select').input_value() == "16:9"

    # Remove takes the newest card away; the first run stays.
    removed = cards.first.get_attribute("data-run-id")
    cards.first.locator('button[data-action="remove"]').click()
    page.wait_for_function(
        '(id) => !document.querySelector(`.mw-studio .mw-card[data-run-id="${id}"]`)'
        " && document.querySelectorAll('.mw-studio .mw-card[data-run-id]').length === 1",
        arg=removed,
        timeout=30_000,
    )
    assert first in cards.first.locator(".mw-card-prompt").inner_text()
    shut_everything_down(notebook7)
