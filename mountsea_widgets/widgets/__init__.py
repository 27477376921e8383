"""The notebook views: the Studio, the ``%%mountsea`` task cell, the comparison grid, and
their parts (the headless form, run cards, the run list).

Importing this package imports ipywidgets and anywidget; the top-level package imports it
lazily.
"""

from __future__ import annotations
