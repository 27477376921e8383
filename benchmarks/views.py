"""The notebook views in a real browser: JupyterLab + Chromium against the offline simulator.

Figures (issue targets): widget models of a whole Studio (<= 10, whatever the number of runs)
and of a 64-cell grid (<= 5), counted in the kernel; over a 1,000-run history against a 10-run
one, the time until the Studio is visible (<= 1.2x) and the longest main-thread block while a
run is added or removed (<= 1.5x), with the absolute figures beside them; a finished run shown
on the page <= 150 ms after its task completed; DOM nodes <= 3,000 with 10,000 runs in the
history; bytes sent to the page per finished run <= 64 KB (the kernel websocket's frames, from
Chromium's DevTools protocol).

Histories are written straight into history folders (journal records and small JPEGs), as the
history itself lays them out, so a 10,000-run history takes seconds to make.
"""

from __future__ import annotations

import ast
import base64
import collections
import hashlib
import io
import json
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from .report import Figure, Printer, at_most, info

SECTION = "views"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SMALL, LARGE, HUGE = 10, 1000, 10_000
PROMPT = "a lighthouse at dusk, oil painting"

#: Kernel code run before a view is made: the model count, and the moment each run's task is
#: known complete (Run.update is where a run's status changes; see mountsea_widgets.run).
KERNEL_SETUP = """
import time as _bench_time
import ipywidgets as _bench_widgets
import mountsea_widgets as mw
from mountsea_widgets.history import History
from mountsea_widgets.run import Run as _BenchRun

def _bench_models():
    registry = getattr(_bench_widgets.Widget, "widgets", None)
    if registry is None:
        from ipywidgets.widgets.widget import _instances as registry
    return len(registry)

_bench_before = _bench_models()
_bench_done_at = {}
_bench_update = _BenchRun.update

def _bench_timed_update(self, **changes):
    if changes.get("status") == "completed" and self.run_id not in _bench_done_at:
        _bench_done_at[self.run_id] = _bench_time.time() * 1000
    return _bench_update(self, **changes)

_BenchRun.update = _bench_timed_update
"""

#: Page code: the longest gap between animation frames and the longest 'longtask' entry
#: between start() and stop().
BLOCK_MONITOR = """() => {
  if (window.__mwBlocks) return;
  const state = { on: false, last: 0, gap: 0, long: 0 };
  window.__mwBlocks = state;
  const frame = (now) => {
    if (state.on) {
      if (state.last) state.gap = Math.max(state.gap, now - state.last);
      state.last = now;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  try {
    new PerformanceObserver((list) => {
      if (!state.on) return;
      for (const entry of list.getEntries()) state.long = Math.max(state.long, entry.duration);
    }).observe({ type: "longtask", buffered: false });
  } catch (error) { state.long = -1; }
}"""


def _jpeg(size: int = 256) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), (40, 70, 110))
    draw = ImageDraw.Draw(image)
    draw.ellipse((size // 4, size // 4, 3 * size // 4, 3 * size // 4), fill=(230, 180, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def write_history(folder: Path, runs: int, model: str = "nano-banana") -> Path:
    """Write ``runs`` finished runs (one small JPEG each) into the history at ``folder``."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    data = _jpeg()
    digest = hashlib.sha256(data).hexdigest()
    start = time.time() - 10 * runs
    lines = []
    for number in range(runs):
        run_id = f"bench{number:06d}{uuid.uuid4().hex[:8]}"
        made = start + 10 * number
        name = f"{run_id}_0.jpg"
        (images / name).write_bytes(data)
        input_ = {"prompt": f"{PROMPT} #{number}"}
        records: list[dict[str, Any]] = [
            {
                "op": "start",
                "run_id": run_id,
                "model": model,
                "input": input_,
                "blobs": [],
                "created": made,
            },
            {"op": "submitted", "run_id": run_id, "task_id": f"task-{run_id}", "model": model},
            {
                "op": "images",
                "run_id": run_id,
                "files": [{"name": f"images/{name}", "sha256": digest, "bytes": len(data)}],
            },
            {
                "op": "finished",
                "run_id": run_id,
                "status": "completed",
                "error": None,
                "elapsed_s": 4.0,
                "task_s": 3.5,
            },
        ]
        for offset, record in enumerate(records):
            stamped = {"v": 1, **record, "t": made + offset}
            lines.append(json.dumps(stamped, separators=(",", ":")))
    (folder / "journal.jsonl").write_text("\n".join(lines) + "\n")
    return folder


# --- the page and its kernel ---------------------------------------------------------------------


def _now_ms(page: Any) -> float:
    return float(page.evaluate("() => performance.timeOrigin + performance.now()"))


def kernel_value(page: Any, expression: str, code: str = "") -> Any:
    """Run ``code`` in the open notebook's kernel, then the value of ``expression`` (JSON)."""
    reply = page.evaluate(
        """async ([code, expression]) => {
             const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
             const future = kernel.requestExecute({ code, silent: true, store_history: false,
               user_expressions: { value: `__import__('json').dumps(${expression})` } });
             const reply = await future.done;
             return reply.content; }""",
        [code, expression],
    )
    if reply.get("status") != "ok":
        raise RuntimeError(f"kernel code failed: {reply.get('ename')}: {reply.get('evalue')}")
    value = reply["user_expressions"]["value"]
    if value.get("status") != "ok":
        raise RuntimeError(f"kernel expression failed: {value.get('evalue')}")
    # text/plain is the repr of the JSON string.
    return json.loads(ast.literal_eval(value["data"]["text/plain"]))


class SocketBytes:
    """Bytes Chromium received on the kernel websockets (DevTools protocol frames)."""

    def __init__(self, page: Any) -> None:
        self.total = 0
        #: Bytes by kind of message ("comm_msg update recent", "display_data", ...).
        self.kinds: collections.Counter[str] = collections.Counter()
        self._session = page.context.new_cdp_session(page)
        self._session.on("Network.webSocketFrameReceived", self._frame)
        self._session.send("Network.enable")

    def _frame(self, event: dict[str, Any]) -> None:
        response = event.get("response", {})
        payload = response.get("payloadData", "")
        binary = response.get("opcode") == 2  # binary frames come base64-encoded
        data = base64.b64decode(payload) if binary else payload.encode("utf-8")
        self.total += len(data)
        self.kinds[_kind_of(data)] += len(data)


_FIELD = {
    name: re.compile(rb'"' + name.encode() + rb'":\s*"([A-Za-z_]+)"')
    for name in ("msg_type", "method", "type")
}
_STATE_KEY = re.compile(rb'"state":\s*\{\s*"([A-Za-z_]+)"')


def _kind_of(frame: bytes) -> str:
    """A rough name of what a kernel websocket frame carries, for the bytes breakdown."""
    found = _FIELD["msg_type"].search(frame)
    kind = found.group(1).decode() if found else "other"
    if kind == "comm_msg":
        method = _FIELD["method"].search(frame)
        name = method.group(1).decode() if method else "?"
        if name == "update":
            key = _STATE_KEY.search(frame)
            name += " " + (key.group(1).decode() if key else "?")
        elif name == "custom":
            inner = _FIELD["type"].search(frame)
            name += " " + (inner.group(1).decode() if inner else "?")
        kind += " " + name
    return kind


def _block_start(page: Any) -> None:
    page.evaluate(BLOCK_MONITOR)
    page.evaluate("() => Object.assign(window.__mwBlocks, {on: true, last: 0, gap: 0, long: 0})")


def _block_stop(page: Any) -> tuple[float, float]:
    """The longest animation-frame gap and longest long task (ms) since _block_start."""
    state = page.evaluate("() => { window.__mwBlocks.on = false; return window.__mwBlocks; }")
    return float(state["gap"]), float(state["long"])


VISIBLE_STUDIO = """() => {
  const card = document.querySelector('.mw-studio .mw-history .mw-card[data-run-id]');
  const img = card && card.querySelector('img.mw-thumb');
  return !!img && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 0;
}"""


def _card_ids(page: Any) -> list[str]:
    return list(
        page.evaluate(
            "() => [...document.querySelectorAll('.mw-studio .mw-card[data-run-id]')]"
            ".map(c => c.dataset.runId)"
        )
    )


def _subtree_nodes(page: Any, selector: str) -> int:
    return int(
        page.evaluate(
            "(s) => { const r = document.querySelector(s); return r ? r.querySelectorAll('*')"
            ".length + 1 : 0; }",
            selector,
        )
    )


@contextmanager
def _browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        finally:
            browser.close()


# --- one Studio over one history ----------------------------------------------------------------


def _open_studio(
    page: Any, server: Any, base: Path, runs: int, name: str, say: Printer
) -> dict[str, Any]:
    from tests.browser.front_ends import open_notebook, run_all, shut_everything_down
    from tests.helpers.notebooks import write_notebook

    began = time.monotonic()
    folder = write_history(base / f"history-{name}", runs)
    say(f"   {name}: {runs} runs written in {time.monotonic() - began:.1f} s")
    shut_everything_down(server)
    page.goto("about:blank")
    write_notebook(
        server.root / f"{name}.ipynb",
        [f"studio = mw.studio(history=History({str(folder)!r}))\nstudio"],
    )
    open_notebook(page, server, f"{name}.ipynb")
    kernel_value(page, "1", KERNEL_SETUP)
    started = _now_ms(page)
    run_all(page)
    page.wait_for_function(VISIBLE_STUDIO, timeout=600_000, polling="raf")
    visible_ms = _now_ms(page) - started
    models = int(kernel_value(page, "_bench_models() - _bench_before"))
    return {"visible_ms": visible_ms, "models": models}


def _add_and_remove(page: Any, sockets: SocketBytes) -> dict[str, Any]:
    """Generate one run from the page, see it finished; then remove it."""
    known = set(_card_ids(page))
    prompt = page.locator(
        '.mw-studio .mw-field[data-name="prompt"] textarea, '
        '.mw-studio .mw-field[data-name="prompt"] input'
    ).first
    prompt.fill(PROMPT)
    page.wait_for_function(
        "() => !document.querySelector('.mw-studio button.mw-generate').disabled",
        timeout=60_000,
    )
    _block_start(page)
    bytes_before = sockets.total
    kinds_before = collections.Counter(sockets.kinds)
    page.locator(".mw-studio button.mw-generate").click()
    seen = page.wait_for_function(
        """(known) => {
             for (const card of document.querySelectorAll('.mw-studio .mw-card[data-run-id]')) {
               if (known.includes(card.dataset.runId)) continue;
               const img = card.querySelector('img.mw-thumb');
               if (card.dataset.status === 'completed' && img && img.complete
                   && img.naturalWidth > 0)
                 return { id: card.dataset.runId, at: performance.timeOrigin + performance.now() };
             }
             return false; }""",
        arg=sorted(known),
        timeout=300_000,
        polling="raf",
    ).json_value()
    add_gap, add_long = _block_stop(page)
    run_id = str(seen["id"])
    done_at = kernel_value(page, f"_bench_done_at.get({run_id!r})")
    shown_ms = float(seen["at"]) - float(done_at) if done_at is not None else -1.0
    # Frames of this run still on their way (the fallback rewrite comes a second later).
    page.wait_for_timeout(1500)
    sent = sockets.total - bytes_before
    kinds = sockets.kinds - kinds_before
    breakdown = ", ".join(f"{kind} {size / 1024:.1f} KB" for kind, size in kinds.most_common(6))

    _block_start(page)
    card = page.locator(f'.mw-studio .mw-card[data-run-id="{run_id}"]')
    card.locator('button[data-action="remove"]').click()
    card.wait_for(state="detached", timeout=300_000)
    page.wait_for_timeout(300)  # the frames that follow the removal
    remove_gap, remove_long = _block_stop(page)
    return {
        "add_gap": add_gap,
        "add_long": add_long,
        "remove_gap": remove_gap,
        "remove_long": remove_long,
        "shown_ms": shown_ms,
        "bytes": float(sent),
        "breakdown": breakdown,
    }


#: Runs added and removed per history: each figure is the median of these (one frame gap is
#: a noisy sample on a shared machine).
REPEATS = 3


def _repeated(page: Any, sockets: SocketBytes, say: Printer) -> dict[str, float]:
    samples = []
    for _ in range(REPEATS):
        samples.append(_add_and_remove(page, sockets))
        say(f"      one run added and removed: {json.dumps(samples[-1])}")
    say(f"      bytes of the first run by kind: {samples[0]['breakdown']}")
    return {
        key: statistics.median(float(s[key]) for s in samples)
        for key in samples[0]
        if key != "breakdown"
    }


def _models_after(page: Any) -> int:
    return int(kernel_value(page, "_bench_models() - _bench_before"))


def _dom_with_huge_history(page: Any, server: Any, base: Path, say: Printer) -> int:
    _open_studio(page, server, base, HUGE, "studio-huge", say)
    counts = [_subtree_nodes(page, ".mw-studio")]
    for where in ("list.scrollHeight / 2", "list.scrollHeight"):
        page.evaluate(
            f"() => {{ const list = document.querySelector('.mw-studio .mw-history');"
            f" list.scrollTop = {where}; }}"
        )
        page.wait_for_function(VISIBLE_STUDIO, timeout=120_000)
        page.wait_for_timeout(500)
        counts.append(_subtree_nodes(page, ".mw-studio"))
    say(f"   DOM nodes of the Studio at top, middle, bottom: {counts}")
    return max(counts)


def _grid_models(page: Any, server: Any, say: Printer) -> int:
    from tests.browser.front_ends import open_notebook, run_all, shut_everything_down
    from tests.helpers.notebooks import write_notebook

    shut_everything_down(server)
    page.goto("about:blank")
    write_notebook(
        server.root / "grid.ipynb",
        [
            'grid = mw.compare("a red cube", models=["nano-banana"], seeds=list(range(1, 65)),'
            " confirm=True)\ngrid"
        ],
    )
    open_notebook(page, server, "grid.ipynb")
    kernel_value(page, "1", KERNEL_SETUP)
    run_all(page)
    page.wait_for_selector(".mw-grid .mw-cell", timeout=300_000)
    models = _models_after(page)
    # Once the cells are done too (their thumbnails arrived), if that comes within minutes.
    try:
        page.wait_for_function(
            "() => document.querySelectorAll('.mw-grid .mw-cell[data-status=completed]').length"
            " >= Math.min(64, document.querySelectorAll('.mw-grid .mw-cell').length)",
            timeout=240_000,
        )
    except Exception:
        say("   grid: not every cell finished in 4 minutes; models counted while it ran")
    cells = page.evaluate(
        "() => [...document.querySelectorAll('.mw-grid .mw-cell')].map(c => c.dataset.status)"
    )
    say(f"   grid: {len(cells)} cells on the page, {cells.count('completed')} completed")
    return max(models, _models_after(page))


def _guarded(name: str, say: Printer, work: Callable[[], Any]) -> Any:
    try:
        return work()
    except Exception as exc:
        say(f"   {name}: could not be measured: {str(exc).splitlines()[0][:300]}")
        return None


def run(say: Printer) -> list[Figure]:
    """Every figure of the views benchmark (a FAIL with a note for what could not run)."""
    from tests.browser.front_ends import running_server

    if not Path(CHROMIUM).exists():
        note = "Chromium is missing (make chromium installs it)"
        return [Figure(SECTION, "views in a browser", 0, "", "measured", False, note)]
    base = Path(tempfile.mkdtemp(prefix="mountsea-bench-views-"))
    root = base / "root"
    root.mkdir()
    figures: list[Figure] = []
    try:
        with running_server("lab", base, root) as server, _browser() as page:
            sockets = SocketBytes(page)
            results: dict[str, dict[str, Any]] = {}
            for runs, name in ((SMALL, "studio-small"), (LARGE, "studio-large")):
                opened = _guarded(
                    name, say, partial(_open_studio, page, server, base, runs, name, say)
                )
                if opened is None:
                    continue
                results[name] = opened
                say(f"   {name}: {json.dumps(opened)}")
                changed = _guarded(f"{name} add/remove", say, lambda: _repeated(page, sockets, say))
                if changed is not None:
                    opened.update(changed)
                    opened["models_after"] = _models_after(page)
                    say(f"   {name}: {json.dumps(opened)}")
            huge = _guarded(
                "10,000 runs", say, lambda: _dom_with_huge_history(page, server, base, say)
            )
            grid = _guarded("grid", say, lambda: _grid_models(page, server, say))
        figures += _figures(results, huge, grid)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return figures


def _missing(name: str) -> Figure:
    return Figure(SECTION, name, 0, "", "measured", False, "could not be measured (see above)")


def _figures(
    results: dict[str, dict[str, Any]], huge: int | None, grid: int | None
) -> list[Figure]:
    figures: list[Figure] = []
    small, large = results.get("studio-small", {}), results.get("studio-large", {})
    labels = ((small, f"{SMALL} runs"), (large, f"{LARGE} runs"))
    for result, label in labels:
        name = f"Studio widget models ({label})"
        if "models" not in result:
            figures.append(_missing(name))
            continue
        models = max(result["models"], result.get("models_after", 0))
        figures.append(at_most(SECTION, name, models, "models", 10))
    ratio = f"time to visible, {LARGE} vs {SMALL} runs"
    if "visible_ms" in small and "visible_ms" in large:
        value = large["visible_ms"] / small["visible_ms"]
        figures.append(at_most(SECTION, ratio, value, "x", 1.2))
    else:
        figures.append(_missing(ratio))
    for kind in ("add", "remove"):
        ratio = f"longest block on {kind}, {LARGE} vs {SMALL} runs"
        key = f"{kind}_gap"
        if key in small and key in large:
            value = large[key] / max(small[key], 1.0)
            note = f"longest gap between animation frames, median of {REPEATS}"
            figures.append(at_most(SECTION, ratio, value, "x", 1.5, note))
        else:
            figures.append(_missing(ratio))
    for result, label in labels:
        if "visible_ms" in result:
            name = f"time to visible ({label}; aim <= 1000 ms)"
            figures.append(info(SECTION, name, result["visible_ms"], "ms"))
        for kind in ("add", "remove"):
            if f"{kind}_gap" not in result:
                continue
            longest = result[f"{kind}_long"]
            note = f"longest long task {longest:.0f} ms" if longest >= 0 else ""
            name = f"longest block on {kind} ({label}; aim <= 50 ms)"
            figures.append(info(SECTION, name, result[f"{kind}_gap"], "ms", note))
        shown = f"finished run shown after its task ({label})"
        if result.get("shown_ms", -1) >= 0:
            figures.append(at_most(SECTION, shown, result["shown_ms"], "ms", 150))
        else:
            figures.append(_missing(shown))
    name = "bytes to the page per finished run"
    if "bytes" in small:
        note = "all kernel websocket frames from Generate until 1.5 s after"
        figures.append(at_most(SECTION, name, small["bytes"] / 1024, "KB", 64, note))
    else:
        figures.append(_missing(name))
    if "bytes" in large:
        name = f"bytes to the page per finished run ({LARGE} runs)"
        figures.append(at_most(SECTION, name, large["bytes"] / 1024, "KB", 64))
    name = f"Studio DOM nodes ({HUGE:,} runs)"
    figures.append(
        at_most(SECTION, name, huge, "nodes", 3000) if huge is not None else _missing(name)
    )
    name = "widget models of a 64-cell grid"
    figures.append(
        at_most(SECTION, name, grid, "models", 5) if grid is not None else _missing(name)
    )
    return figures
