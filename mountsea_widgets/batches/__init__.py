"""Headless batches: thousands of runs in the background, kept in the history, resumable.

>>> import mountsea_widgets as mw
>>> job = mw.batch(prompts=mw.read_prompts("parti.csv", column="Prompt"),
...                models=["nano-banana", "gpt-image-2"], seeds=[1])   # doctest: +SKIP
>>> job.wait().export("parti-dataset")                                  # doctest: +SKIP

:func:`batch` takes what :func:`~mountsea_widgets.compare` takes and returns at once with a
:class:`Batch`: no grid, no widget per run; displayed, it is one small summary (a progress bar
and counts by status), and ``repr`` is one line.

**Resuming.** A batch has an id: ``batch_id=`` if given, else a hash of its spec (prompts,
models, seeds, varied values, fixed params), so the same spec is the same batch. Each cell's
run id is the batch id and a hash of the cell (``<batch_id>-<hash>``), so the history's journal
says which runs belong to which batch without a new kind of record, and the spec is kept in
``<history>/batches/<batch_id>.json``. Running the batch again (after a crash, a SIGKILL, a
closed laptop):

- cells whose run finished are taken as they ended (nothing is sent);
- cells whose task id is in the journal are polled again, never submitted again;
- cells whose run started but has no task id (the process died while submitting) are
  ``interrupted``: the hub may have received them, so they are not sent again (no duplicate
  is ever paid for); ``records()`` lists them;
- every other cell is sent.

A batch given again by ``batch_id`` with another spec is refused, naming what changed, unless
``extend=True`` adds the new cells to it. One process runs a batch at a time (a lease in the
history): another process asking for it while it runs is refused (nothing sent), the same
Python session gets the running batch back. A cell whose run something else carries out (a
Studio resuming it, ``History.resume()``) is followed in the journal, never sent; if that stops,
the batch polls the task itself.

**Dataset.** :meth:`Batch.export` writes the images with ``metadata.jsonl`` (the Hugging Face
``imagefolder`` layout) and ``records.csv``; :meth:`Batch.records` gives plain dicts and
:meth:`Batch.to_pandas` a DataFrame when pandas is installed.
"""

from __future__ import annotations

from ._batch import NOT_SENT_MESSAGE, Batch, BatchRunningElsewhere, batch
from ._dataset import BATCH_FIELDS, METADATA_FIELDS, METADATA_NAME, RECORDS_NAME, export
from ._spec import BATCHES_DIR, BatchSpec, BatchSpecChanged, batch_file

__all__ = [
    "BATCHES_DIR",
    "BATCH_FIELDS",
    "METADATA_FIELDS",
    "METADATA_NAME",
    "NOT_SENT_MESSAGE",
    "RECORDS_NAME",
    "Batch",
    "BatchRunningElsewhere",
    "BatchSpec",
    "BatchSpecChanged",
    "batch",
    "batch_file",
    "export",
]
