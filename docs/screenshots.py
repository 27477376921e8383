"""Take the README's pictures from a real run: docs/studio.png and docs/grid.png.

Starts JupyterLab on loopback the way the browser tests do (isolated home and Jupyter folders in
a temporary folder, the offline simulator, a temporary history folder), opens a notebook with a
Studio and one with a comparison grid in the system Chromium, works them as a person would, and
screenshots each widget.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.browser.front_ends import open_notebook, run_all, running_server  # noqa: E402
from tests.helpers.notebooks import write_notebook  # noqa: E402

DOCS = ROOT / "docs"
PROMPT_BOX = '.mw-field[data-name="prompt"] textarea'
#: What the Studio is asked for, oldest first: (prompt, seed).
RUNS = [
    ("a lighthouse at dusk, oil painting", 1),
    ("a lighthouse at dusk, oil painting", 2),
    ("a fox in the snow, watercolour", 3),
    ("a lighthouse at dusk, oil painting", 4),
]
STUDIO_CELL = (
    "import mountsea_widgets as mw\n"
    "from mountsea_widgets.history import History\n"
    "studio = mw.studio(history=History('studio-history'))\n"
    "studio"
)
GRID_CELL = (
    "import mountsea_widgets as mw\n"
    "grid = mw.compare('a red cube',\n"
    "                  models=['nano-banana', 'nano-banana-2', 'nano-banana-pro', 'gpt-image-2'],\n"
    "                  seeds=[1, 2], history=False)\n"
    "grid"
)
GRID_FILLED = """(count) => {
  const grid = document.querySelector('.mw-root.mw-grid');
  if (!grid) return false;
  const cells = [...grid.querySelectorAll('.mw-cell[data-status]')];
  return cells.length === count && cells.every((cell) => {
    const img = cell.querySelector('img.mw-thumb');
    return cell.dataset.status === 'completed' && img && !img.hidden && img.complete
           && img.naturalWidth > 0; });
}"""
DONE_CARDS = """(count) => {
  const cards = [...document.querySelectorAll('.mw-studio .mw-card[data-status="completed"]')];
  return cards.length >= count && cards.slice(0, count).every((card) => {
    const img = card.querySelector('img.mw-thumb');
    return img && img.complete && img.naturalWidth > 0; });
}"""


def chromium() -> str:
    """The system Chromium (never a downloaded one)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("No Chromium found: install Debian's chromium (make chromium).")


def studio_picture(page: Any, server: Any) -> None:
    write_notebook(server.root / "studio.ipynb", [STUDIO_CELL])
    open_notebook(page, server, "studio.ipynb")
    run_all(page)
    studio = page.locator(".mw-root.mw-studio").first
    studio.wait_for(timeout=90_000)
    page.wait_for_function(
        "() => { const b = document.querySelector('.mw-studio .mw-banner');"
        " return b && b.textContent.length > 0; }",
        timeout=60_000,
    )
    for done, (prompt, seed) in enumerate(RUNS, start=1):
        studio.locator(PROMPT_BOX).fill(prompt)
        seed_box = studio.locator('.mw-field[data-name="seed"] input')
        if seed_box.count():
            seed_box.first.fill(str(seed))
        page.wait_for_function(
            "() => !document.querySelector('.mw-studio button.mw-generate').disabled",
            timeout=30_000,
        )
        studio.locator("button.mw-generate").click()
        page.wait_for_function(DONE_CARDS, arg=done, timeout=180_000)
    studio.locator(PROMPT_BOX).fill(RUNS[-1][0])
    page.mouse.move(0, 0)
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(DOCS / "studio.png"), type="png")


def grid_picture(page: Any, server: Any) -> None:
    write_notebook(server.root / "grid.ipynb", [GRID_CELL])
    open_notebook(page, server, "grid.ipynb")
    run_all(page)
    page.wait_for_function(GRID_FILLED, arg=8, timeout=240_000)
    grid = page.locator(".mw-root.mw-grid").first
    page.mouse.move(0, 0)
    grid.scroll_into_view_if_needed()
    grid.screenshot(path=str(DOCS / "grid.png"), type="png")


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mountsea-screenshots-") as temporary:
        base = Path(temporary)
        root = base / "root"
        root.mkdir()
        with running_server("lab", base, root) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1200, "height": 1400})
                page = context.new_page()
                studio_picture(page, server)
                page = context.new_page()
                grid_picture(page, server)
            finally:
                browser.close()
    for name in ("studio.png", "grid.png"):
        print(f"wrote docs/{name} ({(DOCS / name).stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
