"""What a person sees: the quickstart in JupyterLab, driven by a real Chromium.

Open the quickstart, run all cells, type a prompt, click Generate, see the image arrive in a
history cell; switch to gpt-image-2 and see its size control; Reuse puts the parameters back.
The prompt carries an XSS canary that must show as text and never run.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

CANARY = '<img src=x onerror="window.__mountsea_xss = 1">'
PROMPT = "a lighthouse at dusk, oil painting"
XSS_PROMPT = f"a lighthouse at dusk {CANARY}"


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


def select_model(studio: Any, model_id: str) -> None:
    """Choose a model in the Studio's dropdown, whose labels start with the model id."""
    select = studio.locator(".mountsea-model select")
    labels = select.locator("option").all_text_contents()
    label = next(text for text in labels if text.split()[0] == model_id)
    select.select_option(label=label)


def selected_model(page: Any) -> str:
    return str(
        page.evaluate(
            """() => { const s = document.querySelector('.mountsea-studio .mountsea-model select');
                       return s.options[s.selectedIndex].text.split(/\\s/)[0]; }"""
        )
    )


def wait_for_prompt(page: Any, expected: str) -> None:
    page.wait_for_function(
        "(expected) => { const box = document.querySelector("
        "'.mountsea-studio .mountsea-param-prompt textarea');"
        " return box !== null && box.value === expected; }",
        arg=expected,
        timeout=15_000,
    )


def wait_for_first_cell_done(page: Any, studio: Any, expected_prompt: str) -> Any:
    """The newest history cell once it shows ``expected_prompt`` and a loaded thumbnail."""
    page.wait_for_function(
        """(expected) => {
             const cell = document.querySelector('.mountsea-studio .mountsea-history-cell');
             if (!cell || !cell.querySelector('.mountsea-prompt')) return false;
             const img = cell.querySelector('img.mountsea-thumb');
             return cell.querySelector('.mountsea-prompt').innerText.includes(expected)
                    && img !== null && img.complete && img.naturalWidth > 0; }""",
        arg=expected_prompt,
        timeout=120_000,
    )
    return studio.locator(".mountsea-history-cell").first


def click_generate(page: Any, studio: Any) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.mountsea-studio button.mountsea-generate').disabled",
        timeout=30_000,
    )
    studio.locator("button.mountsea-generate").click()


def test_quickstart_studio_generate_switch_and_reuse(page: Any, lab: dict[str, str]) -> None:
    open_notebook(page, lab, "quickstart.ipynb")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    studio = page.locator(".mountsea-studio").first
    studio.wait_for(timeout=90_000)
    assert "offline simulator" in studio.locator(".mountsea-banner").inner_text()

    prompt_box = studio.locator(".mountsea-param-prompt textarea")
    prompt_box.fill(PROMPT)
    studio.locator(".mountsea-param-aspect_ratio select").select_option("16:9")
    click_generate(page, studio)

    cell = wait_for_first_cell_done(page, studio, PROMPT)
    assert "completed" in cell.locator(".mountsea-status").inner_text().lower()
    assert "aspect_ratio" in cell.locator(".mountsea-params").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1700})
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(ARTIFACTS / "studio.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    # Switching to gpt-image-2 shows its own size control, and hides nano-banana's aspect ratio.
    select_model(studio, "gpt-image-2")
    studio.locator(".mountsea-size-control").first.wait_for(timeout=15_000)
    assert studio.locator(".mountsea-param-aspect_ratio").count() == 0
    wait_for_prompt(page, PROMPT)  # the prompt is kept across models

    # Reuse loads the run's model and parameters back into the form.
    prompt_box.fill("something else")
    cell.locator("button.mountsea-reuse").click()
    page.wait_for_function(
        """() => { const s = document.querySelector('.mountsea-studio .mountsea-model select');
                   return s.options[s.selectedIndex].text.split(/\\s/)[0] === 'nano-banana'; }""",
        timeout=15_000,
    )
    assert selected_model(page) == "nano-banana"
    wait_for_prompt(page, PROMPT)
    assert studio.locator(".mountsea-size-control").count() == 0
    assert studio.locator(".mountsea-param-aspect_ratio select").input_value() == "16:9"

    # A prompt pasted from anywhere is shown as text in its cell, and its markup never runs.
    prompt_box.fill(XSS_PROMPT)
    click_generate(page, studio)
    cell = wait_for_first_cell_done(page, studio, CANARY)
    assert CANARY in cell.locator(".mountsea-prompt").inner_text()
    assert page.evaluate("window.__mountsea_xss === undefined")
