"""The shape of the fast paths (no timing): thumbnails small and made off the runner loop,
finished runs holding thumbnails rather than full-size images, and a light package import.

Timings themselves live in ``benchmarks/`` (``make benchmark``); these tests pin down the
structure those timings rely on, so a change that breaks it fails here.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mountsea_widgets import _images as images
from mountsea_widgets._images import MAX_THUMBNAIL_BYTES, decode_image, thumbnail
from mountsea_widgets._runner import get_runner
from mountsea_widgets.client import _protocol as client_protocol  # where images are verified
from mountsea_widgets.comparison import compare
from mountsea_widgets.history import History
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.widgets.studio import Studio
from tests.helpers.simulated_client import FastClient as SimulatedClient
from tests.helpers.studios import card_thumbs, studio_maker
from tests.helpers.views import PageRecorder, send

SPEED = 80.0


class FastClient(SimulatedClient):
    speed = SPEED


@pytest.fixture
def make_studio(loopback_hub: SimulatorServer, history: History) -> Iterator[Any]:
    """Studios on this module's fast client that list no past runs."""

    def client(base_url: str, api_key: str | None) -> FastClient:
        return FastClient(base_url=base_url, api_key=api_key)

    with studio_maker(loopback_hub.url, history, client=client, past_runs=0) as make:
        yield make


def _generate(studio: Studio, prompt: str, **params: Any) -> Any:
    studio.form.controls["prompt"].set(prompt)
    for name, value in params.items():
        studio.form.controls[name].set(value)
    run = studio.generate()
    assert studio.wait_idle(30)
    assert run.status == "completed", run.error
    return run


# --- thumbnails ---------------------------------------------------------------------------------


def _noise(size: int) -> Image.Image:
    return Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))


def test_thumbnail_of_a_4096_noise_png_is_a_small_jpeg() -> None:
    buffer = io.BytesIO()
    _noise(4096).save(buffer, format="PNG", compress_level=0)  # ~50 MB: incompressible
    small = thumbnail(buffer.getvalue())
    assert small[:2] == b"\xff\xd8" and len(small) <= MAX_THUMBNAIL_BYTES
    assert max(decode_image(small).size) == images.THUMBNAIL_SIDE


def test_thumbnail_stays_under_the_byte_cap_even_when_asked_for_a_big_one() -> None:
    buffer = io.BytesIO()
    _noise(2048).save(buffer, format="JPEG", quality=95)
    small = thumbnail(buffer.getvalue(), max_side=2048)  # noise at 2K: megabytes as JPEG q85
    assert small[:2] == b"\xff\xd8" and len(small) <= MAX_THUMBNAIL_BYTES
    limited = thumbnail(buffer.getvalue(), max_side=512, max_bytes=20_000)
    assert len(limited) <= 20_000


def test_thumbnail_of_a_big_jpeg_matches_a_full_decode() -> None:
    # The reduced-scale JPEG decode must give the same picture, just cheaper.
    picture = Image.new("RGB", (3000, 2000), (200, 30, 30))
    picture.paste((20, 20, 220), (1500, 0, 3000, 2000))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90)
    small = decode_image(thumbnail(buffer.getvalue(), max_side=300))
    assert small.size == (300, 200)
    left, right = small.getpixel((40, 100)), small.getpixel((260, 100))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert left[0] > 150 and right[2] > 150


def test_thumbnails_and_verification_run_off_the_runner_loop(
    make_studio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, list[threading.Thread]] = {"thumbnail": [], "verify": []}
    real_thumbnail, real_decode = images.thumbnail, client_protocol.decode_image
    shrunk: list[bytes] = []

    def recording_thumbnail(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        threads["thumbnail"].append(threading.current_thread())
        shrunk.append(data)
        return real_thumbnail(data, *args, **kwargs)

    def recording_decode(data: bytes) -> Image.Image:
        threads["verify"].append(threading.current_thread())
        return real_decode(data)

    monkeypatch.setattr(images, "thumbnail", recording_thumbnail)
    monkeypatch.setattr(client_protocol, "decode_image", recording_decode)
    studio = make_studio()
    run = _generate(studio, "two cubes", num_images=2)

    runner_thread = get_runner().thread
    assert len(threads["verify"]) == 2
    # Two thumbnails as the run ends, two card-sized ones from those for the page.
    assert len(threads["thumbnail"]) == 4
    for kind, seen in threads.items():
        assert runner_thread not in seen, f"{kind} ran on the runner's loop thread"
    assert len(run.thumbnails) == 2 and all(t and t[:2] == b"\xff\xd8" for t in run.thumbnails)
    # The card's thumbnails come from the ready-made ones: no full-size image decoded again.
    assert shrunk[2:] == run.thumbnails
    shown = card_thumbs(studio, run.run_id)
    assert len(shown) == 2 and all(t and t[:2] == b"\xff\xd8" for t in shown)
    assert shrunk[4:] == run.thumbnails  # a row asked for later: the same, nothing else


# --- what a finished run keeps in memory -------------------------------------------------------


def test_a_finished_studio_run_holds_thumbnails_not_full_images(make_studio: Any) -> None:
    studio = make_studio()
    run = _generate(studio, "a lighthouse", num_images=2)
    result = run.result
    assert result is not None and len(run.files) == 2

    # Full-size bytes live in the history's files only; nothing decoded is cached.
    assert result._bytes == [] and result._images is None
    assert result.files == run.files and result.image_count == 2
    page = PageRecorder(studio)
    thumbs = card_thumbs(studio, run.run_id)
    assert len(thumbs) == 2 and all(t is not None and len(t) <= 32_000 for t in thumbs)
    assert page.of_type("full") == []
    assert sum(len(b) for _c, buffers in page.messages for b in buffers) < 64_000

    # Everything still works from the files, on demand.
    on_disk = [path.read_bytes() for path in run.files]
    assert result.image_bytes == on_disk
    assert [image.size for image in result.images] == [decode_image(d).size for d in on_disk]
    send(studio, "full", run_id=run.run_id, index=1)
    assert studio.wait_loaded(30)
    ((_answer, buffers),) = [(c, b) for c, b in page.messages if c["type"] == "full"]
    assert buffers == [on_disk[1]]  # read from the file when asked, not kept in memory
    assert result._bytes == []


def test_without_a_history_the_bytes_stay_in_memory(make_studio: Any) -> None:
    studio = make_studio(history=False)
    run = _generate(studio, "a lighthouse")
    assert run.files == [] and run.result is not None
    assert run.result.files == [] and len(run.result._bytes) == 1  # nothing is ever dropped
    assert run.result._images is None and len(run.thumbnails) == 1


def test_a_finished_comparison_holds_thumbnails_not_full_images(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    history = History(tmp_path / "history")
    grid = compare(
        "a lighthouse",
        models=["nano-banana", "nano-banana-2"],
        seeds=[1, 2],
        client=FastClient(base_url=loopback_hub.url),
        history=history,
    ).wait(60)
    runs = [cell.run for cell in grid.cells if cell.run is not None]
    assert len(runs) == 4 and all(run.status == "completed" for run in runs)
    for run in runs:
        assert run.result is not None and run.result._bytes == [] and run.result._images is None
        assert run.result.files == run.files and len(run.thumbnails) == 1
    view = grid._cell_view(0)
    shown = view.image
    assert shown is not None and max(decode_image(shown).size) <= 160
    # The grid's small thumbnail is made from the run's ready-made one: no full image read.
    for run in runs:
        assert run.result is not None and run.result._bytes == [] and run.result._images is None


# --- import -------------------------------------------------------------------------------------


def test_importing_the_package_loads_no_heavy_dependency(tmp_path: Path) -> None:
    heavy = ["httpx", "httpcore", "PIL", "ipywidgets", "traitlets", "IPython", "anyio", "numpy"]
    code = (
        "import json, sys\n"
        "import mountsea_widgets as mw\n"
        "mw.catalog['nano-banana'].defaults()\n"  # the catalog is usable without them
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_a_result_kept_on_disk_reads_its_files_and_says_when_one_is_gone(tmp_path: Path) -> None:
    from mountsea_widgets.result import Result

    pictures = []
    for color in ("red", "blue"):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
        pictures.append(buffer.getvalue())
    result = Result(task_id="hub-1", model="nano-banana", image_bytes=pictures)
    assert result.images[0].getpixel((1, 1)) == (255, 0, 0)
    paths = result.save(tmp_path)
    with pytest.raises(ValueError, match="one per image"):
        result.keep_on_disk(paths[:1])
    with pytest.raises(FileNotFoundError):
        result.keep_on_disk([paths[0], tmp_path / "missing.png"])
    assert result.image_bytes == pictures  # a refused hand-over changes nothing

    result.keep_on_disk(paths)
    assert result._bytes == [] and result._images is None and result.image_count == 2
    assert result.image_bytes == [path.read_bytes() for path in paths]
    assert result.images[1].getpixel((1, 1)) == (0, 0, 255)
    paths[1].unlink()
    result._images = None
    with pytest.raises(FileNotFoundError, match="image 2 of task hub-1"):
        _ = result.image_bytes
