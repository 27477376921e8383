"""What kind of file some bytes are, said in plain words, for messages about a non-image.

A message about bytes that are not an image names their kind ("a text file", "a PDF document")
and never shows the bytes themselves: a path typed by mistake (``/etc/shadow``) must not put the
start of a private file into a notebook cell.
"""

from __future__ import annotations

#: Leading bytes of common non-image files, and what to call them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "a program (an executable file)"),
    (b"MZ", "a Windows program"),
    (b"%!PS", "a PostScript document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio or video file"),
    (b"\x1a\x45\xdf\xa3", "a video file (WebM or Matroska)"),
)

#: How many leading bytes are looked at to tell text from binary data.
_SAMPLE = 4096


def describe_kind(data: bytes | bytearray | memoryview) -> str:
    """A plain description of what ``data`` is, for "... is not an image" messages.

    >>> describe_kind(b"root:*:20228:0:99999:7:::")
    'a text file'
    >>> describe_kind(b"%PDF-1.7")
    'a PDF document'
    """
    head = bytes(data[:_SAMPLE])
    if not head:
        return "an empty file"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[4:8] == b"ftyp":
        return "a video or audio file (MP4 or QuickTime family)"
    if b"\x00" in head:
        return "binary data"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut inside a multi-byte character is still text.
        if exc.start < len(head) - 3:
            return "binary data"
        text = head[: exc.start].decode("utf-8")
    stripped = text.lstrip().lower()
    if stripped.startswith("<svg") or ("<svg" in stripped[:400] and stripped.startswith("<?xml")):
        return "an SVG drawing (a vector image, not a raster one)"
    if stripped.startswith(("<!doctype html", "<html")):
        return "an HTML page"
    if stripped.startswith(("{", "[")):
        return "a JSON or text file"
    return "a text file"
