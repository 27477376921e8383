"""The views' base in real front-ends (JupyterLab 4 and Notebook 7), with the probe view.

Live: the view renders, a click reaches Python, a trait change reaches the page, the saved
fallback output stays hidden. Saved: a change made from a background thread is in the saved
notebook's fallback output; reopened without its kernel the fallback shows the results and the
view says it is not connected (with and without saved widget state); nbconvert's HTML carries
the current results, escaped. Kernel gone while the page is open: a click says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.notebooks import write_notebook

from .front_ends import (
    Server,
    kernel_id,
    open_notebook,
    run_all,
    save,
    shut_everything_down,
    shut_kernel_down,
    wait_until_idle_after_run,
    widget_settings,
)

pytestmark = pytest.mark.browser

LABEL = "<b>probe</b> & co"
SETUP = "from tests.helpers.probe_view import Probe"
SHOW = f"probe = Probe(label={LABEL!r})\nprobe"
FALLBACK = ".mountsea-fallback"
PROBE = ".mw-probe"


def probe_notebook(server: Server, name: str, *extra: str) -> str:
    write_notebook(server.root / name, [SETUP, SHOW, *extra])
    return name


def wait_for_count(page: Any, count: int) -> None:
    page.wait_for_function(
        "(n) => { const c = document.querySelector('.mw-probe .mw-probe-count');"
        " return c !== null && c.textContent === `Count: ${n}`; }",
        arg=count,
        timeout=60_000,
    )


def wait_connected(page: Any) -> None:
    """The probe's kernel answered its hello: connected, the offline banner hidden, the saved
    fallback output out of sight."""
    page.wait_for_selector(".mw-probe[data-connection=connected]", timeout=60_000)
    assert page.locator(".mw-probe .mw-offline").is_hidden()


def fallback_texts(outputs: list[dict[str, Any]]) -> list[str]:
    """The text/html of each fallback output among ``outputs``."""
    texts = []
    for output in outputs:
        html = output.get("data", {}).get("text/html")
        if html is None:
            continue
        text = "".join(html) if isinstance(html, list) else html
        if "mountsea-fallback" in text:
            texts.append(text)
    return texts


def test_the_lab_settings_save_widget_state(front_end: Server) -> None:
    """The servers the tests start (and ``make lab``) save widget state with the notebook."""
    assert widget_settings(front_end).get("saveState") is True


def test_the_probe_renders_and_talks_to_its_kernel(front_end: Server, page: Any) -> None:
    name = probe_notebook(front_end, f"live-{front_end.kind}.ipynb")
    open_notebook(page, front_end, name)
    run_all(page)
    wait_for_count(page, 0)
    wait_connected(page)
    # The label is text, not markup.
    assert page.locator(".mw-probe .mw-probe-label").text_content() == LABEL
    assert page.locator(".mw-probe b").count() == 0
    # The fallback output is in the page but out of sight while connected.
    assert page.locator(FALLBACK).count() == 1
    assert not page.locator(FALLBACK).is_visible()
    page.locator("button.mw-probe-bump").click()
    wait_for_count(page, 1)  # the page never counts by itself: Python did, and said so
    page.locator("button.mw-probe-bump").click()
    wait_for_count(page, 2)
    assert page.locator(".mw-probe .mw-offline").is_hidden()


def test_saved_and_reopened_the_results_show_and_the_view_says_it_is_offline(
    front_end: Server, page: Any, tmp_path: Path
) -> None:
    name = probe_notebook(
        front_end, f"saved-{front_end.kind}.ipynb", "probe.bump_later(0.3, times=3)"
    )
    open_notebook(page, front_end, name)
    run_all(page)
    wait_until_idle_after_run(page)
    wait_for_count(page, 3)  # bumped from a background thread, after the cell ended
    wait_connected(page)
    # The fallback output, rewritten from that thread, reaches the notebook's output model.
    page.wait_for_function(
        """() => { const outputs = window.jupyterapp.shell.currentWidget.content.model
                     .cells.get(1).outputs.toJSON();
                   return JSON.stringify(outputs).includes('Saved count: 3'); }""",
        timeout=60_000,
    )
    saved = save(page, front_end, name)
    texts = fallback_texts(saved["cells"][1]["outputs"])
    assert len(texts) == 1
    assert "Saved count: 3" in texts[0]
    assert "&lt;b&gt;probe&lt;/b&gt; &amp; co" in texts[0]
    assert "<b>probe</b>" not in texts[0]
    widget_outputs = [
        o
        for o in saved["cells"][1]["outputs"]
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(widget_outputs) == 1
    assert widget_outputs[0]["data"]["text/plain"] in (
        "mountsea-widgets probe",
        ["mountsea-widgets probe"],
    )
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    probes = [m for m in state.values() if m["state"].get("view_kind") == "probe"]
    assert len(probes) == 1 and probes[0]["state"]["count"] == 3

    # Without saved widget state: the fallback alone carries the results.
    stripped = dict(saved)
    stripped["metadata"] = {k: v for k, v in saved["metadata"].items() if k != "widgets"}
    bare = f"bare-{front_end.kind}.ipynb"
    (front_end.root / bare).write_text(json.dumps(stripped))
    (tmp_path / "saved.ipynb").write_text(json.dumps(saved))

    shut_everything_down(front_end)
    page.goto("about:blank")

    open_notebook(page, front_end, name)
    page.wait_for_selector(".mw-probe[data-connection=offline]", timeout=60_000)
    banner = page.locator(".mw-probe .mw-offline")
    assert banner.is_visible()
    assert "Not connected to a kernel" in (banner.text_content() or "")
    assert page.locator(".mw-probe .mw-probe-count").text_content() == "Count: 3"
    fallback = page.locator(FALLBACK)
    fallback.wait_for(state="visible", timeout=60_000)
    assert "Saved count: 3" in (fallback.text_content() or "")
    assert LABEL in (fallback.text_content() or "")

    shut_everything_down(front_end)
    page.goto("about:blank")
    open_notebook(page, front_end, bare)
    fallback = page.locator(FALLBACK)
    fallback.wait_for(state="visible", timeout=60_000)
    assert "Saved count: 3" in (fallback.text_content() or "")
    assert page.locator(".mw-probe").count() == 0
    shut_everything_down(front_end)

    # nbconvert: the current results, escaped, and the widget's plain text is describe().
    for notebook in (tmp_path / "saved.ipynb", front_end.root / bare):
        converted = subprocess.run(
            [sys.executable, "-m", "nbconvert", "--to", "html", "--stdout", str(notebook)],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
        assert "Saved count: 3" in converted
        assert "&lt;b&gt;probe&lt;/b&gt; &amp; co" in converted
        assert "<b>probe</b>" not in converted
        assert "Saved count: 0" not in converted
        assert "Saved count: 1" not in converted
    assert "mountsea-widgets probe" in converted  # the bare notebook shows the widget as text


def test_after_the_kernel_is_gone_a_click_says_so(front_end: Server, page: Any) -> None:
    name = probe_notebook(front_end, f"gone-{front_end.kind}.ipynb")
    open_notebook(page, front_end, name)
    run_all(page)
    wait_for_count(page, 0)
    wait_connected(page)
    shut_kernel_down(front_end, kernel_id(page))
    # Nothing has told the view yet: the click is what finds the kernel gone.
    assert page.locator(".mw-probe[data-connection=connected]").count() == 1
    page.locator("button.mw-probe-bump").click()
    page.wait_for_selector(".mw-probe[data-connection=offline]", timeout=60_000)
    banner = page.locator(".mw-probe .mw-offline")
    assert banner.is_visible()
    assert "Not connected to a kernel" in (banner.text_content() or "")
    assert page.locator(".mw-probe .mw-probe-count").text_content() == "Count: 0"
    shut_everything_down(front_end)
