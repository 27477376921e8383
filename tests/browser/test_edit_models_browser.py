"""Edit models in a real browser: Use as input on a finished cell, then an image file attached
through the FileUpload button, both sent to the offline simulator."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from .conftest import ARTIFACTS
from .test_studio_browser import open_notebook

pytestmark = pytest.mark.browser


def _wait_for_model(page: Any, model_id: str) -> None:
    page.wait_for_function(
        "(model) => document.querySelector('.mw-studio select.mw-model').value === model",
        arg=model_id,
        timeout=15_000,
    )


def _wait_for_completed_cards(page: Any, count: int) -> None:
    page.wait_for_function(
        """(count) => [...document.querySelectorAll(
               '.mw-studio .mw-card[data-status="completed"] img.mw-thumb')]
               .filter((img) => img.complete && img.naturalWidth > 0).length >= count""",
        arg=count,
        timeout=120_000,
    )


def _generate(page: Any, studio: Any) -> None:
    page.wait_for_function(
        "() => !document.querySelector('.mw-studio button.mw-generate').disabled",
        timeout=30_000,
    )
    studio.locator("button.mw-generate").click()


def _write_notebook(path: Path) -> None:
    """A notebook with one Studio that keeps no history (the lab's history is shared)."""
    source = "import mountsea_widgets as mw\n\nmw.studio('nano-banana', history=False)"
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "studio",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))


def test_use_as_input_and_an_attached_file(page: Any, lab: dict[str, str], tmp_path: Path) -> None:
    _write_notebook(Path(lab["root"]) / "edit_models.ipynb")
    open_notebook(page, lab, "edit_models.ipynb")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    studio = page.locator(".mw-root.mw-studio").first
    studio.wait_for(timeout=90_000)
    studio.locator('.mw-field[data-name="prompt"] textarea').fill("a red cube")
    _generate(page, studio)
    _wait_for_completed_cards(page, 1)

    # Use as input: the edit model, with the result's URL in image_urls.
    studio.locator('.mw-card button[data-action="use-input"]').first.click()
    _wait_for_model(page, "nano-banana-edit")
    urls = studio.locator('.mw-field[data-name="image_urls"] textarea')
    page.wait_for_function(
        """() => { const box = document.querySelector(
                       '.mw-studio .mw-field[data-name="image_urls"] textarea');
                   return box && box.value.startsWith('http://127.0.0.1'); }""",
        timeout=15_000,
    )
    assert "/files/" in urls.input_value()

    # Attach a file through the file picker: it becomes a chip, not text.
    photo = tmp_path / "photo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (255, 0, 255)).save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    studio.locator('.mw-field[data-name="image_urls"] input.mw-attach-input').set_input_files(
        str(photo)
    )
    chip = studio.locator(".mw-chip").first
    chip.wait_for(timeout=30_000)
    assert "photo.png" in chip.inner_text()
    assert "data:" not in urls.input_value()  # the box keeps URLs only

    studio.locator('.mw-field[data-name="prompt"] textarea').fill("make it blue")
    _generate(page, studio)
    page.wait_for_function(
        "() => document.querySelectorAll('.mw-studio .mw-card[data-run-id]').length === 2",
        timeout=60_000,
    )
    _wait_for_completed_cards(page, 2)
    newest = studio.locator(".mw-card[data-run-id]").first
    assert "nano-banana-edit" in newest.locator(".mw-card-model").inner_text()
    assert "image_urls=" in newest.locator(".mw-card-params").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    studio.scroll_into_view_if_needed()
    studio.screenshot(path=str(ARTIFACTS / "studio-edit.png"))

    # The chip's remove button takes the image out again.
    chip.locator("button.mw-chip-remove").click()
    studio.locator(".mw-chip").first.wait_for(state="detached", timeout=15_000)
