"""How a cell looks: the status word, detail line, message and tone the grid and sheet show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._plan import DONE_STATUSES, NOT_APPLICABLE, QUEUED, REJECTED, Cell

if TYPE_CHECKING:
    from .._contact_sheet import SheetCell
    from ..widgets.grid import CellView


def describe(cell: Cell) -> dict[str, str]:
    """Status word, detail line, message and tone of a cell (shared by the grid and sheet)."""
    status = cell.status
    details = []
    if cell.seconds is not None and status != QUEUED:
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


def cell_view(cell: Cell, index: int, thumbnails: dict[int, bytes]) -> CellView:
    """What the grid widget shows for ``cell`` (its thumbnail made once, kept in ``thumbnails``)."""
    from ..widgets.grid import CellView

    view = describe(cell)
    image = None
    made = cell.run.thumbnails if cell.run is not None else []
    if made and made[0] is not None:
        image = made[0]  # made off the runner loop when the run completed
    elif cell.image_count:
        if index not in thumbnails:
            from .._images import thumbnail

            try:
                thumbnails[index] = thumbnail(cell.image_bytes[0], max_side=384)
            except Exception as exc:
                view = {**view, "message": f"image cannot be shown: {exc}", "tone": "error"}
        image = thumbnails.get(index)
    return CellView(
        status=view["status"],
        detail=view["detail"],
        message=view["message"],
        tone=view["tone"],
        image=image,
    )
