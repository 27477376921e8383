"""mountsea-widgets: notebook widgets, a client and an offline simulator for the Mountsea hub."""

from __future__ import annotations

from . import errors
from .catalog import Catalog, ModelSpec, ParamSpec, catalog

__all__ = ["Catalog", "ModelSpec", "ParamSpec", "catalog", "errors"]
__version__ = "0.1.0"
