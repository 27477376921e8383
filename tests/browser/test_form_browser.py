"""The form alone in a real JupyterLab page: form.js draws form.state(), the kernel judges.

A tiny view made only for this test holds a headless Form, keeps its state in a synced trait
and draws it with ``renderForm``; the person types into Chromium and the message next to the
field comes from the catalog in the kernel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.images import solid_png
from tests.helpers.notebooks import write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

NOTEBOOK = "form_alone.ipynb"

#: The test view: the form's state in a trait, the page messages to the form's handlers.
VIEW_CELL = '''
import traitlets
from mountsea_widgets.widgets._page import page_module, page_style
from mountsea_widgets.widgets._view import View
from mountsea_widgets.widgets.form import Form

RENDER = """
export default { render({ model, el }) {
  el.classList.add("mw-root", "mw-form-test");
  const link = connect(model, el, () => {});
  const form = renderForm(el, link.send);
  const draw = () => form.update(model.get("form"));
  draw();
  model.on("change:form", draw);
  return () => { model.off("change:form", draw); link.dispose(); };
} };
"""


class FormView(View):
    _esm = page_module("form.js") + RENDER
    _css = page_style("form.css")
    form = traitlets.Dict().tag(sync=True)

    def __init__(self, model):
        super().__init__()
        self.editor = Form(model)
        for kind, handler in self.editor.handlers().items():
            self.on_page(kind, handler)
        self.editor.on_change(lambda f: setattr(self, "form", f.state()))
        self.form = self.editor.state()


'''

CELLS = [VIEW_CELL + 'view = FormView("nano-banana-edit")\nview', "print('all cells ran')"]
SIZE_NOTEBOOK = "form_size.ipynb"
SIZE_CELLS = [VIEW_CELL + 'view = FormView("gpt-image-2-edit")\nview', "print('all cells ran')"]
BAD_SEED = '12<img src=x onerror="window.__xss_form=1">'


def _open(page: Any, lab: dict[str, str], notebook: str = NOTEBOOK) -> None:
    page.goto(f"{lab['url']}/lab/tree/{notebook}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   const kernel = w && w.sessionContext && w.sessionContext.session
                                  && w.sessionContext.session.kernel;
                   return kernel && kernel.status === 'idle'; }""",
        timeout=60_000,
    )


def _message(page: Any, name: str) -> str:
    text: str = page.evaluate(
        """(name) => { const m = document.querySelector(
              `.mw-form .mw-field[data-name="${name}"] .mw-field-message`);
              return m && !m.hidden ? m.textContent : ""; }""",
        name,
    )
    return text


def _wait_message(page: Any, name: str, has: str) -> None:
    page.wait_for_function(
        """([name, has]) => { const m = document.querySelector(
              `.mw-form .mw-field[data-name="${name}"] .mw-field-message`);
              if (!m) return false;
              return has ? !m.hidden && m.textContent.includes(has)
                         : m.hidden || m.textContent === ""; }""",
        arg=[name, has],
        timeout=30_000,
    )


def test_messages_follow_the_typing_and_files_become_chips(page: Any, lab: dict[str, str]) -> None:
    write_notebook(Path(lab["root"]) / NOTEBOOK, CELLS)
    _open(page, lab)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator(".jp-OutputArea-output pre", has_text="all cells ran").wait_for(timeout=120_000)
    seed = page.locator('.mw-form .mw-field[data-name="seed"] input[data-role="main"]')
    seed.wait_for(timeout=60_000)
    # Every field of the model is drawn, in the form's order, with its label.
    names = page.eval_on_selector_all(
        ".mw-form .mw-field", "nodes => nodes.map(n => n.dataset.name)"
    )
    assert names[:2] == ["prompt", "image_urls"] and "seed" in names
    assert page.locator('.mw-field[data-name="aspect_ratio"] label').inner_text() == (
        "Aspect ratio"
    )
    assert _message(page, "prompt") == ""  # required, but not touched yet

    # A bad seed: the message appears next to the seed only; the person keeps typing.
    seed.click()
    seed.press_sequentially(BAD_SEED, delay=5)
    _wait_message(page, "seed", "is not a whole number")
    assert "<img" in _message(page, "seed")  # shown as text, never as markup
    assert page.evaluate("() => window.__xss_form === undefined")
    assert page.locator(".mw-form img").count() == 0
    assert _message(page, "prompt") == ""
    focused = page.evaluate(
        """() => { const a = document.activeElement;
                   return [a && a.closest('.mw-field') && a.closest('.mw-field').dataset.name,
                           a && a.value, a && a.selectionStart]; }"""
    )
    assert focused == ["seed", BAD_SEED, len(BAD_SEED)]  # focus and caret survived the update

    # Fixing it clears the message.
    seed.fill("42")
    _wait_message(page, "seed", "")

    # A chosen file becomes a chip; its × removes it; a text file is refused by name.
    picker = page.locator('.mw-field[data-name="image_urls"] input[type="file"]')
    picker.set_input_files(
        [{"name": "photo.png", "mimeType": "image/png", "buffer": solid_png((0, 90, 200))}]
    )
    chip = page.locator('.mw-field[data-name="image_urls"] .mw-chip')
    chip.first.wait_for(timeout=30_000)
    assert chip.count() == 1
    assert chip.first.locator(".mw-chip-label").inner_text().startswith("photo.png · ")
    assert "data:" not in chip.first.inner_text()
    picker.set_input_files([{"name": "notes.txt", "mimeType": "image/png", "buffer": b"hello"}])
    _wait_message(page, "image_urls", "notes.txt was not added")
    chip.first.locator("button.mw-chip-remove").click()
    page.wait_for_function(
        """() => document.querySelectorAll('.mw-field[data-name="image_urls"] .mw-chip')
                 .length === 0""",
        timeout=30_000,
    )
    _wait_message(page, "image_urls", "Reference images is required")


def test_a_custom_size_is_judged_as_typed_and_a_dropped_file_is_attached(
    page: Any, lab: dict[str, str]
) -> None:
    from mountsea_widgets.widgets.size_control import CUSTOM

    write_notebook(Path(lab["root"]) / SIZE_NOTEBOOK, SIZE_CELLS)
    _open(page, lab, SIZE_NOTEBOOK)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator(".jp-OutputArea-output pre", has_text="all cells ran").wait_for(timeout=120_000)
    size = page.locator('.mw-form .mw-field[data-name="image_size"]')
    size.wait_for(timeout=60_000)
    custom = size.locator(".mw-size-custom")
    assert custom.is_hidden()
    size.locator("select.mw-size-preset").select_option(CUSTOM)
    custom.wait_for(state="visible", timeout=10_000)
    page.wait_for_function(
        """() => document.querySelector('.mw-field[data-name="image_size"] .mw-field-note')
                 .textContent.includes('1536 × 1024 px')""",
        timeout=30_000,
    )
    size.locator("input.mw-size-width").fill("1000")
    _wait_message(page, "image_size", "multiples of 16")
    assert _message(page, "mask_url") == ""
    size.locator("input.mw-size-width").fill("2048")
    _wait_message(page, "image_size", "")

    # A file dropped on the reference images is attached like a chosen one.
    page.evaluate(
        """(bytes) => {
          const zone = document.querySelector('.mw-field[data-name="image_urls"] .mw-field-body');
          const files = new DataTransfer();
          files.items.add(new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'}));
          zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: files, bubbles: true,
                                                        cancelable: true}));
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: files, bubbles: true,
                                                    cancelable: true}));
        }""",
        list(solid_png((200, 120, 0))),
    )
    chip = page.locator('.mw-field[data-name="image_urls"] .mw-chip-label')
    chip.first.wait_for(timeout=30_000)
    assert chip.first.inner_text().startswith("dropped.png · ")
