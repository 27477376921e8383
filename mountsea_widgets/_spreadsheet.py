"""CSV cells a spreadsheet shows as text: never a live formula, and read back exactly.

Prompts, task ids and errors come from people and from the hub. A cell starting like a formula
(``=``, ``+``, ``-``, ``@``, a tab or a carriage return) would run in a spreadsheet (CSV
injection), so it gets a leading ``'``, which spreadsheets show as "this is text". Text already
starting with ``'`` gets one more, so :func:`from_text_cell` gives back exactly what was written.
Every CSV the package writes (a comparison's ``to_csv``, a history export's ``index.csv``) uses
this one rule.
"""

from __future__ import annotations

#: First characters that make a spreadsheet treat a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The mark that keeps a cell text.
TEXT_MARK = "'"


def text_cell(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet could run it, or it starts with ``'``."""
    if text.startswith((*FORMULA_STARTS, TEXT_MARK)):
        return TEXT_MARK + text
    return text


def from_text_cell(cell: str) -> str:
    """The text :func:`text_cell` was given (numbers never start with the mark)."""
    return cell[len(TEXT_MARK) :] if cell.startswith(TEXT_MARK) else cell
