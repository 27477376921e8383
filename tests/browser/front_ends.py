"""Jupyter front-ends for browser tests: start JupyterLab or Notebook 7 on loopback, open a
notebook in Chromium, run it, save it, shut its kernel down.

Both servers run from this venv, so they read the lab settings ``make`` installs there
(``$(VENV)/share/jupyter/lab/settings/overrides.json``: widget state saved with the notebook),
exactly as the lab ``make lab`` starts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.environment import HUB_VARIABLES, isolated_folders

ROOT = Path(__file__).resolve().parents[2]
#: The lab settings ``make`` copies into the venv (JupyterLab and Notebook 7 read them there).
LAB_SETTINGS = ROOT / "jupyter" / "overrides.json"
INSTALLED_LAB_SETTINGS = (
    Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
)
WIDGETS_PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"

#: The JavaScript expression of the open notebook panel (JupyterLab and Notebook 7 alike).
PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
KERNEL = f"(({PANEL}) && {PANEL}.sessionContext.session && {PANEL}.sessionContext.session.kernel)"


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(base: Path) -> dict[str, str]:
    """The environment of a test server: its own home and Jupyter folders under ``base``, no hub
    key, the simulator, no "news" toast over the widgets."""
    env = dict(os.environ)
    for name in HUB_VARIABLES:
        env.pop(name, None)
    env.update(isolated_folders(base))
    env["MOUNTSEA_HISTORY_DIR"] = str(base / "history")
    env["MOUNTSEA_SIMULATOR_SPEED"] = "12"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    settings = Path(env["JUPYTER_CONFIG_DIR"]) / "lab/user-settings/@jupyterlab/apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    return env


def check_lab_settings() -> None:
    """Fail clearly when the venv lacks the lab settings ``make`` installs."""
    wanted = json.loads(LAB_SETTINGS.read_text())
    try:
        installed = json.loads(INSTALLED_LAB_SETTINGS.read_text())
    except (OSError, ValueError):
        installed = None
    if installed != wanted:
        raise RuntimeError(
            f"{INSTALLED_LAB_SETTINGS} is not a copy of {LAB_SETTINGS}: run `make lab-settings` "
            "(make test, make lab and make browser do it)"
        )


@dataclass(frozen=True)
class Server:
    """A running front-end server: ``kind`` is "lab" or "notebook"."""

    kind: str
    url: str
    root: Path
    log: Path

    def notebook_url(self, name: str) -> str:
        """The address that opens notebook ``name`` (relative to the root) in this front-end."""
        if self.kind == "lab":
            return f"{self.url}/lab/tree/{name}?reset"
        return f"{self.url}/notebooks/{name}"

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API; the decoded JSON answer (None when empty)."""
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None


@contextmanager
def running_server(kind: str, base: Path, root: Path) -> Iterator[Server]:
    """Start JupyterLab (``kind="lab"``) or Notebook 7 (``"notebook"``) over ``root``."""
    check_lab_settings()
    env = server_environment(base)
    port = free_port()
    common = [
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--allow-root",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.disable_check_xsrf=True",
    ]
    if kind == "lab":
        command = [sys.executable, "-m", "jupyterlab", *common]
        command.append("--LabApp.expose_app_in_browser=True")
    else:
        command = [sys.executable, "-m", "notebook", *common]
        command.append("--JupyterNotebookApp.expose_app_in_browser=True")
    log_path = base / f"{kind}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"The {kind} server did not start:\n{log_path.read_text()}"
                        ) from None
                    time.sleep(0.2)
            yield Server(kind, url, root, log_path)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def widget_settings(server: Server) -> dict[str, Any]:
    """The widgets plugin's settings as the page gets them: the schema's defaults (where the
    server puts the overrides) under the user's own settings."""
    answer = server.api("GET", f"/lab/api/settings/{WIDGETS_PLUGIN}")
    defaults = {name: spec.get("default") for name, spec in answer["schema"]["properties"].items()}
    return {**defaults, **(answer.get("settings") or {})}


def open_notebook(page: Any, server: Server, name: str) -> None:
    """Open ``name`` and wait until its kernel is idle."""
    page.goto(server.notebook_url(name), wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    page.wait_for_function(
        f"() => {{ const k = {KERNEL}; return !!k && k.status === 'idle'; }}", timeout=90_000
    )


def run_all(page: Any) -> None:
    """Run every cell of the open notebook."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def wait_until_idle_after_run(page: Any) -> None:
    """Wait until every code cell has an execution count and the kernel is idle."""
    page.wait_for_function(
        f"""() => {{
             const panel = {PANEL}; const k = {KERNEL};
             if (!panel || !k || k.status !== 'idle') return false;
             const cells = panel.content.model.cells;
             for (let i = 0; i < cells.length; i++) {{
               const cell = cells.get(i);
               if (cell.type === 'code' && !cell.executionCount) return false;
             }}
             return true; }}""",
        timeout=120_000,
    )


def cell_outputs(page: Any, index: int) -> list[dict[str, Any]]:
    """The outputs of code cell ``index`` as the notebook model holds them (what saving writes)."""
    return list(page.evaluate(f"(i) => {PANEL}.content.model.cells.get(i).outputs.toJSON()", index))


def save(page: Any, server: Server, name: str) -> dict[str, Any]:
    """Save the open notebook with the app's save command; the notebook file as saved."""
    path = server.root / name
    before = path.stat().st_mtime_ns if path.exists() else 0
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function(
        f"() => {{ const p = {PANEL}; return !!p && !p.context.model.dirty; }}", timeout=60_000
    )
    deadline = time.monotonic() + 60
    while path.stat().st_mtime_ns == before:  # the model is clean once the server answered
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} was not saved")
        time.sleep(0.05)
    return dict(json.loads(path.read_text()))


def kernel_id(page: Any) -> str:
    """The id of the open notebook's kernel."""
    return str(page.evaluate(f"() => {KERNEL}.id"))


def shut_kernel_down(server: Server, kernel: str) -> None:
    """Shut kernel ``kernel`` down through the server's API and wait until it is gone."""
    server.api("DELETE", f"/api/kernels/{kernel}")
    deadline = time.monotonic() + 60
    while any(k["id"] == kernel for k in server.api("GET", "/api/kernels")):
        if time.monotonic() > deadline:
            raise AssertionError("the kernel was not shut down")
        time.sleep(0.1)


def shut_everything_down(server: Server) -> None:
    """Shut down every session and kernel of the server (a notebook reopened starts afresh)."""
    for session in server.api("GET", "/api/sessions"):
        server.api("DELETE", f"/api/sessions/{session['id']}")
    for kernel in server.api("GET", "/api/kernels"):
        shut_kernel_down(server, kernel["id"])
