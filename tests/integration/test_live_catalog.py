"""The live catalog end to end, against simulators on loopback that list more than the bundle.

The extended simulator (``with_extras()``) lists a model the bundled catalog does not know
(``nano-banana-lite``) and accepts a new aspect ratio of nano-banana (``2:1``), on its model
endpoints and on submit. Each test starts from the bundled catalog, as a new process would,
with a cache folder of its own.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import mountsea_widgets as mw
from mountsea_widgets import simulator
from mountsea_widgets._live_cache import Cache
from mountsea_widgets._live_catalog import LiveCatalog, live
from mountsea_widgets.catalog import catalog, load_catalog
from mountsea_widgets.errors import BadRequestError, LiveCatalogWarning, ValidationError
from mountsea_widgets.simulator import SimulatorServer
from mountsea_widgets.simulator.live_models import EXTRA_MODEL, with_extras
from tests.helpers.simulated_client import SPEED, FastClient

LIST = "GET /hub/v1/models"
DETAIL = "GET /hub/v1/models/{id}"
KEY = "sk-live-catalog-0077"


@pytest.fixture(scope="module")
def extended_hub() -> Iterator[SimulatorServer]:
    """A simulator listing and accepting the extras."""
    with simulator.serve(speed=SPEED, catalog=with_extras()) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The bundled catalog and a cache folder of the test's own, before and after each test."""
    monkeypatch.setenv("MOUNTSEA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(tmp_path / "history"))
    live.reset(catalog)
    yield
    live.reset(catalog)


def model_requests(server: SimulatorServer) -> int:
    return server.hub.stats.requests[LIST]


def recorded() -> warnings.catch_warnings[list[warnings.WarningMessage]]:
    return warnings.catch_warnings(record=True)


def live_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, LiveCatalogWarning)]


# --- from code ---------------------------------------------------------------------------------


def test_a_model_only_the_hub_lists_is_generated_from_code(
    extended_hub: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOUNTSEA_BASE_URL", extended_hub.url)
    assert EXTRA_MODEL not in catalog
    before = model_requests(extended_hub)
    result = mw.generate(EXTRA_MODEL, "a paper boat", aspect_ratio="2:1", seed=3, history=False)
    assert result.model == EXTRA_MODEL and result.status == "completed"
    assert result.images[0].size == (1024, 512)  # the hub rendered the 2:1 it was sent
    assert EXTRA_MODEL in catalog and model_requests(extended_hub) == before + 1
    again = mw.generate(EXTRA_MODEL, "a second boat", history=False)  # no second fetch
    assert again.status == "completed" and model_requests(extended_hub) == before + 1


def test_a_new_value_is_accepted_after_the_refresh_and_diff_reports_both(
    extended_hub: SimulatorServer,
) -> None:
    with pytest.raises(ValidationError, match="aspect_ratio"):
        catalog["nano-banana"].validate({"prompt": "x", "aspect_ratio": "2:1"})
    client = mw.Client(base_url=extended_hub.url)
    diff = mw.catalog.refresh(client)
    assert diff.new_models == [EXTRA_MODEL]
    assert diff.new_values == {"nano-banana.aspect_ratio": ["2:1"]}
    assert diff is mw.catalog.diff()
    text = str(mw.catalog.diff())
    assert "new model: nano-banana-lite" in text and "nano-banana.aspect_ratio: 2:1" in text
    assert "nano-banana-lite" in mw.catalog.diff()._repr_html_()
    result = mw.generate(
        "nano-banana", "a wide field", aspect_ratio="2:1", client=client, history=False
    )
    assert result.images[0].size == (1024, 512)
    client.close()


def test_a_refused_value_loads_the_live_catalog_once_per_process(
    extended_hub: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOUNTSEA_BASE_URL", extended_hub.url)
    before = model_requests(extended_hub)
    result = mw.generate("nano-banana", "a wide field", aspect_ratio="2:1", history=False)
    assert result.status == "completed" and model_requests(extended_hub) == before + 1
    with pytest.raises(ValidationError, match=r"aspect_ratio: '7:1' is not allowed"):
        mw.generate("nano-banana", "a wide field", aspect_ratio="7:1", history=False)
    with pytest.raises(ValidationError, match="unknown model"):
        mw.generate("nano-banana-huge", "x", history=False)
    assert model_requests(extended_hub) == before + 1  # asked once, not on every refusal


def test_offline_the_bundled_catalog_is_used_and_nothing_is_fetched() -> None:
    embedded = simulator.embedded()
    before = model_requests(embedded)
    with pytest.raises(ValidationError, match="unknown model"):
        mw.generate(EXTRA_MODEL, "a paper boat", history=False)
    with pytest.raises(ValidationError, match="aspect_ratio"):
        mw.generate("nano-banana", "x", aspect_ratio="2:1", history=False)
    assert model_requests(embedded) == before
    assert str(mw.catalog.diff()).startswith("Source: bundled catalog only")


def test_the_key_goes_to_the_hub_and_never_into_the_cache(tmp_path: Path) -> None:
    with simulator.serve(speed=SPEED, catalog=with_extras(), api_key=KEY) as hub:
        keyless = mw.Client(base_url=hub.url)
        with recorded() as caught:
            warnings.simplefilter("always")
            mw.catalog.refresh(keyless)
        assert live_warnings(caught) == [
            "the live model list was not fetched: the hub refused the API key (HTTP 401 for "
            "/hub/v1/models); check MOUNTSEA_API_KEY or the client's api_key; the bundled "
            "catalog is used (mw.catalog.refresh() tries again)"
        ]
        keyless.close()
        with mw.Client(api_key=KEY, base_url=hub.url) as client:
            assert mw.catalog.refresh(client).new_models == [EXTRA_MODEL]
    files = list((tmp_path / "cache").rglob("*"))
    assert [f.suffix for f in files if f.is_file()] == [".json"]
    for file in files:
        if file.is_file():
            assert KEY not in file.read_text("utf-8")


def test_a_value_the_hub_no_longer_lists_is_flagged_and_the_hub_decides() -> None:
    hub = simulator.serve(speed=SPEED, catalog=with_extras(retire=True))
    with hub, mw.Client(base_url=hub.url) as client:
        diff = mw.catalog.refresh(client)
        assert diff.retired_values == {"nano-banana.output_format": ["webp"]}
        assert "no longer listed by the hub (still accepted)" in str(diff)
        spec = catalog["nano-banana"].param("output_format")
        assert spec.check("webp") == ("webp", None) and "no longer lists webp" in spec.note
        with recorded() as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                with pytest.raises(BadRequestError, match="output_format"):
                    mw.generate(
                        "nano-banana", "x", output_format="webp", client=client, history=False
                    )
        messages = live_warnings(caught)
        assert len(messages) == 1 and "output_format='webp' is no longer listed" in messages[0]
        assert hub.hub.stats.rejections == 2  # sent as asked: the hub refused it


# --- from the Studio ---------------------------------------------------------------------------


def test_a_studio_opened_on_a_model_only_the_hub_lists_generates_it(
    extended_hub: SimulatorServer,
) -> None:
    studio = mw.Studio(EXTRA_MODEL, client=FastClient(base_url=extended_hub.url), history=False)
    try:
        assert studio.form.model == EXTRA_MODEL
        assert list(studio.form.controls) == [
            "prompt",
            "seed",
            "aspect_ratio",
            "num_images",
            "fast_mode",
        ]
        assert studio.form.controls["prompt"].set("a paper boat")
        assert studio.form.controls["aspect_ratio"].set("2:1")
        run = studio.generate()
        assert studio.wait_idle(60)
        assert run.status == "completed", run.error
        assert run.result is not None and run.result.images[0].size == (1024, 512)
    finally:
        studio.close()


def test_a_studio_lists_new_models_and_values_once_the_live_catalog_arrives(
    extended_hub: SimulatorServer,
) -> None:
    studio = mw.Studio("nano-banana", client=FastClient(base_url=extended_hub.url), history=False)
    try:
        assert studio.wait_loaded(60)
        assert EXTRA_MODEL in [value for _label, value in studio.models]
        assert studio.form.controls["aspect_ratio"].set("2:1")  # the rebuilt dropdown has it
        studio.model = EXTRA_MODEL
        assert studio.form.model == EXTRA_MODEL and studio.form.controls["fast_mode"].value
        assert "Nano Banana Lite" in studio.summary
        studio.form.controls["prompt"].set("a paper boat <b>bold</b>")
        run = studio.generate()
        assert studio.wait_idle(60)
        assert run.status == "completed", run.error
    finally:
        studio.close()


# --- falling back ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"models_layout": "unknown"}, "in a layout this version cannot read"),
        ({"models_error": 503}, "the hub answered HTTP 503"),
    ],
    ids=["unknown-layout", "failing-endpoint"],
)
def test_a_hub_that_cannot_be_read_leaves_the_bundled_catalog_with_one_warning(
    options: dict[str, object], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with simulator.serve(speed=SPEED, catalog=with_extras(), **options) as hub:
        monkeypatch.setenv("MOUNTSEA_BASE_URL", hub.url)
        with recorded() as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValidationError, match="unknown model"):
                mw.generate(EXTRA_MODEL, "a paper boat", history=False)
            with pytest.raises(ValidationError, match="aspect_ratio"):
                mw.generate("nano-banana", "x", aspect_ratio="2:1", history=False)
            result = mw.generate("nano-banana", "a red cube", history=False)
        assert result.status == "completed"  # the bundled catalog still works
        messages = live_warnings(caught)
        assert len(messages) == 1 and reason in messages[0], messages
        assert list(catalog) == list(catalog.bundled)
        assert reason in str(mw.catalog.diff())


def test_the_cache_is_used_while_fresh_and_expires(
    extended_hub: SimulatorServer, tmp_path: Path
) -> None:
    now = [5_000.0]
    cache = Cache(tmp_path / "own-cache", ttl_s=3600, clock=lambda: now[0])
    client = mw.Client(base_url=extended_hub.url)
    try:
        before = model_requests(extended_hub)
        first = load_catalog()
        source = LiveCatalog(cache)
        assert source.ensure(first, client) and EXTRA_MODEL in first
        assert model_requests(extended_hub) == before + 1

        fresh = load_catalog()  # a new process within the hour: the cache answers
        assert LiveCatalog(cache).ensure(fresh, client) and EXTRA_MODEL in fresh
        assert model_requests(extended_hub) == before + 1

        now[0] += 3601  # an hour later: asked again
        later = load_catalog()
        assert LiveCatalog(cache).ensure(later, client) and EXTRA_MODEL in later
        assert model_requests(extended_hub) == before + 2
    finally:
        client.close()


def test_a_studio_shows_earlier_runs_of_a_model_only_the_hub_lists(
    extended_hub: SimulatorServer, tmp_path: Path
) -> None:
    from mountsea_widgets.history import History

    history = History(tmp_path / "runs")
    client = mw.Client(base_url=extended_hub.url)
    mw.catalog.refresh(client)
    earlier = mw.generate(EXTRA_MODEL, "a paper boat", client=client, history=history)
    client.close()
    live.reset(catalog)  # a new session: the catalog is the bundled one again
    assert EXTRA_MODEL not in catalog
    studio = mw.Studio("nano-banana", client=FastClient(base_url=extended_hub.url), history=history)
    try:
        assert studio.wait_loaded(60)
        assert [run.model for run in studio.runs] == [EXTRA_MODEL]
        assert studio.runs[0].task_id == earlier.task_id
    finally:
        studio.close()


# --- hubs that must not be believed or waited for -------------------------------------------------


class _OneAnswerHub(http.server.ThreadingHTTPServer):
    """A loopback server answering every GET with the same body (or, given a dict, the body
    for each path; 404 for others)."""

    def __init__(self, body: bytes | dict[str, bytes]) -> None:
        bodies = body

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                answer = bodies if isinstance(bodies, bytes) else bodies.get(path, b"{}")
                self.send_response(200 if isinstance(bodies, bytes) or path in bodies else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def _refresh_with(source: LiveCatalog, url: str) -> tuple[list[str], list[str]]:
    fresh = load_catalog()
    with mw.Client(base_url=url) as client, recorded() as caught:
        warnings.simplefilter("always")
        source.refresh(fresh, client)
    return list(fresh), live_warnings(caught)


def test_an_oversized_answer_is_not_read(tmp_path: Path) -> None:
    models = [{"id": f"model-{n}", "summary": "x" * 500} for n in range(3000)]
    hub = _OneAnswerHub(json.dumps({"data": models}).encode())  # about 1.6 MB
    try:
        models_now, messages = _refresh_with(LiveCatalog(Cache(tmp_path)), hub.url)
    finally:
        hub.close()
    assert models_now == list(catalog.bundled)
    assert len(messages) == 1 and "larger than 1,000,000 bytes" in messages[0]


def test_a_hub_that_never_answers_is_not_waited_for(tmp_path: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are queued and never answered
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        models_now, messages = _refresh_with(LiveCatalog(Cache(tmp_path), budget_s=0.5), url)
    finally:
        silent.close()
    assert models_now == list(catalog.bundled)
    assert len(messages) == 1 and "did not answer in time" in messages[0]


def test_hub_text_is_shown_as_text_in_the_studio(tmp_path: Path) -> None:
    canary = '<img src=x onerror="window.__hub_xss=1">'
    schema = {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "description": canary},
            "style": {"type": "string", "enum": ["plain", canary], "default": "plain"},
        },
        "required": ["prompt"],
    }
    summary = {"id": "hostile-model", "title": canary, "summary": canary, "mode": "text-to-image"}
    detail = {**summary, "input_schema": schema}
    hub = _OneAnswerHub(
        {
            "/hub/v1/models": json.dumps({"data": [summary]}).encode(),
            "/hub/v1/models/hostile-model": json.dumps(detail).encode(),
        }
    )
    try:
        studio = mw.Studio("hostile-model", client=FastClient(base_url=hub.url), history=False)
        try:
            assert canary in studio.summary  # text: the page puts it in with textContent
            style = studio.form.controls["style"]
            assert style.set(canary)  # a choice like any other, shown as the text it is
            (field,) = [f for f in studio.form_state["fields"] if f["name"] == "style"]
            assert [label for label, _value in field["options"]] == ["plain", canary]
        finally:
            studio.close()
    finally:
        hub.close()


def test_the_command_line_simulator_serves_the_extras() -> None:
    command = [sys.executable, "-m", "mountsea_widgets.simulator", "--port", "0", "--extras"]
    command += ["--models-layout", "params"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # "Mountsea hub simulator serving on http://..."
        url = first.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:"), first
        with mw.Client(base_url=url) as client:
            diff = mw.catalog.refresh(client)
        assert diff.new_models == [EXTRA_MODEL]
        assert diff.new_values == {"nano-banana.aspect_ratio": ["2:1"]}
    finally:
        process.terminate()
        process.wait(timeout=30)
