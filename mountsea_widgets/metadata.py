"""Generation metadata inside saved images: embed it, read it back (``mw.read_metadata``).

A saved image carries what made it: the model, the exact input JSON, the task id, the time and
``"software": "mountsea-widgets"``. Where it lives, per format:

- **PNG**: an ``iTXt`` chunk with keyword ``mountsea`` holding the JSON (zlib-compressed when
  long), plus ``Software`` and ``Description`` (the prompt) text chunks other tools display.
- **JPEG** and **WebP**: EXIF. ``UserComment`` holds the JSON (ASCII, ``\\uXXXX`` escapes),
  ``Software`` says ``mountsea-widgets`` and ``ImageDescription`` holds an ASCII prompt.
  Existing EXIF tags are kept.

Embedding edits the container only (PNG chunks, JPEG APP segments, RIFF chunks): the compressed
pixel data is copied byte for byte, so nothing is re-encoded, no quality is lost and no pixels
are decoded (a hostile image cannot blow up memory here).

Long ``data:`` URIs in the input (reference images, easily megabytes) are replaced in the
embedded copy by a short note with their SHA-256, and their places are listed under
``"input_omitted"``: a JPEG's EXIF segment holds at most 64 KB, and copying a reference image
into every output would double its size. The history journal keeps them in full.

Reading trusts nothing in the file: compressed metadata is inflated only up to
:data:`MAX_METADATA_BYTES` (a small file cannot expand into gigabytes), and text that is not
UTF-8, not JSON or nested absurdly deep is reported as :class:`MetadataError`.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ImageError, MountseaError

__all__ = [
    "MAX_METADATA_BYTES",
    "PNG_KEYWORD",
    "SOFTWARE",
    "MetadataError",
    "content_type_of",
    "embed",
    "extension_for",
    "read_metadata",
    "shorten_data_uris",
]

#: The ``software`` value written into every image, and the one :func:`read_metadata` expects.
SOFTWARE = "mountsea-widgets"
#: The PNG text keyword that holds the metadata JSON.
PNG_KEYWORD = "mountsea"
#: Version of the embedded JSON layout, so later readers can tell old files apart.
FORMAT_VERSION = 1
#: ``data:`` URIs longer than this are replaced by a note in embedded metadata.
MAX_EMBEDDED_DATA_URI = 2048
#: Largest metadata JSON (in bytes) that is embedded or read back. Real payloads are a few KB:
#: long data: URIs are shortened to a note, so even ten references and a long prompt stay far
#: below this. Embedding refuses more, so reading accepts everything embedding writes, while a
#: hostile file cannot make the reader inflate or parse more than this.
MAX_METADATA_BYTES = 8 * 1024 * 1024

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_HEADER = b"Exif\x00\x00"
_USER_COMMENT_ASCII = b"ASCII\x00\x00\x00"
_TAG_IMAGE_DESCRIPTION = 0x010E
_TAG_SOFTWARE = 0x0131
_TAG_EXIF_IFD = 0x8769
_TAG_USER_COMMENT = 0x9286
#: An APP1 segment's length field is 16 bits and counts itself.
_MAX_JPEG_SEGMENT = 0xFFFF - 2
_DATA_URI = re.compile(r"^data:([a-z0-9.+/-]*)[;,]", re.IGNORECASE)


class MetadataError(MountseaError, ValueError):
    """An image has no mountsea metadata, or metadata cannot be embedded in it."""


class _InvalidJson(MetadataError):
    """Metadata text that does not parse as JSON at all."""


# --- formats -----------------------------------------------------------------------------------

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}


def content_type_of(data: bytes) -> str | None:
    """The image type the bytes really are (PNG, JPEG or WebP), from their magic numbers.

    Nothing a server says is trusted, so files are named and embedded by what the bytes are,
    not by the ``Content-Type`` that came with them.
    """
    if data.startswith(_PNG_SIGNATURE):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def extension_for(data: bytes, content_type: str | None = None) -> str:
    """File extension (no dot) for image bytes: sniffed first, then ``content_type``, else bin."""
    sniffed = content_type_of(data)
    if sniffed:
        return _EXTENSIONS[sniffed]
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared == "image/jpg":
        declared = "image/jpeg"
    return _EXTENSIONS.get(declared, "bin")


# --- the JSON that is embedded -----------------------------------------------------------------


def shorten_data_uris(value: Any, limit: int = MAX_EMBEDDED_DATA_URI) -> tuple[Any, list[str]]:
    """A copy of ``value`` with every ``data:`` URI longer than ``limit`` replaced by a note.

    Returns the copy and the places replaced (``image_urls[0]`` style). The note names the
    media type, the length and the SHA-256, and is deliberately not a valid URI, so it can
    never be sent to the hub by mistake as if it were the image.
    """
    omitted: list[str] = []

    def walk(item: Any, where: str) -> Any:
        if isinstance(item, str):
            match = _DATA_URI.match(item)
            if match and len(item) > limit:
                omitted.append(where or "input")
                digest = hashlib.sha256(item.encode("utf-8")).hexdigest()
                media = match.group(1) or "unknown"
                return f"<omitted data URI: {media}, {len(item)} chars, sha256 {digest}>"
            return item
        if isinstance(item, Mapping):
            return {str(k): walk(v, f"{where}.{k}" if where else str(k)) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(item)]
        return item

    return walk(value, ""), omitted


def _payload(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The dict actually embedded: ``meta`` with ``software`` and ``format`` set, URIs shortened."""
    payload: dict[str, Any] = {"software": SOFTWARE, "format": FORMAT_VERSION}
    payload.update(meta)
    payload["software"] = SOFTWARE
    if "input" in payload:
        shortened, omitted = shorten_data_uris(payload["input"])
        payload["input"] = shortened
        if omitted:
            payload["input_omitted"] = omitted
    return payload


def _prompt_of(payload: Mapping[str, Any]) -> str | None:
    data = payload.get("input")
    prompt = data.get("prompt") if isinstance(data, Mapping) else None
    return prompt if isinstance(prompt, str) and prompt else None


# --- public API --------------------------------------------------------------------------------


def embed(data: bytes, content_type: str, meta: Mapping[str, Any]) -> bytes:
    """Return ``data`` with ``meta`` embedded, pixels untouched (PNG, JPEG or WebP).

    The format is taken from the bytes themselves (``content_type`` only names it in errors).
    Earlier mountsea metadata in the image is replaced, other metadata is kept. Raises
    :class:`MetadataError` for other formats, malformed containers, metadata larger than
    :data:`MAX_METADATA_BYTES`, or (JPEG only) metadata larger than one 64 KB EXIF segment.
    """
    payload = _payload(meta)
    kind = content_type_of(data)
    try:
        if kind == "image/png":
            return _png_embed(data, payload)
        if kind == "image/jpeg":
            return _jpeg_embed(data, payload)
        if kind == "image/webp":
            return _webp_embed(data, payload)
    except (struct.error, IndexError, zlib.error, ImageError) as exc:
        raise MetadataError(f"cannot embed metadata: malformed {kind} data ({exc})") from exc
    raise MetadataError(
        f"cannot embed metadata in {content_type or 'unknown'} data: "
        "only PNG, JPEG and WebP images are supported"
    )


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The generation metadata saved inside an image file.

    Returns the embedded dict: ``model``, ``input``, ``task_id``, ``created`` (Unix time),
    ``software`` and whatever else was saved (``run_id``, ``index``, ``input_omitted``...).
    Raises :class:`MetadataError` naming the file when it holds no mountsea metadata, holds
    metadata that cannot be read (compressed past :data:`MAX_METADATA_BYTES`, not UTF-8, not
    JSON) or is not a PNG, JPEG or WebP image, and ``FileNotFoundError`` when it does not exist.
    """
    file = Path(path)
    data = file.read_bytes()
    kind = content_type_of(data)
    readers = {"image/png": _png_read, "image/jpeg": _jpeg_read, "image/webp": _webp_read}
    reader = readers.get(kind or "")
    if reader is None:
        raise MetadataError(f"{file}: not a PNG, JPEG or WebP image, so it has no metadata")
    try:
        found = reader(data)
    except (struct.error, IndexError, zlib.error, ImageError) as exc:
        raise MetadataError(f"{file}: malformed {kind} image ({exc})") from exc
    except MetadataError as exc:
        raise MetadataError(f"{file}: {exc}") from exc
    if found is None:
        raise MetadataError(f"{file}: no mountsea-widgets metadata in this image")
    return found


def _payload_json(payload: Mapping[str, Any], *, ascii_only: bool) -> str:
    """The payload as compact JSON; MetadataError when it is larger than a reader accepts."""
    text = json.dumps(payload, ensure_ascii=ascii_only, separators=(",", ":"), default=str)
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise MetadataError(
            f"metadata is too large to embed ({size:,} bytes, at most {MAX_METADATA_BYTES:,})"
        )
    return text


def _load_json(text: str) -> Any:
    """The JSON value of embedded metadata text, or MetadataError saying why it is unreadable."""
    if len(text) > MAX_METADATA_BYTES:
        raise MetadataError(
            f"metadata is larger than the {MAX_METADATA_BYTES:,}-byte limit, so it is not read"
        )
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise MetadataError("metadata JSON is nested too deeply to read") from exc
    except ValueError as exc:
        raise _InvalidJson(f"metadata is not valid JSON ({exc})") from exc


def _ours(value: Any) -> dict[str, Any] | None:
    """``value`` when it is a mountsea-widgets payload, else None."""
    if isinstance(value, dict) and value.get("software") == SOFTWARE:
        return value
    return None


# --- PNG: text chunks ----------------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) for every chunk; checks lengths so a hostile file cannot over-read."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ImageError("no PNG signature")
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(_PNG_SIGNATURE)
    while pos < len(data):
        if pos + 12 > len(data):
            raise ImageError("truncated PNG chunk header")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ImageError(f"PNG chunk {kind!r} runs past the end of the file")
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos = end
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR":
        raise ImageError("PNG does not start with IHDR")
    return chunks


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _png_itxt(keyword: str, text: str, *, compress: bool) -> bytes:
    raw = text.encode("utf-8")
    # keyword, compression flag and method, empty language tag, empty translated keyword, text
    head = keyword.encode("latin-1") + b"\x00"
    if compress:
        return _png_chunk(b"iTXt", head + b"\x01\x00\x00\x00" + zlib.compress(raw, 9))
    return _png_chunk(b"iTXt", head + b"\x00\x00\x00\x00" + raw)


def _png_text_keyword(kind: bytes, body: bytes) -> str | None:
    if kind not in (b"tEXt", b"iTXt", b"zTXt"):
        return None
    keyword, _, _ = body.partition(b"\x00")
    return keyword.decode("latin-1")


def _inflate(compressed: bytes) -> bytes:
    """Decompress a zlib stream, refusing to produce more than :data:`MAX_METADATA_BYTES`."""
    inflater = zlib.decompressobj()
    # One byte past the limit tells a payload exactly at the limit from one that is larger.
    raw = inflater.decompress(compressed, MAX_METADATA_BYTES + 1)
    if len(raw) > MAX_METADATA_BYTES:
        raise MetadataError(
            f"compressed metadata inflates past the {MAX_METADATA_BYTES:,}-byte limit"
        )
    if not inflater.eof:
        raise MetadataError("compressed metadata is incomplete (truncated zlib stream)")
    return raw


def _png_text_value(kind: bytes, body: bytes) -> str | None:
    _, _, rest = body.partition(b"\x00")
    if kind == b"tEXt":
        return rest.decode("latin-1")
    if kind == b"zTXt":
        return _inflate(rest[1:]).decode("latin-1")
    if kind == b"iTXt":
        compressed, rest = rest[0], rest[2:]
        _, _, rest = rest.partition(b"\x00")  # language tag
        _, _, text = rest.partition(b"\x00")  # translated keyword
        raw = _inflate(text) if compressed else text
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetadataError(f"metadata text is not valid UTF-8 ({exc.reason})") from exc
    return None


def _png_embed(data: bytes, payload: Mapping[str, Any]) -> bytes:
    ours = {PNG_KEYWORD, "Software", "Description"}
    text = _payload_json(payload, ascii_only=False)
    extra = [
        _png_itxt(PNG_KEYWORD, text, compress=len(text) > 1024),
        _png_chunk(b"tEXt", b"Software\x00" + SOFTWARE.encode("latin-1")),
    ]
    prompt = _prompt_of(payload)
    if prompt:
        extra.append(_png_itxt("Description", prompt, compress=len(prompt) > 1024))
    out = [_PNG_SIGNATURE]
    inserted = False
    for kind, body in _png_chunks(data):
        if _png_text_keyword(kind, body) in ours:
            continue  # replaced by ours
        # Before the first IDAT, so readers (Pillow included) see it without decoding pixels.
        if not inserted and kind in (b"IDAT", b"IEND"):
            out.extend(extra)
            inserted = True
        out.append(_png_chunk(kind, body))
    if not inserted:
        raise ImageError("PNG has no IDAT or IEND chunk")
    return b"".join(out)


def _png_read(data: bytes) -> dict[str, Any] | None:
    for kind, body in _png_chunks(data):
        if _png_text_keyword(kind, body) == PNG_KEYWORD:
            # The chunk claims to be ours, so a payload that cannot be read is an error.
            value = _png_text_value(kind, body)
            found = _ours(_load_json(value)) if value is not None else None
            if found is not None:
                return found
    return None


# --- EXIF (JPEG and WebP) -----------------------------------------------------------------------


def _exif_with_payload(existing: bytes | None, payload: Mapping[str, Any]) -> bytes:
    """TIFF-structured EXIF (no ``Exif\\0\\0`` header) with our tags merged into ``existing``."""
    from PIL import Image

    exif = Image.Exif()
    if existing:
        try:
            exif.load(existing)
        except Exception:  # unreadable old EXIF: start afresh rather than fail
            exif = Image.Exif()
    exif[_TAG_SOFTWARE] = SOFTWARE
    prompt = _prompt_of(payload)
    if prompt and prompt.isascii():
        exif[_TAG_IMAGE_DESCRIPTION] = prompt
    text = _payload_json(payload, ascii_only=True)
    exif.get_ifd(_TAG_EXIF_IFD)[_TAG_USER_COMMENT] = _USER_COMMENT_ASCII + text.encode("ascii")
    raw = exif.tobytes()
    return raw[len(_EXIF_HEADER) :] if raw.startswith(_EXIF_HEADER) else raw


def _exif_read(raw: bytes) -> dict[str, Any] | None:
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(raw if raw.startswith(_EXIF_HEADER) else _EXIF_HEADER + raw)
        comment = exif.get_ifd(_TAG_EXIF_IFD).get(_TAG_USER_COMMENT)
    except Exception:  # any broken EXIF simply holds no metadata of ours
        return None
    if isinstance(comment, str):
        comment = comment.encode("utf-8", "replace")
    if not isinstance(comment, bytes):
        return None
    if comment.startswith(_USER_COMMENT_ASCII):
        text = comment[len(_USER_COMMENT_ASCII) :].decode("ascii", "replace")
    elif comment.startswith(b"UNICODE\x00"):
        tiff = raw[len(_EXIF_HEADER) :] if raw.startswith(_EXIF_HEADER) else raw
        codec = "utf-16-le" if tiff.startswith(b"II") else "utf-16-be"
        text = comment[8:].decode(codec, "replace")
    else:
        text = comment.decode("utf-8", "replace")
    return _exif_payload(text.rstrip("\x00 "))


def _exif_payload(text: str) -> dict[str, Any] | None:
    """Our payload from an EXIF UserComment, None when the comment is someone else's.

    Any tool may write a UserComment, so text that is not JSON is simply not ours; a comment
    too large or too deeply nested to read is still refused with a clear MetadataError.
    """
    try:
        return _ours(_load_json(text))
    except _InvalidJson:
        return None


# --- JPEG: APP1 segments ------------------------------------------------------------------------


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Header segments as (marker, body) up to the scan, and the rest (scan data onwards)."""
    if not data.startswith(b"\xff\xd8"):
        raise ImageError("no JPEG start-of-image marker")
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while True:
        if pos >= len(data) or data[pos] != 0xFF:
            raise ImageError("JPEG segment marker expected")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1  # fill bytes
        marker = data[pos]
        pos += 1
        if marker == 0xDA or marker == 0xD9:  # start of scan / end of image: copy the rest
            return segments, data[pos - 2 :]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segments.append((marker, b""))
            continue
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > len(data):
            raise ImageError(f"JPEG segment 0x{marker:02X} runs past the end of the file")
        segments.append((marker, data[pos + 2 : pos + length]))
        pos += length


def _jpeg_segment(marker: int, body: bytes) -> bytes:
    if 0xD0 <= marker <= 0xD7 or marker == 0x01:
        return bytes((0xFF, marker))
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def _jpeg_embed(data: bytes, payload: Mapping[str, Any]) -> bytes:
    segments, rest = _jpeg_segments(data)
    existing = next(
        (body for marker, body in segments if marker == 0xE1 and body.startswith(_EXIF_HEADER)),
        None,
    )
    app1 = _EXIF_HEADER + _exif_with_payload(existing, payload)
    if len(app1) > _MAX_JPEG_SEGMENT:
        raise MetadataError(
            f"metadata is too large for a JPEG EXIF segment ({len(app1):,} bytes, "
            f"at most {_MAX_JPEG_SEGMENT:,})"
        )
    kept = [(m, b) for m, b in segments if not (m == 0xE1 and b.startswith(_EXIF_HEADER))]
    # EXIF goes right after SOI, or after a JFIF APP0 where there is one (what readers expect).
    at = 1 if kept and kept[0][0] == 0xE0 else 0
    kept.insert(at, (0xE1, app1))
    return b"\xff\xd8" + b"".join(_jpeg_segment(m, b) for m, b in kept) + rest


def _jpeg_read(data: bytes) -> dict[str, Any] | None:
    segments, _ = _jpeg_segments(data)
    for marker, body in segments:
        if marker == 0xE1 and body.startswith(_EXIF_HEADER):
            found = _exif_read(body)
            if found is not None:
                return found
    return None


# --- WebP: RIFF chunks --------------------------------------------------------------------------

_VP8X_EXIF = 0x08
_VP8X_ALPHA = 0x10


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ImageError("no RIFF/WEBP header")
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + riff_size)
    chunks: list[tuple[bytes, bytes]] = []
    pos = 12
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + length > end:
            raise ImageError(f"WebP chunk {kind!r} runs past the end of the file")
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length + (length & 1)
    if not chunks:
        raise ImageError("WebP has no chunks")
    return chunks


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _webp_canvas(kind: bytes, body: bytes) -> tuple[int, int, bool]:
    """Width, height and has-alpha of a simple (VP8 or VP8L) WebP bitstream."""
    if kind == b"VP8L":
        if body[0] != 0x2F:
            raise ImageError("bad VP8L signature")
        (bits,) = struct.unpack("<I", body[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    if kind == b"VP8 ":
        if body[3:6] != b"\x9d\x01\x2a":
            raise ImageError("bad VP8 start code")
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    raise ImageError(f"unexpected first WebP chunk {kind!r}")


def _webp_embed(data: bytes, payload: Mapping[str, Any]) -> bytes:
    chunks = _riff_chunks(data)
    existing = next((body for kind, body in chunks if kind == b"EXIF"), None)
    exif = _exif_with_payload(existing, payload)
    chunks = [(k, b) for k, b in chunks if k != b"EXIF"]
    if chunks[0][0] != b"VP8X":
        # A simple file has no room for EXIF: promote it to the extended layout.
        width, height, alpha = _webp_canvas(*chunks[0])
        flags = _VP8X_ALPHA if alpha else 0
        header = bytes((flags, 0, 0, 0)) + (width - 1).to_bytes(3, "little")
        header += (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", header))
    vp8x = bytearray(chunks[0][1])
    vp8x[0] |= _VP8X_EXIF
    chunks[0] = (b"VP8X", bytes(vp8x))
    # Spec order: ... image data, EXIF, XMP, unknown chunks.
    at = next((i for i, (k, _) in enumerate(chunks) if k == b"XMP "), len(chunks))
    chunks.insert(at, (b"EXIF", exif))
    body = b"WEBP" + b"".join(_riff_chunk(k, b) for k, b in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _webp_read(data: bytes) -> dict[str, Any] | None:
    for kind, body in _riff_chunks(data):
        if kind == b"EXIF":
            return _exif_read(body)
    return None
