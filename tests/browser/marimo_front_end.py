"""marimo for browser tests: write a marimo notebook, serve it with ``marimo edit``, run it.

``marimo edit`` does not run a notebook's cells when it opens (its ``auto_instantiate`` setting
is off by default): a person clicks "Run" (the round button at the bottom right), and so do
the tests. marimo draws each anywidget inside a shadow root: reach it with Playwright
locators (they pierce open shadow roots), not ``document.querySelector``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .front_ends import Server, free_port, server_environment


def write_marimo_notebook(path: Path, cells: Sequence[str]) -> Path:
    """Write ``cells`` (code sources; the last line of each is its output) as a marimo app."""
    parts = ["import marimo", "", "app = marimo.App()", ""]
    for source in cells:
        body = textwrap.indent(source.strip("\n"), "    ")
        parts += ["", "@app.cell", "def _():", body, "    return", ""]
    parts += ["", 'if __name__ == "__main__":', "    app.run()", ""]
    path.write_text("\n".join(parts))
    return path


@contextmanager
def running_marimo(base: Path, notebook: Path) -> Iterator[Server]:
    """``marimo edit --headless --no-token`` serving ``notebook`` on a free loopback port."""
    env = server_environment(base)
    port = free_port()
    log_path = base / "marimo.log"
    command = [
        sys.executable,
        "-m",
        "marimo",
        "edit",
        "--headless",
        "--no-token",
        "--skip-update-check",
        "-p",
        str(port),
        str(notebook),
    ]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, env=env, cwd=notebook.parent, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"marimo did not start:\n{log_path.read_text()}"
                        ) from None
                    time.sleep(0.2)
            yield Server("marimo", url, notebook.parent, log_path)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def open_and_run(page: Any, server: Server, ready: str, timeout_s: float = 120) -> None:
    """Open the notebook, click "Run" until the cells ran and ``ready`` (a selector) shows.

    The first click can come before the page's runtime is connected and then does nothing;
    clicking again until the output appears is what a person would do.
    """
    page.goto(server.url, wait_until="domcontentloaded")
    run = page.locator("[data-testid=run-button]:visible").last
    run.wait_for(timeout=90_000)
    output = page.locator(ready).first
    deadline = time.monotonic() + timeout_s
    while True:
        if run.is_visible() and run.is_enabled():
            run.click()
        try:
            output.wait_for(timeout=10_000)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
