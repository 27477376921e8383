"""Safe image handling: decoding untrusted bytes, data URIs, thumbnails and file names.

Nothing from a server is trusted. Decoding goes through :func:`decode_image`, which refuses
anything that is not a common raster format and any image whose declared size exceeds
:data:`MAX_PIXELS` *before* the pixel data is decompressed (a tiny file can declare a huge
image: a decompression bomb).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from pathlib import Path
from urllib.parse import unquote_to_bytes

from PIL import Image, UnidentifiedImageError

from ._file_kinds import describe_kind
from .errors import ImageError

#: Most pixels (width x height) an image may declare before we refuse to decode it.
MAX_PIXELS = 50_000_000
#: Largest image file we accept, in bytes (downloads and data URIs alike).
MAX_IMAGE_BYTES = 64 * 1024 * 1024
#: Longest data URI we parse (base64 of MAX_IMAGE_BYTES plus a header).
MAX_DATA_URI_CHARS = MAX_IMAGE_BYTES * 4 // 3 + 1024

# Only plain raster formats: some Pillow plugins (EPS via Ghostscript, for one) do far more
# than parse bytes, and the hub only ever returns these.
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")

#: Longest side of a thumbnail, in pixels, unless asked otherwise.
THUMBNAIL_SIDE = 384
#: Largest thumbnail, in bytes: thumbnails travel over widget comms up front.
MAX_THUMBNAIL_BYTES = 256 * 1024

#: File extension for each image content type we write.
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/avif": "avif",
}

_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def _formats() -> list[str]:
    Image.init()
    return [name for name in _FORMATS if name in Image.OPEN]


def decode_image(data: bytes) -> Image.Image:
    """Decode ``data`` into a loaded PIL image, or raise :class:`ImageError`.

    Refuses non-image bytes, unsupported formats, truncated files and images declaring more
    than :data:`MAX_PIXELS` pixels (checked from the header before any pixel is decoded).
    """
    return _load(_open_checked(data))


def _open_checked(data: bytes) -> Image.Image:
    """Open ``data`` lazily (header only), after every check that needs no pixel decoding."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ImageError(f"image data must be bytes, got {type(data).__name__}")
    if not data:
        raise ImageError("the image is empty (0 bytes)")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"the image is {len(data):,} bytes; the limit is {MAX_IMAGE_BYTES:,}")
    try:
        image = Image.open(io.BytesIO(bytes(data)), formats=_formats())
    except UnidentifiedImageError:
        # Its kind, never its bytes: a mistyped path must not show a private file's start.
        raise ImageError(
            f"the data is not an image: it looks like {describe_kind(data)} (supported image "
            f"formats: {', '.join(_formats())})"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"the image declares too many pixels: {exc}") from None
    except Exception:  # Pillow raises many types (some quoting the bytes) for broken headers
        raise ImageError(
            "the image header could not be read: the file is damaged or not really an image"
            f" (it looks like {describe_kind(data)})"
        ) from None
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        image.close()
        raise ImageError(
            f"the image declares {width}x{height} = {width * height:,} pixels; "
            f"the limit is {MAX_PIXELS:,} (refused before decoding)"
        )
    return image


def declared_pixels(data: bytes) -> int:
    """How many pixels (width x height) the image in ``data`` declares, read from its header
    only (no pixel is decoded); :class:`ImageError` as :func:`decode_image` would raise."""
    image = _open_checked(data)
    try:
        width, height = image.size
        return width * height
    finally:
        image.close()


def _load(image: Image.Image) -> Image.Image:
    try:
        image.load()
    except Exception as exc:
        raise ImageError(f"the {image.format} image could not be decoded: {exc}") from None
    return image


def content_type_of(image: Image.Image) -> str:
    """The content type matching a decoded image's actual format (not what a server claimed)."""
    return Image.MIME.get(image.format or "", "application/octet-stream")


def parse_data_uri(uri: str) -> tuple[bytes, str]:
    """Split a ``data:`` URI into its bytes and media type; :class:`ImageError` when malformed."""
    if not isinstance(uri, str) or uri[:5].lower() != "data:":
        raise ImageError("not a data: URI")
    if len(uri) > MAX_DATA_URI_CHARS:
        raise ImageError(f"the data URI is over {MAX_DATA_URI_CHARS:,} characters")
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise ImageError("malformed data: URI (no comma before the data)")
    parts = [part.strip() for part in header.split(";")]
    mime = parts[0].lower() or "text/plain"
    if not _MIME.match(mime):
        raise ImageError(f"malformed data: URI media type {mime[:40]!r}")
    if any(part.lower() == "base64" for part in parts[1:]):
        try:
            data = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
        except (binascii.Error, ValueError):
            raise ImageError("malformed data: URI (invalid base64)") from None
    else:
        data = unquote_to_bytes(payload)
    return data, mime


def to_data_uri(image: Image.Image | bytes | str | Path) -> str:
    """A ``data:image/...;base64,`` URI for a PIL image, image bytes, or an image file path.

    PIL images are encoded as PNG; bytes and files keep their own format (checked by decoding,
    so a non-image is refused with :class:`ImageError`). A string that already is a data URI is
    checked and returned unchanged.
    """
    if isinstance(image, Image.Image):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    if isinstance(image, str) and image[:5].lower() == "data:":
        data, _ = parse_data_uri(image)
        decode_image(data)
        return image
    if isinstance(image, str | Path):
        path = Path(image)
        if not path.is_file():
            raise ImageError(f"no image file at {str(path)!r}")
        data = path.read_bytes()
    elif isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
    else:
        raise ImageError(f"expected a PIL image, bytes or a file path, got {type(image).__name__}")
    mime = content_type_of(decode_image(data))
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def thumbnail(
    data: bytes, max_side: int = THUMBNAIL_SIDE, max_bytes: int = MAX_THUMBNAIL_BYTES
) -> bytes:
    """A small JPEG of the image in ``data`` (longest side ``max_side``), for galleries.

    Fast on big images: a JPEG is decoded at a reduced scale (``Image.draft``: the decoder
    skips most of the work), any image is shrunk by whole-pixel box reduction before the final
    resampling (``reducing_gap``), and colour conversion and transparency flattening happen on
    the small image. The result is at most ``max_bytes`` (lower JPEG quality, then a smaller
    size, until it fits), so a thumbnail always travels cheaply over a widget comm.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side!r}")
    image = _open_checked(data)
    if image.format == "JPEG":
        # Decode straight to >= 2x the target size (a power-of-two DCT scale), then resample.
        image.draft("RGB", (max_side * 2, max_side * 2))
    image = _load(image)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        # Palette, 16-bit, CMYK...: resampling needs a true-colour mode (palette would be NEAREST).
        transparent = "transparency" in image.info or image.mode in ("PA", "RGBa", "La")
        image = image.convert("RGBA" if transparent else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    for quality, scale in ((85, 1.0), (70, 1.0), (55, 0.75), (45, 0.5), (40, 0.25)):
        if scale < 1.0:
            side = max(1, int(max_side * scale))
            image.thumbnail((side, side), Image.Resampling.BICUBIC)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        if buffer.tell() <= max_bytes:
            break
    return buffer.getvalue()


def safe_file_name(name: str, fallback: str) -> str:
    """A file name safe on any OS, made from an untrusted ``name`` (else from ``fallback``).

    Path separators and other special characters become ``_``, leading dots are dropped (no
    ``..``, no hidden files), reserved Windows names are prefixed, and the length is capped.
    The result never contains a directory part.
    """
    cleaned = _clean_name(name)
    if cleaned:
        return cleaned
    return _clean_name(fallback) or "file"


def _clean_name(name: object) -> str:
    if not isinstance(name, str):
        return ""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    cleaned = cleaned.lstrip(".").rstrip(". ")
    if len(cleaned) > 120:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = stem[: 120 - len(ext) - 1] + "." + ext if dot and len(ext) <= 8 else cleaned[:120]
    if cleaned.strip("_") == "":
        return ""
    if _WINDOWS_RESERVED.match(cleaned):
        cleaned = "_" + cleaned
    return cleaned
