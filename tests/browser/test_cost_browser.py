"""What a person sees of the cost: the estimate beside Generate follows the form, a finished
run shows its own estimate and the session's spent total, and the simulated account's credits."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ARTIFACTS
from .test_studio_browser import (
    click_generate,
    run_studio_notebook,
    select_model,
    wait_for_done_cards,
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
    studio = run_studio_notebook(page, lab, "studio_cost.ipynb", "cost-history")
    estimate = ".mw-studio .mw-estimate"
    wait_for_text(page, estimate, "≈ $0.039")  # nano-banana, one image

    select_model(studio, "nano-banana-2")
    resolution = studio.locator('.mw-field[data-name="resolution"] select')
    resolution.wait_for(timeout=15_000)
    resolution.select_option("4K")
    wait_for_text(page, estimate, "≈ $0.16")  # 1K price x2 for 4K: it follows the form
    tip = studio.locator(".mw-estimate").get_attribute("title") or ""
    assert "resolution 4K" in tip and "upstream list prices" in tip

    wait_for_text(page, ".mw-studio .mw-credits", "simulated account: ")
    before_text = studio.locator(".mw-credits").inner_text()
    before = credits_of(before_text)
    studio.locator('.mw-field[data-name="prompt"] textarea').fill(PROMPT)
    click_generate(page, studio)
    wait_for_done_cards(page, 1)
    card = studio.locator(".mw-card[data-run-id]").first
    assert PROMPT in card.locator(".mw-card-prompt").inner_text()
    assert "≈ $0.16" in card.locator(".mw-cost").inner_text()
    wait_for_text(page, ".mw-studio .mw-spent", "≈ $0.16 (1 completed run)")
    # Refreshed after the run: down by at least its estimate (other runs of the lab may have
    # completed too, and are charged as well).
    page.wait_for_function(
        "(before) => { const e = document.querySelector('.mw-studio .mw-credits');"
        " return e !== null && e.innerText !== before; }",
        arg=before_text,
        timeout=30_000,
    )
    after = credits_of(studio.locator(".mw-credits").inner_text())
    assert after <= before - 0.16 + 1e-6

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1500})
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(ARTIFACTS / "studio-cost.png"))
