"""Side-by-side comparisons: prompts × models × seeds × up to three varied axes, run concurrently.

>>> import mountsea_widgets as mw
>>> grid = mw.compare("a lighthouse at dusk", models=["nano-banana", "gpt-image-2"],
...                   seeds=[1, 2])                              # doctest: +SKIP
>>> grid.wait().save_sheet("lighthouse.png")                     # doctest: +SKIP
>>> mw.compare("a {animal} in {style}", models=["nano-banana"],
...            vary={"animal": ["fox", "owl"], "style": ["ink", "oil"]})  # doctest: +SKIP
>>> mw.compare(prompts=mw.read_prompts("parti.csv", column="Prompt"),
...            models=["nano-banana", "gpt-image-2"])           # doctest: +SKIP

**Layout.** Columns are the first thing compared, rows everything else:

- with ``vary={"param": [values]}``: one column per value; with several seeds each model gets
  one row per seed (row label ``model · seed N``);
- without ``vary``: one column per seed;
- a second ``vary`` entry (``vary={"x": [...], "y": [...]}``, in that order) gives each
  model one row per value of the second entry (row label ``model · y = value``), so an X/Y
  plot reads left to right and top to bottom;
- a third entry (``vary={"x": [...], "y": [...], "z": [...]}``) pages the grid: one page of
  rows × columns per value of the third entry. Every page's cells run; the grid shows one
  page at a time with a page picker, and the records (and the CSV) carry ``z_param``,
  ``z_value`` and ``page``. More than three entries are refused: run several grids;
- ``prompts=[...]`` (several prompts) gives every prompt its own block of rows, the prompt
  (its first 48 characters) on top of each row label: prompts are long, and rows have room
  for a label where columns do not. The records (and the CSV) hold each prompt whole.

So the grid grows downwards (one row per prompt, model, seed or second value) and stays as
wide as the list of values being compared — it fits a notebook and reads like an X/Y plot.

A ``vary`` entry is either a parameter (``aspect_ratio``) or a placeholder of the prompt
template (``"a {animal}"`` with ``vary={"animal": ["fox", "owl"]}``); a name that is a
placeholder of the prompt is the placeholder. A prompt is a template only when ``vary`` names
one of its placeholders (then every placeholder needs values; ``{{`` and ``}}`` are literal
braces), so a prompt that happens to contain braces is sent as written.

**Prompt files.** :func:`read_prompts` reads ``.txt`` (a prompt per line), ``.csv`` and
``.jsonl`` (the column or key you choose, and optionally per-row parameters). An empty row,
a missing column, text that is not UTF-8, or a row whose own value a model refuses raises
:class:`PromptFileError` naming the file, the row and the parameter: nothing is sent.

**Parameters a model does not have.** A varied parameter a model lacks (``quality`` for
nano-banana, ``resolution`` for nano-banana, ``seed`` for gpt-image-2 in ``vary``) makes that
model's cells "n/a": nothing is sent. A *value* the model refuses (``aspect_ratio="8:1"`` for
nano-banana) makes that cell "rejected" with the catalog's message: nothing is sent either.

**Seeds on models without a seed.** ``seeds=[1, 2]`` with gpt-image-2 (which takes no seed):
its cells still run, without a seed, and say "seed: n/a (model has no seed)" — every cell of
the grid gets an image, and the note makes clear the two images are not seed-controlled.
(``vary={"seed": [...]}`` is different: there the seed *is* the comparison, so such a model's
cells are "n/a".) Fixed ``params`` a model lacks are left out for that model, with a note.
"""

from __future__ import annotations

from ._comparison import Comparison, compare
from ._csv import read_csv
from ._plan import (
    DEFAULT_CONCURRENCY,
    DONE_STATUSES,
    NO_SEED_NOTE,
    NOT_APPLICABLE,
    QUEUED,
    RECORD_FIELDS,
    REJECTED,
    Cell,
    Plan,
    format_value,
    plan,
)
from ._prompts import PROMPT_FILE_TYPES, Prompt, PromptFileError, placeholders, read_prompts

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DONE_STATUSES",
    "NOT_APPLICABLE",
    "NO_SEED_NOTE",
    "PROMPT_FILE_TYPES",
    "QUEUED",
    "RECORD_FIELDS",
    "REJECTED",
    "Cell",
    "Comparison",
    "Plan",
    "Prompt",
    "PromptFileError",
    "compare",
    "format_value",
    "placeholders",
    "plan",
    "read_csv",
    "read_prompts",
]
