"""Side-by-side comparisons: models × seeds × one varied parameter, run concurrently.

>>> import mountsea_widgets as mw
>>> grid = mw.compare("a lighthouse at dusk", models=["nano-banana", "gpt-image-2"],
...                   seeds=[1, 2])                              # doctest: +SKIP
>>> grid.wait().save_sheet("lighthouse.png")                     # doctest: +SKIP

**Layout.** Rows are models and columns are what you compare:

- with ``vary={"param": [values]}``: one column per value; with several seeds each model gets
  one row per seed (row label ``model · seed N``);
- without ``vary``: one column per seed.

So the grid grows downwards (one row per model, or per model and seed) and stays as wide as
the list of values being compared — it fits a notebook and reads like an X/Y plot.

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

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DONE_STATUSES",
    "NOT_APPLICABLE",
    "NO_SEED_NOTE",
    "QUEUED",
    "RECORD_FIELDS",
    "REJECTED",
    "Cell",
    "Comparison",
    "Plan",
    "compare",
    "format_value",
    "plan",
    "read_csv",
]
