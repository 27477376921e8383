"""What a person sees: the Studio in JupyterLab, driven by a real Chromium.

Type a prompt, click Generate, see the image arrive on a card; switch to gpt-image-2 and see
its size control; Reuse puts the parameters back; Remove takes the card away. A prompt with an
XSS canary shows as text and never runs. A history of 2,000 runs is reached by scrolling, with
a bounded number of DOM nodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.notebooks import write_notebook
from tests.integration.test_recovery import write_history

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CANARY = '<img src=x onerror="window.__mountsea_xss = 1">'
PROMPT = "a lighthouse at dusk, oil painting"
XSS_PROMPT = f"a lighthouse at dusk {CANARY}"
PROMPT_BOX = '.mw-field[data-name="prompt"] textarea'


def open_notebook(page: Any, lab: dict[str, str], name: str) -> None:
    page.goto(f"{lab['url']}/lab/tree/{name}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   const kernel = w && w.sessionContext && w.sessionContext.session
                                  && w.sessionContext.session.kernel;
                   return kernel && kernel.status === 'idle'; }""",
        timeout=60_000,
    )


def run_studio_notebook(page: Any, lab: dict[str, str], name: str, history: str) -> Any:
    """A notebook with one Studio on ``history`` (a folder in the lab root), run; the Studio."""
    cells = [
        "import mountsea_widgets as mw\nfrom mountsea_widgets.history import History\n"
        f"studio = mw.studio(history=History({history!r}))\nstudio"
    ]
    write_notebook(Path(lab["root"]) / name, cells)
    open_notebook(page, lab, name)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    studio = page.locator(".mw-root.mw-studio").first
    studio.wait_for(timeout=90_000)
    page.wait_for_function(
        "() => { const b = document.querySelector('.mw-studio .mw-banner');"
        " return b && b.textContent.length > 0; }",
        timeout=60_000,
    )
    return studio


def select_model(studio: Any, model_id: str) -> None:
    studio.locator("select.mw-model").select_option(value=model_id)


def click_generate(page: Any, studio: Any) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.mw-studio button.mw-generate').disabled",
        timeout=30_000,
    )
    studio.locator("button.mw-generate").click()


def wait_for_done_cards(page: Any, count: int) -> None:
    """Until ``count`` completed cards show a loaded thumbnail."""
    page.wait_for_function(
        """(count) => {
             const done = '.mw-studio .mw-card[data-status="completed"]';
             const cards = [...document.querySelectorAll(done)];
             return cards.length >= count && cards.slice(0, count).every((card) => {
               const img = card.querySelector('img.mw-thumb');
               return img && img.complete && img.naturalWidth > 0; }); }""",
        arg=count,
        timeout=120_000,
    )


def newest_card(studio: Any) -> Any:
    return studio.locator(".mw-card[data-run-id]").first


def test_generate_switch_reuse_remove_and_text_stays_text(page: Any, lab: dict[str, str]) -> None:
    studio = run_studio_notebook(page, lab, "studio_view.ipynb", "studio-view-history")
    assert "offline simulator" in studio.locator(".mw-banner").inner_text()
    assert studio.locator(".mw-offline:visible").count() == 0  # the kernel answered

    studio.locator(PROMPT_BOX).fill(PROMPT)
    studio.locator('.mw-field[data-name="aspect_ratio"] select').select_option("16:9")
    click_generate(page, studio)
    wait_for_done_cards(page, 1)
    card = newest_card(studio)
    assert PROMPT in card.locator(".mw-card-prompt").inner_text()
    assert "aspect_ratio=16:9" in card.locator(".mw-card-params").inner_text()
    assert "estimated" in studio.locator(".mw-estimate").inner_text()
    assert "spent this session" in studio.locator(".mw-spent").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1700})
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(ARTIFACTS / "studio.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Switching to gpt-image-2 shows its own size control, and hides nano-banana's aspect ratio.
    select_model(studio, "gpt-image-2")
    studio.locator('.mw-field[data-name="image_size"]').wait_for(timeout=15_000)
    assert studio.locator('.mw-field[data-name="aspect_ratio"]').count() == 0
    assert studio.locator(PROMPT_BOX).input_value() == PROMPT  # kept across models

    # Reuse loads the run's model and parameters back into the form.
    studio.locator(PROMPT_BOX).fill("something else")
    card.locator('button[data-action="reuse"]').click()
    page.wait_for_function(
        "() => document.querySelector('.mw-studio select.mw-model').value === 'nano-banana'"
        " && document.querySelector('.mw-studio .mw-field[data-name=\"aspect_ratio\"] select')",
        timeout=15_000,
    )
    page.wait_for_function(
        f"() => document.querySelector('.mw-studio {PROMPT_BOX}').value === {PROMPT!r}",
        timeout=15_000,
    )
    aspect = studio.locator('.mw-field[data-name="aspect_ratio"] select')
    assert aspect.input_value() == "16:9"

    # A prompt pasted from anywhere is shown as text on its card, and its markup never runs.
    studio.locator(PROMPT_BOX).fill(XSS_PROMPT)
    click_generate(page, studio)
    page.wait_for_function(
        "() => document.querySelectorAll('.mw-studio .mw-card[data-run-id]').length === 2",
        timeout=60_000,
    )
    wait_for_done_cards(page, 2)
    assert CANARY in newest_card(studio).locator(".mw-card-prompt").inner_text()
    assert page.evaluate("window.__mountsea_xss === undefined")
    assert page.evaluate("document.querySelectorAll('.mw-studio img[src=\"x\"]').length") == 0

    # Code shows the call as text; Remove takes the newest card away.
    newest_card(studio).locator('button[data-action="code"]').click()
    newest_card(studio).locator("pre.mw-code").wait_for(timeout=15_000)
    assert "mw.generate(" in newest_card(studio).locator("pre.mw-code").inner_text()
    removed = newest_card(studio).get_attribute("data-run-id")
    newest_card(studio).locator('button[data-action="remove"]').click()
    page.wait_for_function(
        '(id) => !document.querySelector(`.mw-studio .mw-card[data-run-id="${id}"]`)'
        " && document.querySelectorAll('.mw-studio .mw-card[data-run-id]').length === 1",
        arg=removed,
        timeout=30_000,
    )
    assert PROMPT in newest_card(studio).locator(".mw-card-prompt").inner_text()


def test_a_2000_run_history_is_reached_by_scrolling_with_bounded_dom(
    page: Any, lab: dict[str, str]
) -> None:
    write_history(Path(lab["root"]) / "big-history", 2000)
    run_studio_notebook(page, lab, "studio_big.ipynb", "big-history")
    page.wait_for_function(
        "() => document.querySelector('.mw-studio .mw-card[data-run-id=\"run-1999\"]')",
        timeout=60_000,
    )
    wait_for_done_cards(page, 4)

    def nodes() -> int:
        return int(
            page.evaluate("document.querySelector('.mw-studio').querySelectorAll('*').length")
        )

    assert nodes() <= 3000
    # To the bottom in one move: no paging clicks, the oldest run arrives with its image.
    page.evaluate(
        "() => { const list = document.querySelector('.mw-studio .mw-history');"
        " list.scrollTop = list.scrollHeight; }"
    )
    page.wait_for_function(
        """() => { const card = document.querySelector(
                     '.mw-studio .mw-card[data-run-id="run-0000"]');
                   const img = card && card.querySelector('img.mw-thumb');
                   return img && img.complete && img.naturalWidth > 0; }""",
        timeout=60_000,
    )
    assert nodes() <= 3000
    assert (
        page.evaluate(
            "document.querySelectorAll('.mw-studio .mw-card[data-run-id=\"run-1999\"]').length"
        )
        == 0
    )  # the top rows left the page
    # And back up halfway.
    page.evaluate(
        "() => { const list = document.querySelector('.mw-studio .mw-history');"
        " list.scrollTop = list.scrollHeight / 2; }"
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mw-studio .mw-card[data-run-id]')]"
        ".some((card) => card.querySelector('img.mw-thumb')"
        " && Math.abs(Number(card.dataset.runId.slice(4)) - 1000) < 40)",
        timeout=60_000,
    )
    assert nodes() <= 3000
