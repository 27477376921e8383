"""Suite-wide isolation: no test touches the real home folder, a real key, or the internet."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from tests.helpers.environment import HUB_VARIABLES, isolated_folders

if TYPE_CHECKING:  # the package is imported only once the environment below is set
    from mountsea_widgets._runner import Runner

_SANDBOX = Path(tempfile.mkdtemp(prefix="mountsea-tests-"))

# Set before any test module imports the package, so nothing reads the real environment.
for _var in HUB_VARIABLES:
    os.environ.pop(_var, None)
os.environ.update(isolated_folders(_SANDBOX))
os.environ["MOUNTSEA_HISTORY_DIR"] = str(_SANDBOX / "history")

# Hypothesis's per-example deadline is a timed assertion: a busy machine fails it. Off.
settings.register_profile("any-speed", deadline=None)
settings.load_profile("any-speed")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh folder per test, also used as the history folder."""
    monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(tmp_path / "history"))
    yield tmp_path


@pytest.fixture
def runner() -> Iterator[Runner]:
    """A runner of the test's own (its loop thread is named ``mountsea-runner-test``), shut
    down after the test."""
    from mountsea_widgets._runner import Runner

    own = Runner(name="mountsea-runner-test")
    yield own
    own.shutdown()


@pytest.fixture
def count_image_opens(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every image decode (PIL's Image.open) from now on."""
    from PIL import Image

    opened: list[Any] = []
    real_open = Image.open

    def counting_open(fp: Any, *args: Any, **kwargs: Any) -> Image.Image:
        opened.append(fp)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    yield opened


@pytest.fixture(autouse=True)
def bundled_catalog() -> Iterator[None]:
    """Each test starts and ends with the bundled catalog: what one test's hub listed (the live
    catalog) must not change what another test's input is checked against."""
    from mountsea_widgets._live_catalog import live
    from mountsea_widgets.catalog import catalog

    yield
    live.reset(catalog)
