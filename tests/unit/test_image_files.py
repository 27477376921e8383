"""Saved image files: one writer for Result.save, the Studio's Save and the history.

Every file a run's images are written to carries the same metadata (run id and created time
included), a name that keeps its image number and cannot collide with another id's, and no
save ever overwrites a file. The hub is the simulator core behind an in-process transport with
a manual clock, so a run finishes at once.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets.client import AsyncClient
from mountsea_widgets.history import History
from mountsea_widgets.result import Result
from mountsea_widgets.run import Run, execute, run_from_entry, save_run
from mountsea_widgets.simulator import Hub, ManualClock

#: The metadata every saved image carries, whichever way it was saved.
KEYS = {"model", "input", "task_id", "run_id", "created", "index"}


def encode(color: str, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), color).save(buffer, format=fmt)
    return buffer.getvalue()


def three_images(task_id: str) -> Result:
    return Result(
        task_id=task_id,
        model="nano-banana",
        input={"prompt": "three cubes"},
        image_bytes=[encode("red"), encode("green"), encode("blue", "JPEG")],
        content_types=["image/png", "image/png", "image/jpeg"],
    )


def one_image(task_id: str, color: str) -> Result:
    return Result(
        task_id=task_id,
        model="nano-banana",
        image_bytes=[encode(color)],
        content_types=["image/png"],
    )


def pixels(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.convert("RGB").tobytes()


def completed_run(tmp_path: Path, images: int = 2) -> tuple[Run, History]:
    """A run carried out against the simulator and journalled in a history in ``tmp_path``."""
    clock = ManualClock(start=1_000_000.0)
    hub = Hub(clock=clock)

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    client = AsyncClient(
        base_url="http://hub.test", transport=simulator.transport(hub), sleep=sleep, clock=clock
    )
    history = History(tmp_path / "history")
    run = Run("nano-banana", {"prompt": "a red cube", "num_images": images}, clock=clock)

    async def go() -> None:
        try:
            await execute(run, client, history, tick_s=0.001)
        finally:
            await client.aclose()

    asyncio.run(go())
    assert run.status == "completed", run.error
    return run, history


# --- names that never collide --------------------------------------------------------------------


@pytest.mark.parametrize("length", [118, 200, 5000])
def test_a_long_task_id_with_three_images_saves_three_files(tmp_path: Path, length: int) -> None:
    result = three_images("t" * length)

    paths = result.save(tmp_path)

    assert len(set(paths)) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    for number, path in enumerate(paths, 1):
        assert path.stem.endswith(f"_{number}"), path.name  # the image number is never cut
        assert len(path.name) <= 120
        assert read_index(path) == number - 1
    assert pixels(paths[0]) != pixels(paths[1])


def read_index(path: Path) -> int:
    index = mw.read_metadata(path)["index"]
    assert isinstance(index, int)
    return index


def test_ids_that_clean_to_the_same_name_do_not_overwrite_each_other(tmp_path: Path) -> None:
    (first,) = one_image("job/1", "red").save(tmp_path)
    (second,) = one_image("job:1", "blue").save(tmp_path)
    (third,) = one_image("job_1", "green").save(tmp_path)

    assert len(list(tmp_path.iterdir())) == 3
    assert {mw.read_metadata(p)["task_id"] for p in (first, second, third)} == {
        "job/1",
        "job:1",
        "job_1",
    }
    assert third.name == "job_1_1.png"  # an id that needs no cleaning keeps its plain name
    for path in (first, second, third):
        assert path.parent == tmp_path


def test_the_same_long_ids_through_save_run_keep_every_image(tmp_path: Path) -> None:
    run, _history = completed_run(tmp_path, images=3)
    run.task_id = "x" * 300
    assert run.result is not None
    run.result.task_id = run.task_id

    paths = save_run(run, tmp_path / "out")

    assert len(set(paths)) == 3 and len(list((tmp_path / "out").iterdir())) == 3


# --- never overwrite -----------------------------------------------------------------------------


def test_saving_the_same_run_twice_neither_duplicates_nor_overwrites(tmp_path: Path) -> None:
    run, _history = completed_run(tmp_path)
    folder = tmp_path / "out"

    first = save_run(run, folder)
    stamps = [path.read_bytes() for path in first]
    again = save_run(run, folder)
    assert run.result is not None
    by_result = run.result.save(folder)

    assert again == first == by_result
    assert sorted(folder.iterdir()) == sorted(first)
    assert [path.read_bytes() for path in first] == stamps


def test_a_different_file_under_the_same_name_is_kept_and_the_image_saved_beside_it(
    tmp_path: Path,
) -> None:
    result = three_images("hub-7")
    taken = tmp_path / "hub-7_1.png"
    taken.write_bytes(b"somebody else's picture")

    paths = result.save(tmp_path)

    assert taken.read_bytes() == b"somebody else's picture"
    assert paths[0].name == "hub-7_1-2.png"
    assert [p.name for p in paths[1:]] == ["hub-7_2.png", "hub-7_3.jpg"]
    assert mw.read_metadata(paths[0])["task_id"] == "hub-7"
    # Saving again finds its own files (same bytes): nothing new is written.
    assert result.save(tmp_path) == paths
    assert len(list(tmp_path.iterdir())) == 4


@pytest.mark.parametrize("task_id", [None, "..", "job/1"])
def test_a_run_rebuilt_from_the_history_saves_the_same_names(
    tmp_path: Path, task_id: str | None
) -> None:
    run, history = completed_run(tmp_path)
    if task_id is not None:  # as if the hub had answered with this id
        assert run.result is not None
        history.submitted(run.run_id, task_id)
        run.task_id = run.result.task_id = task_id
    rebuilt = run_from_entry(history.get(run.run_id))
    assert rebuilt.result is None

    from_memory = save_run(run, tmp_path / "a")
    from_history = save_run(rebuilt, tmp_path / "b")

    assert [p.name for p in from_history] == [p.name for p in from_memory]
    for ours, theirs in zip(from_memory, from_history, strict=True):
        assert mw.read_metadata(ours) == mw.read_metadata(theirs)


# --- the same metadata everywhere ----------------------------------------------------------------


def test_every_writer_embeds_the_same_metadata_with_the_run_id_and_time(tmp_path: Path) -> None:
    run, history = completed_run(tmp_path)
    assert run.result is not None
    written = {
        "history": history.get(run.run_id).files,
        "save_run": save_run(run, tmp_path / "studio"),
        "result": run.result.save(tmp_path / "result"),
    }

    seen: dict[str, list[dict[str, Any]]] = {}
    for writer, paths in written.items():
        assert len(paths) == 2, writer
        seen[writer] = [mw.read_metadata(path) for path in paths]
        for index, meta in enumerate(seen[writer]):
            assert set(meta) >= KEYS, (writer, sorted(meta))
            assert meta["run_id"] == run.run_id, writer
            assert meta["created"] == run.started, writer
            assert meta["task_id"] == run.task_id, writer
            assert meta["index"] == index, writer
            assert meta["input"] == run.input, writer
            assert meta["model"] == "nano-banana", writer
    assert seen["history"] == seen["save_run"] == seen["result"]


def test_a_bare_results_files_still_carry_a_created_time(tmp_path: Path) -> None:
    result = three_images("hub-3")

    metas = [mw.read_metadata(path) for path in result.save(tmp_path)]

    assert [meta["index"] for meta in metas] == [0, 1, 2]
    for meta in metas:
        assert set(meta) >= KEYS
        assert meta["run_id"] is None  # no run: the client was used on its own
        assert meta["created"] == result.created


def test_exporting_never_overwrites_a_file_in_the_target(tmp_path: Path) -> None:
    run, history = completed_run(tmp_path)
    sources = history.get(run.run_id).files
    target = tmp_path / "export"
    target.mkdir()
    foreign = target / sources[0].name
    foreign.write_bytes(b"a file that was there before")

    history.export([run.run_id], target)
    history.export([run.run_id], target)  # again: the copies are found, not made twice

    assert foreign.read_bytes() == b"a file that was there before"
    index = json.loads((target / "index.json").read_text())
    names = index["runs"][0]["files"]
    assert names == [f"{sources[0].stem}-2{sources[0].suffix}", sources[1].name]
    for name, source in zip(names, sources, strict=True):
        assert (target / name).read_bytes() == source.read_bytes()
    assert len(list(target.iterdir())) == 2 + 3  # the index files, the foreign one, 2 copies


def test_a_link_planted_under_the_name_is_neither_followed_nor_reused(tmp_path: Path) -> None:
    result = one_image("hub-9", "red")
    elsewhere = tmp_path / "elsewhere.png"
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "hub-9_1.png").symlink_to(elsewhere)  # dangling: a write through it would land there

    (path,) = result.save(folder)

    assert path.name == "hub-9_1-2.png" and not path.is_symlink()
    assert not elsewhere.exists()
    elsewhere.write_bytes(path.read_bytes())  # now the link points at the very same bytes
    assert result.save(folder) == [path]  # the real copy is found; the link is not handed back
