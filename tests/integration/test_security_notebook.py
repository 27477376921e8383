"""A notebook that uses the key (from the environment) is executed with nbclient and saved:
the .ipynb, outputs and widget state included, never contains the key.

The notebook does what a person does: a Studio run, a comparison, ``mw.generate``, the
``%%mountsea`` magic, prints the client and the settings, and ends with a call made with a
wrong key (a 401 traceback in the saved outputs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mountsea_widgets import simulator

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(180)]

CANARY = "sk-canary-7f3a9e-DO-NOT-LEAK"
WRONG = "sk-wrong-canary-0b1c2d-DO-NOT-LEAK"

CELLS = [
    "import os, mountsea_widgets as mw\n"
    "studio = mw.studio('nano-banana')\n"
    "studio.form.controls['prompt'].set('a lighthouse in a saved notebook')\n"
    "run = studio.generate()\n"
    "comparison = mw.compare('a compared lighthouse', models=['nano-banana'], seeds=[1, 2])\n"
    "studio",
    "comparison",
    "result = mw.generate('nano-banana', 'a generated lighthouse', seed=3)\nresult",
    "%load_ext mountsea_widgets",
    "%%mountsea nano-banana --seed 4\na magic lighthouse",
    "assert studio.wait_idle(60)\n"
    "comparison.wait(60)\n"
    "print(run.status, [cell.status for cell in comparison.cells])",
    "from mountsea_widgets._config import settings\n"
    "mw.Client(), mw.AsyncClient(), settings(), studio, run",
    "mw.generate('nano-banana', 'refused', history=False,\n"
    "            client=mw.AsyncClient(api_key=os.environ['MOUNTSEA_TEST_WRONG_KEY']))",
]


@pytest.fixture
def keyed_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[simulator.SimulatorServer]:
    with simulator.serve(speed=100, api_key=CANARY) as server:
        monkeypatch.setenv("MOUNTSEA_API_KEY", CANARY)
        monkeypatch.setenv("MOUNTSEA_BASE_URL", server.url)
        monkeypatch.setenv("MOUNTSEA_TEST_WRONG_KEY", WRONG)
        monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(tmp_path / "history"))
        yield server


def test_a_saved_notebook_never_contains_the_key(
    keyed_hub: simulator.SimulatorServer, tmp_path: Path
) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    saved = tmp_path / "keyed.ipynb"
    nbformat.write(notebook, saved)
    text = saved.read_text("utf-8")

    # The notebook really ran against the keyed hub, and kept widget state and outputs.
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    errors = [output for output in outputs if output["output_type"] == "error"]
    assert [error["ename"] for error in errors] == ["AuthenticationError"]  # the last cell only
    assert "completed ['completed', 'completed']" in text
    assert keyed_hub.stats.submitted == 5 and keyed_hub.stats.unauthorized == 1
    assert "application/vnd.jupyter.widget-state+json" in notebook.metadata.get("widgets", {})
    assert "application/vnd.jupyter.widget-view+json" in text

    assert CANARY not in text and WRONG not in text
    history = tmp_path / "history"
    for path in history.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert CANARY.encode() not in data and WRONG.encode() not in data, path
