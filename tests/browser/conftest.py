"""Real-browser fixtures: a JupyterLab server on loopback and Debian's Chromium via Playwright.

No browser is downloaded: Playwright drives the system ``chromium``. Outside CI the browser tests
skip when no Chromium can be found; in CI (``CI`` set) they fail instead, so they always run there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .front_ends import Server, running_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium; a hard failure in CI, a skip elsewhere when it is missing."""
    path = _chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed, and browser tests must run in CI")
        pytest.skip("no Chromium on this machine (make chromium installs it)")
    return path


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A JupyterLab server over a temporary copy of notebooks/, with isolated Jupyter folders
    and the lab settings ``make lab`` uses (widget state saved with the notebook)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    shutil.copytree(ROOT / "notebooks", root)
    with running_server("lab", base, root) as server:
        yield server


@pytest.fixture(scope="session")
def lab(lab_server: Server) -> dict[str, str]:
    """The JupyterLab server's address and root folder."""
    return {"url": lab_server.url, "root": str(lab_server.root)}


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Notebook 7 server over an empty temporary folder, set up as :func:`lab_server` is."""
    base = tmp_path_factory.mktemp("notebook7")
    root = base / "root"
    root.mkdir()
    with running_server("notebook", base, root) as server:
        yield server


@pytest.fixture(params=["lab", "notebook"], ids=["jupyterlab", "notebook7"])
def front_end(request: pytest.FixtureRequest) -> Server:
    """Each Jupyter front-end in turn: JupyterLab 4, then Notebook 7."""
    name = "lab_server" if request.param == "lab" else "notebook7"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def page(chromium_path: str) -> Iterator[object]:
    """A fresh Chromium page (1400x1000), closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()
