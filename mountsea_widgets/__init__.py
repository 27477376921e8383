"""mountsea-widgets: notebook widgets, a client and an offline simulator for the Mountsea hub.

>>> import mountsea_widgets as mw
>>> result = mw.generate("nano-banana", "a red cube", seed=1)   # offline simulator without a key
>>> mw.studio()                                                  # the Studio widget

Heavy parts (httpx, Pillow, ipywidgets) are imported on first use, so importing the package
is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _live_catalog, errors  # noqa: F401 (the import attaches catalog.refresh/diff)
from .catalog import Catalog, ModelSpec, ParamSpec, catalog

if TYPE_CHECKING:
    from . import simulator
    from ._config import settings
    from ._cost import BudgetError, Estimate, estimate_cost
    from ._generation import agenerate, generate
    from ._prices import reset_prices, use_prices
    from ._unchecked import UncheckedValueWarning
    from .batches import Batch, batch
    from .client import AsyncClient, Client
    from .comparison import Comparison, compare, read_prompts
    from .history import History
    from .metadata import read_metadata
    from .result import Result
    from .task import TaskStatus
    from .widgets.studio import Studio, studio

__version__ = "0.1.0"

# public name -> (module, attribute); attribute None means the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "Client": (".client", "Client"),
    "AsyncClient": (".client", "AsyncClient"),
    "Result": (".result", "Result"),
    "TaskStatus": (".task", "TaskStatus"),
    "generate": ("._generation", "generate"),
    "agenerate": ("._generation", "agenerate"),
    "studio": (".widgets.studio", "studio"),
    "Studio": (".widgets.studio", "Studio"),
    "compare": (".comparison", "compare"),
    "Comparison": (".comparison", "Comparison"),
    "batch": (".batches", "batch"),
    "Batch": (".batches", "Batch"),
    "read_prompts": (".comparison", "read_prompts"),
    "History": (".history", "History"),
    "read_metadata": (".metadata", "read_metadata"),
    "settings": ("._config", "settings"),
    "simulator": (".simulator", None),
    "estimate_cost": ("._cost", "estimate_cost"),
    "Estimate": ("._cost", "Estimate"),
    "BudgetError": ("._cost", "BudgetError"),
    "use_prices": ("._prices", "use_prices"),
    "reset_prices": ("._prices", "reset_prices"),
    "UncheckedValueWarning": ("._unchecked", "UncheckedValueWarning"),
}

__all__ = [
    "AsyncClient",
    "Batch",
    "BudgetError",
    "Catalog",
    "Client",
    "Comparison",
    "Estimate",
    "History",
    "ModelSpec",
    "ParamSpec",
    "Result",
    "Studio",
    "TaskStatus",
    "UncheckedValueWarning",
    "agenerate",
    "batch",
    "catalog",
    "compare",
    "errors",
    "estimate_cost",
    "generate",
    "read_metadata",
    "read_prompts",
    "reset_prices",
    "settings",
    "simulator",
    "studio",
    "use_prices",
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'mountsea_widgets' has no attribute {name!r}") from None
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mountsea_widgets``: registers ``%%mountsea`` and ``%mountsea_models``."""
    from .magics import load_ipython_extension as load

    load(ipython)
