"""Nothing lost: the Studio over a long history, resuming interrupted runs exactly once, loading
a saved image's parameters, exporting and removing runs, the history's size on disk.

The hub is the simulator over real loopback HTTP; widget handlers run in-thread (no kernel).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

import mountsea_widgets as mw
from mountsea_widgets import _recovery as recovery
from mountsea_widgets import _resumption as resumption
from mountsea_widgets import simulator
from mountsea_widgets._journal import Journal
from mountsea_widgets._resumption import SUBMITTING_ELSEWHERE
from mountsea_widgets.history import History, cached_thumbnail
from mountsea_widgets.metadata import read_metadata
from mountsea_widgets.run import INTERRUPTED_MESSAGE, Run, execute, start
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.simulator.hub import ROUTE_TASK
from mountsea_widgets.widgets.studio import RECENT, Studio, human_size
from tests.helpers.images import noise_png, solid_png
from tests.helpers.simulated_client import SPEED, FastClient
from tests.helpers.studios import ask_rows, card_thumbs, record_of
from tests.helpers.views import send

#: Finished runs newer than the pending one (it is far down the list).
OLDER = 40


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.tobytes()


def write_history(folder: Path, count: int) -> History:
    """A history of ``count`` completed runs, one PNG each, written as the journal format says.

    (Written directly, without fsync per record, so thousands of runs take a moment.)
    """
    images = folder / "images"
    images.mkdir(parents=True)
    data = solid_png()
    digest = hashlib.sha256(data).hexdigest()
    lines = []
    for n in range(count):
        run_id = f"run-{n:04d}"
        name = f"images/{run_id}_0.png"
        (folder / name).write_bytes(data)
        t = 1_000.0 + n
        lines += [
            {"v": 1, "op": "start", "run_id": run_id, "model": "nano-banana", "blobs": [],
             "input": {"prompt": f"prompt {n}", "seed": n}, "created": t, "t": t},
            {"v": 1, "op": "submitted", "run_id": run_id, "task_id": f"hub-old-{n}", "t": t},
            {"v": 1, "op": "images", "run_id": run_id, "t": t + 6,
             "files": [{"name": name, "sha256": digest, "bytes": len(data)}]},
            {"v": 1, "op": "finished", "run_id": run_id, "status": "completed", "error": None,
             "elapsed_s": 6.0, "t": t + 6},
        ]  # fmt: skip
    (folder / "journal.jsonl").write_bytes(b"".join(Journal.encode(line) for line in lines))
    return History(folder)


def pending_run(history: History, hub: SimulatorServer, run_id: str, prompt: str) -> str:
    """A run as a crashed kernel leaves it: journalled with its task id, never finished."""
    client = FastClient(base_url=hub.url)
    task_id = asyncio.run(client.submit("nano-banana", {"prompt": prompt}))
    history.start(run_id, "nano-banana", {"prompt": prompt})
    history.submitted(run_id, task_id)
    return task_id


def _prompt(studio: Studio, text: str) -> None:
    studio.form.controls["prompt"].set(text)


# --- a long history opens fast ---------------------------------------------------------------


def _act(studio: Studio, action: str, run: Any, **content: Any) -> None:
    send(studio, "action", action=action, run_id=run.run_id, **content)


def test_a_2000_run_history_opens_at_once_and_decodes_only_the_rows_asked_for(
    tmp_path: Path, make_studio: Any, count_image_opens: list[Any]
) -> None:
    history = write_history(tmp_path / "big", 2000)
    count_image_opens.clear()

    first = make_studio(history=history)
    assert first.wait_loaded(60)
    assert first.run_count == 2000
    assert [r["id"] for r in first.recent] == [
        f"run-{n:04d}" for n in range(1999, 1999 - RECENT, -1)
    ]
    assert count_image_opens == []  # the records need no image
    rows = ask_rows(first, 0, 12)
    assert [row.record["id"] for row in rows] == [f"run-{n:04d}" for n in range(1999, 1987, -1)]
    assert all(len(row.thumbs) == 1 and row.thumbs[0] for row in rows)
    # Only the rows asked for were decoded, once per image, to make their cached thumbnails.
    assert len(count_image_opens) == 12

    count_image_opens.clear()
    again = make_studio(history=History(history.folder))
    assert again.wait_loaded(60)
    rows = ask_rows(again, 0, 12)
    assert all(len(row.thumbs) == 1 and row.thumbs[0] for row in rows)
    assert count_image_opens == []  # a history of thousands reopens without decoding at all

    deep = ask_rows(first, 1500, 1512)  # scrolled far down: no paging clicks
    assert [row.record["id"] for row in deep] == [f"run-{n:04d}" for n in range(499, 487, -1)]
    assert len(count_image_opens) == 12  # those rows only
    known = [row.record["id"] for row in deep]
    again_deep = ask_rows(first, 1500, 1512, have=known)
    assert all(row.thumbs == [] for row in again_deep)  # the page has them: not sent twice


def test_every_run_is_reachable_by_position(tmp_path: Path, make_studio: Any) -> None:
    history = write_history(tmp_path / "h", 30)
    studio = make_studio(history=history)
    assert studio.wait_loaded(30)
    seen = [
        row.record["id"] for start in (0, 12, 24) for row in ask_rows(studio, start, start + 12)
    ]
    assert seen == [f"run-{n:04d}" for n in range(29, -1, -1)]
    assert [run.run_id for run in studio.runs] == seen
    assert ask_rows(studio, 30, 42) == []  # past the end: nothing
    assert len({id(card) for card in studio.cards}) == 30


def test_thumbnails_are_cached_beside_the_images(tmp_path: Path) -> None:
    history = write_history(tmp_path / "h", 1)
    (image,) = history.get("run-0000").files
    small = cached_thumbnail(image, 32)
    assert small is not None and small[:2] == b"\xff\xd8"
    assert (image.parent / ".thumbs" / f"{image.stem}.32.jpg").read_bytes() == small
    assert cached_thumbnail(tmp_path / "missing.png") is None
    with pytest.raises(ValueError, match="max_side"):
        cached_thumbnail(image, 0)


# --- resuming ---------------------------------------------------------------------------------


def test_unfinished_runs_are_resumed_on_opening_even_beyond_the_first_page(
    loopback_hub: SimulatorServer, history: History, make_studio: Any
) -> None:
    task_id = pending_run(history, loopback_hub, "old-pending", "waiting since long ago")
    for n in range(OLDER):  # newer, finished runs push it off the first page
        history.start(f"done-{n}", "nano-banana", {"prompt": f"done {n}"})
        history.finished(f"done-{n}", "failed", error="x")
    submitted = loopback_hub.stats.submitted

    studio = make_studio()
    assert studio.wait_idle(30)
    assert len(studio.cards) == OLDER + 1 and studio.run_count == OLDER + 1
    resumed = studio.runs[-1]
    assert (resumed.run_id, resumed.task_id, resumed.status) == (
        "old-pending",
        task_id,
        "completed",
    )
    assert studio.resumed == [resumed]
    assert len(card_thumbs(studio, "old-pending")) == 1
    assert loopback_hub.stats.submitted == submitted
    entry = history.get("old-pending")
    assert entry.status == "completed" and entry.files and entry.files[0].is_file()


def test_two_studios_in_one_kernel_resume_a_run_once(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    with simulator.serve(speed=12.0) as slow:  # ~0.5 s: still in flight while both open
        FastClient.speed = 12.0
        try:
            task_id = pending_run(history, slow, "crashed", "resume me once")
            made: list[Studio] = []
            builders = [
                threading.Thread(
                    target=lambda: made.append(
                        Studio(
                            client=FastClient(base_url=slow.url), history=History(history.folder)
                        )
                    )
                )
                for _ in range(2)
            ]
            for builder in builders:
                builder.start()
            for builder in builders:
                builder.join(30)
            assert len(made) == 2
            for studio in made:
                assert studio.wait_idle(30)
        finally:
            FastClient.speed = SPEED
        a, b = made
        assert len(a.resumed) + len(b.resumed) == 1
        assert a.runs[0] is b.runs[0]  # one run, one poll loop, two live views
        run = a.runs[0]
        assert (run.task_id, run.status) == (task_id, "completed")
        assert len(card_thumbs(a, run.run_id)) == 1 and len(card_thumbs(b, run.run_id)) == 1
        assert slow.stats.submitted == 1
        for studio in made:
            studio.close()
    records = Journal(history.folder / "journal.jsonl").read_all()
    assert [r["op"] for r in records if r.get("run_id") == "crashed"] == [
        "start",
        "submitted",
        "images",
        "finished",
    ]


def test_a_run_polled_by_another_session_is_not_polled_here_until_resumed(
    tmp_path: Path,
) -> None:
    history = History(tmp_path / "history")
    with simulator.serve(speed=SPEED) as hub:
        task_id = pending_run(history, hub, "elsewhere", "someone else polls me")
        lease = recovery.acquire(history, "elsewhere")  # as another kernel would hold it
        assert lease is not None
        polls = hub.stats.requests[ROUTE_TASK]
        studio = Studio(client=FastClient(base_url=hub.url), history=history)
        try:
            assert studio.wait_idle(30)
            (cell,) = studio.cards
            assert (cell.run.status, cell.run.task_id) == ("pending", task_id)
            assert hub.stats.requests[ROUTE_TASK] == polls  # not polled from here
            assert recovery.POLLED_ELSEWHERE in cell.run.warnings
            record = record_of(studio, cell.run)
            assert "Another Python session" in record["note"]
            assert "resume" in record["actions"]
            assert history.get("elsewhere").is_pending

            lease.release()  # that session died
            _act(studio, "resume", cell.run)
            assert studio.wait_idle(30)
            assert cell.run.status == "completed", cell.run.error
            assert history.get("elsewhere").status == "completed"
            assert hub.stats.submitted == 1
            assert recovery.POLLED_ELSEWHERE not in cell.run.warnings
            assert "taken over" in record_of(studio, cell.run)["note"]
        finally:
            lease.release()
            studio.close()


class Switchable(httpx.AsyncBaseTransport):
    """A hub that can be made unreachable (every request: connection refused)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused (test)", request=request)
        return await self.inner.handle_async_request(request)


def test_a_resume_that_fails_keeps_the_task_and_offers_resume(history: History) -> None:
    network = Switchable(simulator.transport(simulator.Hub(speed=SPEED)))
    client = FastClient(base_url="http://hub.test", transport=network, max_retries=0)
    task_id = asyncio.run(client.submit("nano-banana", {"prompt": "the hub is away"}))
    history.start("away", "nano-banana", {"prompt": "the hub is away"})
    history.submitted("away", task_id)

    network.down = True  # the kernel restarts while the network is gone
    studio = Studio(client=client, history=history)
    try:
        assert studio.wait_idle(30)
        (cell,) = studio.cards
        assert studio.resumed == [cell.run]
        assert (cell.run.status, cell.run.resumable) == ("error", True)
        record = record_of(studio, cell.run)
        assert "APIConnectionError" in record["error"]
        assert "resume" in record["actions"]
        assert history.get("away").is_pending  # the task id is not forgotten

        network.down = False
        _act(studio, "resume", cell.run)
        assert studio.wait_idle(30)
        assert cell.run.status == "completed", cell.run.error
        assert len(card_thumbs(studio, "away")) == 1
        assert "resume" not in record_of(studio, cell.run)["actions"]
        assert history.get("away").status == "completed"
    finally:
        studio.close()


def test_a_run_finished_by_another_session_meanwhile_is_not_polled_again(
    tmp_path: Path, loopback_hub: SimulatorServer
) -> None:
    history = History(tmp_path / "history")
    pending_run(history, loopback_hub, "raced", "finished elsewhere")
    entry = history.get("raced")
    image = solid_png()
    other = History(history.folder)  # the other kernel finishes it first
    (path,) = other.images("raced", [(image, "image/png")])
    other.finished("raced", "completed", elapsed_s=2.0)
    polls = loopback_hub.stats.requests[ROUTE_TASK]

    from mountsea_widgets.run import run_from_entry

    run = run_from_entry(entry)
    asyncio.run(execute(run, FastClient(base_url=loopback_hub.url), history))
    assert (run.status, run.files) == ("completed", [path])
    assert loopback_hub.stats.requests[ROUTE_TASK] == polls


def test_a_run_without_a_task_id_shows_interrupted_and_is_never_sent(
    loopback_hub: SimulatorServer, history: History, make_studio: Any
) -> None:
    history.start("lost", "nano-banana", {"prompt": "the kernel died while submitting"})
    submitted = loopback_hub.stats.submitted

    studio = make_studio()
    assert studio.wait_idle(30)
    (cell,) = studio.cards
    assert cell.run.status == "interrupted" and cell.run.error == INTERRUPTED_MESSAGE
    record = record_of(studio, cell.run)
    assert record["status"] == "interrupted" and "never reached the hub" in record["error"]
    assert "resume" not in record["actions"] and "cancel" not in record["actions"]
    assert studio.resumed == [] and loopback_hub.stats.submitted == submitted
    assert history.get("lost").status == "created"  # the journal is left as it was


def test_an_unfinished_run_this_version_cannot_rebuild_is_named_with_its_task(
    history: History, make_studio: Any
) -> None:
    history.start("gone", "a-model-since-retired", {"prompt": "still on the hub"})
    history.submitted("gone", "hub-retired-1")

    studio = make_studio()
    assert studio.wait_loaded(30)

    # Shown read-only, saying why and naming its task; never resumed here.
    (cell,) = studio.cards
    assert studio.resumed == [] and cell.run.status == "error"
    assert cell.run.error is not None
    assert "hub-retired-1" in cell.run.error and "Client().wait" in cell.run.error
    assert history.get("gone").is_pending


def test_a_run_being_submitted_by_another_session_is_not_called_interrupted(
    history: History, make_studio: Any
) -> None:
    history.start("busy", "nano-banana", {"prompt": "submitting in another kernel"})
    lease = recovery.acquire(history, "busy")
    assert lease is not None
    with lease:
        studio = make_studio()
        assert studio.wait_loaded(30)
        (cell,) = studio.cards
        assert cell.run.status == "submitting"
        assert SUBMITTING_ELSEWHERE in record_of(studio, cell.run)["note"]
        assert studio.resumed == []


def test_a_lease_is_exclusive_and_dies_with_its_process(tmp_path: Path) -> None:
    history = History(tmp_path / "history")
    first = recovery.acquire(history, "r1")
    assert first is not None
    assert recovery.acquire(history, "r1") is None  # even within one process
    assert recovery.held_elsewhere(history, "r1")
    first.release()
    first.release()  # idempotent
    assert not recovery.held_elsewhere(history, "r1")

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from mountsea_widgets.history import History\n"
            "from mountsea_widgets import _recovery as recovery\n"
            f"lease = recovery.acquire(History({str(history.folder)!r}), 'r2')\n"
            "print('held' if lease else 'busy', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert recovery.acquire(history, "r2") is None
        holder.kill()  # SIGKILL: nothing runs in it, the OS drops its lock
        holder.wait(10)
        mine = recovery.acquire(history, "r2")
        assert mine is not None
        mine.release()
    finally:
        holder.kill()
        holder.wait(10)


def test_the_live_registry_is_per_history_folder(tmp_path: Path) -> None:
    one, two = History(tmp_path / "one"), History(tmp_path / "two")
    for history in (one, two):
        history.start("same-id", "nano-banana", {"prompt": "x"})
        history.submitted("same-id", "hub-1")
    run_one, fresh_one = resumption.adopt(one, one.get("same-id"))
    again, fresh_again = resumption.adopt(one, one.get("same-id"))
    run_two, fresh_two = resumption.adopt(two, two.get("same-id"))
    assert (fresh_one, fresh_again, fresh_two) == (True, False, True)
    assert again is run_one and run_two is not run_one
    assert recovery.live_run(one, "same-id") is run_one


# --- loading a saved image's parameters --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_load_image_puts_a_saved_runs_model_and_input_back_in_the_form(
    fmt: str, make_studio: Any, tmp_path: Path
) -> None:
    studio = make_studio("nano-banana-2")
    _prompt(studio, f"a {fmt} lighthouse, 'quoted' & <b>bold</b>")
    studio.form.controls["aspect_ratio"].set("4:1")
    studio.form.controls["seed"].set(77)
    studio.form.controls["output_format"].set(fmt)
    run = studio.generate()
    assert studio.wait_idle(30)
    assert run.status == "completed", run.error
    (saved,) = studio.cards[0].save(tmp_path / "out")
    (kept,) = run.files  # the history's own copy carries the same metadata

    for path in (saved, kept):
        studio.model = "gpt-image-2"
        _prompt(studio, "something else")
        meta = studio.load_image(path)
        assert meta["task_id"] == run.task_id
        assert studio.model == "nano-banana-2" == studio.form.model
        assert studio.form.value() == run.input
        assert "Loaded nano-banana-2 parameters" in studio.load_message
        assert not studio.load_error


def test_load_parameters_button_and_its_errors_next_to_it(make_studio: Any, tmp_path: Path) -> None:
    studio = make_studio()
    send(studio, "load", path="")
    assert "Type the path" in studio.load_message and studio.load_error

    plain = tmp_path / "<i>plain.png"
    plain.write_bytes(solid_png())
    send(studio, "load", path=str(plain))
    message = studio.load_message
    assert "no mountsea-widgets metadata" in message and studio.load_error
    assert "<i>plain.png" in message  # text: the page shows it as it is, never as markup
    assert studio.form.model == "nano-banana"  # nothing changed

    studio.load_path = str(tmp_path / "missing.png")  # as the page sets the field
    send(studio, "load")
    assert "missing.png" in studio.load_message and "Errno" not in studio.load_message

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    send(studio, "load", path=str(text))
    assert "not a PNG, JPEG or WebP" in studio.load_message

    result = mw.generate(
        "nano-banana", "via the button", seed=3, client=FastClient(base_url=studio.client.base_url)
    )
    (path,) = result.save(tmp_path / "gen")
    send(studio, "load", path=str(path))
    assert "Loaded nano-banana parameters" in studio.load_message and not studio.load_error
    # What was sent, and the model's defaults for what was left out.
    assert studio.form.value() == {**mw.catalog["nano-banana"].defaults(), **result.input}


def test_reference_images_too_long_to_embed_come_from_the_history_or_are_named(
    make_studio: Any, tmp_path: Path, history: History
) -> None:
    reference = "data:image/png;base64," + base64.b64encode(noise_png((64, 64))).decode()
    assert len(reference) > 4096
    studio = make_studio("nano-banana-edit")
    _prompt(studio, "edit this")
    studio.form.controls["image_urls"].set([reference])
    run = studio.generate()
    assert studio.wait_idle(30)
    assert run.status == "completed", run.error
    (path,) = studio.cards[0].save(tmp_path / "out")
    assert read_metadata(path)["input_omitted"] == ["image_urls[0]"]

    studio.model = "nano-banana"
    studio.load_image(path)  # the history still has the run: the whole input comes back
    assert studio.form.value() == run.input

    elsewhere = make_studio(history=History(tmp_path / "other-history"))
    elsewhere.load_image(path)
    assert elsewhere.form.model == "nano-banana-edit"
    assert "image_urls" not in elsewhere.form.value()  # never the placeholder note
    assert "add them again: image_urls" in elsewhere.load_message


def test_a_saved_images_metadata_reproduces_its_run_through_read_metadata(
    loopback_hub: SimulatorServer, tmp_path: Path
) -> None:
    client = FastClient(base_url=loopback_hub.url)
    for fmt in ("png", "jpeg", "webp"):
        first = mw.generate(
            "nano-banana", f"a {fmt} kite", seed=11, num_images=2, output_format=fmt, client=client
        )
        paths = first.save(tmp_path / fmt)
        assert len(paths) == 2
        meta = mw.read_metadata(paths[1])
        assert (meta["model"], meta["task_id"], meta["index"]) == ("nano-banana", first.task_id, 1)

        again = mw.generate(meta["model"], client=client, **meta["input"])

        assert json.dumps(again.input, sort_keys=True) == json.dumps(first.input, sort_keys=True)
        assert again.task_id != first.task_id
        # The simulator renders the same images (the files differ only in their metadata).
        assert [pixels(data) for data in again.image_bytes] == [
            pixels(data) for data in first.image_bytes
        ]


# --- managing the history ----------------------------------------------------------------------


def test_export_selected_writes_only_the_selected_runs_with_an_index(
    make_studio: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    studio = make_studio()
    send(studio, "export")
    assert "Select runs" in studio.history_message and studio.history_error  # none selected

    runs = []
    for prompt in ("first", "second, with a comma", "=third"):
        _prompt(studio, prompt)
        runs.append(studio.generate())
    assert studio.wait_idle(30)
    newest, middle, oldest = studio.cards
    send(studio, "action", action="select", run_id=newest.run_id, on=True)
    send(studio, "action", action="select", run_id=oldest.run_id, on=True)
    assert studio.selected_count == 2 and record_of(studio, newest.run)["selected"]
    studio.export_folder = "exported"  # as the page sets the field
    send(studio, "export")

    folder = tmp_path / "exported"
    index = json.loads((folder / "index.json").read_text())
    wanted = [newest.run, oldest.run]
    assert [row["run_id"] for row in index["runs"]] == [run.run_id for run in wanted]
    assert [row["prompt"] for row in index["runs"]] == ["=third", "first"]
    with (folder / "index.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["run_id"] for row in rows] == [run.run_id for run in wanted]
    assert rows[0]["prompt"] == "'=third"  # no formula injection in spreadsheets
    images = sorted(p.name for p in folder.iterdir() if p.suffix == ".png")
    assert images == sorted(f.name for run in wanted for f in run.files)
    assert middle.run.files[0].name not in images
    assert "Exported 2 run(s), 2 image(s)" in studio.history_message
    assert str(folder) in studio.history_message and not studio.history_error

    version = studio.selection_version
    send(studio, "select_all", on=True)
    assert len(studio.selected()) == 3 and studio.selected_count == 3
    assert studio.selection_version == version + 1  # the page redraws the rows it shows
    assert all(record["selected"] for record in studio.recent)
    send(studio, "select_all", on=False)
    assert studio.selected() == [] and studio.selected_count == 0


def test_export_into_the_history_itself_is_refused_visibly(
    make_studio: Any, history: History
) -> None:
    studio = make_studio()
    _prompt(studio, "x")
    studio.generate()
    assert studio.wait_idle(30)
    studio.select_all()
    assert studio.export_selected(history.folder / "inside") is None
    assert "outside the history folder" in studio.history_message and studio.history_error


def test_the_size_on_disk_is_shown_and_follows_runs_and_removals(
    make_studio: Any, history: History
) -> None:
    studio = make_studio()
    assert studio.wait_loaded(30)
    assert "0 runs" in studio.history_info

    _prompt(studio, "grow")
    studio.form.controls["num_images"].set(2)
    run = studio.generate()
    assert studio.wait_idle(30)
    grown = history.size_bytes()
    label = studio.history_info
    assert "1 run ·" in label and f"{human_size(grown)} on disk" in label
    assert str(history.folder) in label

    files = list(run.files)
    assert len(files) == 2 and all(f.is_file() for f in files)
    _act(studio, "remove", run)
    assert studio.wait_loaded(30)
    assert run.run_id not in history
    assert not any(f.exists() for f in files)  # the images went with the entry
    assert history.size_bytes() < grown
    assert f"0 runs · {human_size(history.size_bytes())}" in studio.history_info


def test_removing_a_running_run_leaves_no_ghost_in_the_history(
    history: History, make_studio: Any
) -> None:
    with simulator.serve(speed=0.01) as slow:
        studio = make_studio(url=slow.url)
        _prompt(studio, "remove me while I run")
        run = studio.generate()
        submitted = threading.Event()
        run.observe(lambda r: submitted.set() if r.task_id else None)
        if run.task_id:
            submitted.set()
        assert submitted.wait(30)
        _act(studio, "remove", run)
        assert run.wait(30) and run.status == "cancelled"
    assert studio.cards == [] and studio.run_count == 0
    assert run.run_id not in History(history.folder)  # the late 'finished' is ignored
    assert History(history.folder).entries() == []


def test_records_for_a_removed_run_are_ignored_and_its_late_images_not_kept(
    history: History,
) -> None:
    history.start("gone", "nano-banana", {"prompt": "x"})
    history.submitted("gone", "hub-1")
    history.remove("gone")
    history.finished("gone", "cancelled", error="late")
    assert history.images("gone", [(solid_png(), "image/png")]) == []
    assert "gone" not in history and "gone" not in History(history.folder)
    assert not (history.folder / "images").exists() or not any(
        (history.folder / "images").glob("gone*")
    )
    history.start("gone", "nano-banana", {"prompt": "a new run under the same id"})
    assert History(history.folder).get("gone").prompt == "a new run under the same id"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1500, "1.5 kB"),
        (250_000, "250 kB"),
        (12_345_678, "12.3 MB"),
        (1_020_000_000, "1.02 GB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_start_without_a_studio_also_takes_the_lease(
    tmp_path: Path, loopback_hub: SimulatorServer
) -> None:
    """Comparisons and the magic journal runs too: a Studio must never resume those."""
    history = History(tmp_path / "history")
    with simulator.serve(speed=0.01) as slow:
        run = Run("nano-banana", {"prompt": "a magic run"})
        future = start(run, FastClient(base_url=slow.url), history)
        got_id = threading.Event()
        run.observe(lambda r: got_id.set() if r.task_id else None)
        if run.task_id:
            got_id.set()
        assert got_id.wait(30)
        assert recovery.held_elsewhere(history, run.run_id)
        assert recovery.live_run(history, run.run_id) is run
        studio = Studio(client=FastClient(base_url=slow.url), history=History(history.folder))
        try:
            assert studio.wait_loaded(30)
            assert studio.resumed == [] and studio.runs == [run]
        finally:
            run.cancel()
            run.wait(30)
            studio.close()
        assert future.cancelled()
        # The cancel is shown at once; the run's coroutine lets go of the lease as it unwinds
        # on the runner loop, a moment later.
        released = threading.Event()
        for _ in range(200):
            if not recovery.held_elsewhere(history, run.run_id):
                break
            released.wait(0.05)
    assert not recovery.held_elsewhere(history, run.run_id)
