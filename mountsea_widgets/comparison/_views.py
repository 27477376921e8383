"""How a cell looks: the status word, detail line, message and tone the grid and sheet show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._plan import DONE_STATUSES, NOT_APPLICABLE, QUEUED, REJECTED, Cell

if TYPE_CHECKING:
    from .._contact_sheet import SheetCell
    from ..widgets.grid import CellView


def describe(cell: Cell, *, seconds: bool = True) -> dict[str, str]:
    """Status word, detail line, message and tone of a cell (shared by the grid and sheet).

    ``seconds=False`` leaves the time out of the detail (the grid shows it on its own and
    keeps a running cell's clock itself)."""
    status = cell.status
    details = []
    if seconds and cell.seconds is not None and status != QUEUED:
        details.append(f"{cell.seconds:.1f} s")
    if cell.image_count > 1:
        details.append(f"{cell.image_count} images")
    if cell.note:
        details.append(cell.note)
    detail = " · ".join(details)
    if status == NOT_APPLICABLE:
        return {
            "status": NOT_APPLICABLE,
            "detail": detail,
            "message": cell.problem or "",
            "tone": "muted",
        }
    if status == REJECTED:
        return {"status": REJECTED, "detail": detail, "message": cell.error or "", "tone": "error"}
    if status == "completed":
        return {"status": status, "detail": detail, "message": "", "tone": "ok"}
    if status in DONE_STATUSES:
        return {"status": status, "detail": detail, "message": cell.error or "", "tone": "error"}
    return {"status": status, "detail": detail, "message": "", "tone": "muted"}


def sheet_cell(cell: Cell) -> SheetCell:
    """What ``cell``'s position on the contact sheet shows (image, caption, or message)."""
    from .._contact_sheet import SheetCell
    from .._images import decode_image

    view = describe(cell)
    image = None
    if cell.image_bytes:
        try:
            image = decode_image(cell.image_bytes[0])
        except Exception as exc:  # a broken image becomes text, not a broken sheet
            view = {**view, "message": f"image cannot be shown: {exc}", "tone": "error"}
    message = view["message"]
    if cell.status == NOT_APPLICABLE:
        message = f"n/a\n({message})" if message else "n/a"
    return SheetCell(
        image=image,
        caption=" · ".join(p for p in (view["status"], view["detail"]) if p),
        message=message,
        tone=view["tone"],
    )


def cell_view(
    cell: Cell, index: int, thumbnails: dict[int, bytes], estimates: dict[int, str]
) -> CellView:
    """What the grid shows for ``cell``: its words, its clock, its estimated cost (worked out
    once, kept in ``estimates``) and its page thumbnail (made once from the run's ready-made
    thumbnail, kept in ``thumbnails``)."""
    from ..widgets._thumbs import page_thumbnail
    from ..widgets.grid import CellView

    view = describe(cell, seconds=False)
    image = thumbnails.get(index)
    if image is None and cell.image_count:
        made = cell.run.thumbnails if cell.run is not None else []
        # The run made a thumbnail off the runner loop when it completed: shrink that, so
        # showing the grid never reads a full-size image back.
        source = made[0] if made and made[0] is not None else None
        if source is None:
            source = cell.image_bytes[0] if cell.image_bytes else None
        small = page_thumbnail(source) if source is not None else None
        if small is None:
            view = {**view, "message": "This image cannot be shown.", "tone": "error"}
        else:
            thumbnails[index] = image = small
    if index not in estimates:
        estimate = cell.estimate
        estimates[index] = estimate.label if estimate is not None else ""
    running = cell.run is not None and cell.started and not cell.done
    return CellView(
        status=view["status"],
        detail=view["detail"],
        message=view["message"],
        tone=view["tone"],
        image=image,
        seconds=cell.seconds,
        expected=cell.run.expected_s if cell.run is not None else None,
        running=running,
        estimate=estimates[index],
    )
