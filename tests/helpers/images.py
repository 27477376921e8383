"""Small encoded images for tests: solid colours, noise, and PNGs that only declare a size."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image

#: A colour as Pillow takes it: an RGB triple or a name such as ``"teal"``.
Color = tuple[int, int, int] | str


def solid_image(
    color: Color = (200, 30, 30), size: tuple[int, int] = (64, 48), format: str = "PNG"
) -> bytes:
    """An RGB image of one colour, encoded in ``format``."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=format)
    return buffer.getvalue()


def solid_png(color: Color = (200, 30, 30), size: tuple[int, int] = (64, 48)) -> bytes:
    """A PNG of one colour (64 x 48 and red unless told otherwise)."""
    return solid_image(color, size, "PNG")


def noise_png(size: tuple[int, int], seed: int = 7) -> bytes:
    """A PNG of random pixels, the same ones for the same seed (noise does not compress)."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buffer, "PNG")
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and CRC."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_header(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG that *declares* width x height (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )
