"""The notebook widgets: the Studio and its parts (form, task cells, gallery, history panel).

Importing this package imports ipywidgets; the top-level package imports it lazily.
"""

from __future__ import annotations
