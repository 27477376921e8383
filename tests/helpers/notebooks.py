"""Notebooks the kernel and browser tests open: code cells, a Python 3 kernel, no outputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat


def write_notebook(path: Path, cells: Sequence[str]) -> Path:
    """Write ``cells`` (code sources) as a notebook at ``path`` for the ``python3`` kernel."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, path)
    return path
