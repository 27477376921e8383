"""Rows of records as a pandas DataFrame, for whoever has pandas (an optional extra).

pandas is imported only here, only when a DataFrame is asked for: nothing else of the package
needs it, and its absence is said in plain words with what to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any


def to_pandas(
    records: list[dict[str, Any]], *, columns: Sequence[str] | None = None, what: str = "records()"
) -> Any:
    """``records`` as a pandas DataFrame (one row per dict, ``columns`` in that order even when
    there are no rows); a clear ImportError naming ``pip install pandas`` when it is missing.

    ``what``: the method that gives the same rows as plain dicts (said in the error).
    """
    try:
        pandas = importlib.import_module("pandas")  # optional: never needed for anything else
    except ImportError:
        raise ImportError(
            f"to_pandas() needs pandas, which is not installed: pip install pandas ({what} "
            "gives the same rows as a list of dicts)"
        ) from None
    if columns is None:
        return pandas.DataFrame.from_records(records)
    return pandas.DataFrame.from_records(records, columns=list(columns))
