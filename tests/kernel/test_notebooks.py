"""Every shipped notebook runs top to bottom in a real kernel (nbclient) against the offline
simulator, and produces what it promises."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from PIL import Image

from mountsea_widgets._contact_sheet import DEFAULT_CELL_SIZE, SheetLayout
from tests.helpers.environment import HUB_VARIABLES, isolated_folders

pytestmark = pytest.mark.kernel

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CELL_TIMEOUT_S = 120


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working folder; the kernel's home, Jupyter folders and history live under it."""
    home = tmp_path / "home"
    for name, folder in isolated_folders(home).items():
        monkeypatch.setenv(name, folder)
    monkeypatch.setenv("MOUNTSEA_HISTORY_DIR", str(tmp_path / "history"))
    monkeypatch.setenv("MOUNTSEA_SIMULATOR_SPEED", "50")
    for name in HUB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    return work


def execute(name: str, workdir: Path) -> nbformat.NotebookNode:
    """Run notebook ``name`` in ``workdir``; fails the test on the first cell that errors."""
    source = NOTEBOOKS / name
    shutil.copy(source, workdir / name)
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=False,
    )
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(
        output.get("text", "") for output in outputs(notebook) if output["output_type"] == "stream"
    )


def assert_no_errors(notebook: nbformat.NotebookNode) -> None:
    errors = [output for output in outputs(notebook) if output["output_type"] == "error"]
    assert errors == []
    assert all(
        cell.execution_count is not None for cell in notebook.cells if cell.cell_type == "code"
    )


@pytest.mark.parametrize("name", ["compare_models.ipynb", "teaching.ipynb", "quickstart.ipynb"])
def test_shipped_notebooks_have_no_outputs_and_a_python3_kernel(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_compare_models_fills_eight_cells_and_saves_the_contact_sheet(workdir: Path) -> None:
    notebook = execute("compare_models.ipynb", workdir)
    assert_no_errors(notebook)

    sheet = workdir / "lighthouse-contact-sheet.png"
    layout = SheetLayout(rows=4, columns=2, cell_size=DEFAULT_CELL_SIZE)
    with Image.open(sheet) as image:
        assert image.format == "PNG"
        assert image.size == (layout.width, layout.height)
    with (workdir / "lighthouse.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    assert [row["status"] for row in rows] == ["completed"] * 8
    assert [row["model"] for row in rows[::2]] == [
        "nano-banana",
        "nano-banana-2",
        "nano-banana-pro",
        "gpt-image-2",
    ]
    text = printed(notebook)
    assert "8 of 8 done" in text
    assert "{'completed': 5, 'rejected': 1, 'n/a': 3}" in text
    widget_views = [
        output
        for output in outputs(notebook)
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(widget_views) >= 2  # both grids were displayed as widgets
    images = [output for output in outputs(notebook) if "image/png" in output.get("data", {})]
    assert images  # the contact sheet is shown inline


def test_teaching_runs_every_example(workdir: Path) -> None:
    notebook = execute("teaching.ipynb", workdir)
    assert_no_errors(notebook)
    text = printed(notebook)
    assert "seed 7 twice, same image: True" in text
    assert "seed 7 vs seed 8, same image: False" in text
    assert "nano-banana    4:1   -> rejected" in text
    assert "0.5K  512 x 512" in text and "2K    2048 x 2048" in text
    assert "aspect_ratio: '8:1' is not allowed" in text
    results = [
        output["data"]["text/plain"]
        for output in outputs(notebook)
        if "Result(task_id=" in output.get("data", {}).get("text/plain", "")
    ]
    assert results and "nano-banana-2" in results[0]  # %%mountsea returned the Result


def test_quickstart_runs(workdir: Path) -> None:
    notebook = execute("quickstart.ipynb", workdir)
    assert_no_errors(notebook)
