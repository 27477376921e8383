"""What a person sees of the cost: the estimate beside Generate follows the form, a finished
run shows its own estimate and the session's spent total, and the simulated account's credits."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ARTIFACTS
from .test_studio_browser import (
    click_generate,
    open_notebook,
    select_model,
    wait_for_first_cell_done,
)

pytestmark = pytest.mark.browser

PROMPT = "a lighthouse at dusk, priced"


def wait_for_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([selector, text]) => { const e = document.querySelector(selector);"
        " return e !== null && e.innerText.includes(text); }",
        arg=[selector, text],
        timeout=30_000,
    )


def credits_of(text: str) -> float:
    """The number in "simulated account: 9,999.84 credits"."""
    return float(text.split(": ", 1)[1].split()[0].replace(",", ""))


def test_studio_shows_the_estimate_spent_total_and_credits(page: Any, lab: dict[str, str]) -> None:
    open_notebook(page, lab, "quickstart.ipynb")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    studio = page.locator(".mountsea-studio").first
    studio.wait_for(timeout=90_000)
    estimate = ".mountsea-studio .mountsea-estimate"
    wait_for_text(page, estimate, "≈ $0.039")  # nano-banana, one image

    select_model(studio, "nano-banana-2")
    studio.locator(".mountsea-param-resolution select").wait_for(timeout=15_000)
    studio.locator(".mountsea-param-resolution select").select_option("4K")
    wait_for_text(page, estimate, "≈ $0.16")  # 1K price x2 for 4K: it follows the form
    tip = studio.locator(".mountsea-estimate .mountsea-cost").get_attribute("title") or ""
    assert "resolution 4K" in tip and "upstream list prices" in tip

    wait_for_text(page, ".mountsea-studio .mountsea-credits", "simulated account: ")
    before_text = studio.locator(".mountsea-credits").inner_text()
    before = credits_of(before_text)
    studio.locator(".mountsea-param-prompt textarea").fill(PROMPT)
    click_generate(page, studio)
    cell = wait_for_first_cell_done(page, studio, PROMPT)
    assert "≈ $0.16" in cell.locator(".mountsea-params").inner_text()
    wait_for_text(page, ".mountsea-studio .mountsea-spent", "≈ $0.16 (1 completed run)")
    # Refreshed after the run: down by at least its estimate (the notebook's other runs may
    # have completed too, and are charged as well).
    page.wait_for_function(
        "(before) => { const e = document.querySelector('.mountsea-studio .mountsea-credits');"
        " return e !== null && e.innerText !== before; }",
        arg=before_text,
        timeout=30_000,
    )
    after = credits_of(studio.locator(".mountsea-credits").inner_text())
    assert after <= before - 0.16 + 1e-6

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1500})
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(ARTIFACTS / "studio-cost.png"))
