"""A real IPython kernel for widget tests, driven the way JupyterLab drives it.

The :class:`KernelDriver` sends ``execute_request`` and ``comm_msg`` on the shell channel (a
button click is ``{"method": "custom", "content": {"event": "click"}}``, typing is an
``update``) and keeps a small model store from every ``comm_open`` / ``comm_msg`` it reads on
IOPub: what a page would hold. The kernel runs with its own HOME, Jupyter folders and a
temporary working folder, so nothing touches the real home.
"""

from __future__ import annotations

import os
import queue
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

from tests.helpers.environment import HUB_VARIABLES, isolated_folders


@dataclass
class WidgetModel:
    """The page-side view of one widget: its latest state, as sent by the kernel."""

    comm_id: str
    state: dict[str, Any] = field(default_factory=dict)
    buffers: dict[str, bytes] = field(default_factory=dict)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.state.get("_dom_classes", ()))


@dataclass
class Reply:
    """What one request produced: printed text, an error if any, and the IOPub messages."""

    stdout: str
    error: str | None
    messages: list[dict[str, Any]]


class KernelDriver:
    """Talks to a kernel like the JupyterLab page does, and records what the page would see."""

    def __init__(self, manager: KernelManager) -> None:
        self.manager = manager
        self.client = manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        #: Every IOPub message, in arrival order.
        self.log: list[dict[str, Any]] = []
        #: The widget models, by comm id (the page's model store).
        self.models: dict[str, WidgetModel] = {}

    # --- IOPub ---------------------------------------------------------------------------------

    def _pump(self, timeout: float) -> dict[str, Any] | None:
        try:
            message = self.client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return None
        self.log.append(message)
        kind = message["msg_type"]
        content = message["content"]
        if kind == "comm_open":
            model = WidgetModel(content["comm_id"])
            self.models[model.comm_id] = model
            self._apply(model, content.get("data", {}), message.get("buffers", []))
        elif kind == "comm_msg":
            model = self.models.setdefault(content["comm_id"], WidgetModel(content["comm_id"]))
            data = content.get("data", {})
            if data.get("method") in ("update", "echo_update"):
                self._apply(model, data, message.get("buffers", []))
        elif kind == "comm_close":
            self.models.pop(content["comm_id"], None)
        return message

    @staticmethod
    def _apply(model: WidgetModel, data: dict[str, Any], buffers: list[Any]) -> None:
        model.state.update(data.get("state", {}))
        for path, buffer in zip(data.get("buffer_paths", []), buffers, strict=False):
            model.buffers[".".join(str(p) for p in path)] = bytes(buffer)

    def wait_for(
        self, condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition"
    ) -> None:
        """Read IOPub (and nothing else: the kernel stays idle) until ``condition()`` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            self._pump(min(remaining, 0.5))

    def _until_idle(self, msg_id: str, timeout: float) -> Reply:
        start = len(self.log)
        self.wait_for(
            lambda: any(
                m["msg_type"] == "status"
                and m["parent_header"].get("msg_id") == msg_id
                and m["content"]["execution_state"] == "idle"
                for m in self.log[start:]
            ),
            timeout,
            f"the kernel to finish {msg_id}",
        )
        mine = [m for m in self.log[start:] if m["parent_header"].get("msg_id") == msg_id]
        stdout = "".join(
            m["content"]["text"]
            for m in mine
            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )
        errors = [m["content"] for m in mine if m["msg_type"] == "error"]
        error = None
        if errors:
            error = f"{errors[0]['ename']}: {errors[0]['evalue']}\n" + "\n".join(
                errors[0]["traceback"]
            )
        return Reply(stdout, error, self.log[start:])

    # --- shell ---------------------------------------------------------------------------------

    def execute(self, code: str, timeout: float = 60.0, *, allow_error: bool = False) -> Reply:
        """Run ``code`` in a cell; returns when the kernel is idle again."""
        msg_id = self.client.execute(code, store_history=False)
        reply = self._until_idle(msg_id, timeout)
        if reply.error and not allow_error:
            raise AssertionError(f"cell failed:\n{code}\n{reply.error}")
        return reply

    def comm_msg(self, comm_id: str, data: dict[str, Any], timeout: float = 30.0) -> Reply:
        """Send a widget message exactly as the page does; returns when the kernel is idle."""
        message = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.client.shell_channel.send(message)
        return self._until_idle(message["header"]["msg_id"], timeout)

    def click(self, comm_id: str) -> Reply:
        """Click a Button."""
        return self.comm_msg(comm_id, {"method": "custom", "content": {"event": "click"}})

    def type_into(self, comm_id: str, value: Any) -> Reply:
        """Set a control's value, as typing in the page does."""
        return self.comm_msg(
            comm_id, {"method": "update", "state": {"value": value}, "buffer_paths": []}
        )

    def with_class(self, css: str) -> list[WidgetModel]:
        """The page-side models carrying CSS class ``css``."""
        return [model for model in self.models.values() if css in model.classes]

    def kill(self, timeout: float = 10.0) -> int:
        """SIGKILL the kernel process, as a crash does (nothing in it gets to clean up).

        Returns its pid once the process is gone.
        """
        pid = self.manager.provisioner.pid  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while self.manager.is_alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"kernel {pid} still alive {timeout} s after SIGKILL")
            time.sleep(0.05)
        return int(pid)

    def close(self) -> None:
        self.client.stop_channels()
        if self.manager.has_kernel:
            self.manager.shutdown_kernel(now=True)


def start_kernel(base: Path, *, history: Path | None = None) -> KernelDriver:
    """Start a kernel whose home, Jupyter folders and working folder are inside ``base``.

    ``history`` is its MOUNTSEA_HISTORY_DIR (default: ``base/history``); kernels given the
    same folder share one history, as two notebooks (or a kernel and its restart) do.
    """
    env = dict(os.environ)
    env.update(isolated_folders(base))
    env["MOUNTSEA_HISTORY_DIR"] = str(history or base / "history")
    for name in HUB_VARIABLES:
        env.pop(name, None)
    work = base / "work"
    work.mkdir(parents=True, exist_ok=True)
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(work), env=env)
    driver = KernelDriver(manager)
    driver.work = work  # type: ignore[attr-defined]
    return driver


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelDriver]:
    """A fresh kernel for the module, in a temporary working folder with a temporary home."""
    driver = start_kernel(tmp_path_factory.mktemp("kernel"))
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def kernels() -> Iterator[Callable[..., KernelDriver]]:
    """``kernels(base, history=...)`` starts a kernel (see :func:`start_kernel`); all are shut
    down (or cleaned up, if killed) at the end of the test."""
    started: list[KernelDriver] = []

    def start(base: Path, *, history: Path | None = None) -> KernelDriver:
        driver = start_kernel(base, history=history)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.close()


@pytest.fixture(scope="module")
def work_folder(kernel: KernelDriver) -> Path:
    """The kernel's working folder."""
    return Path(kernel.work)  # type: ignore[attr-defined]
