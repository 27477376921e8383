"""images.py: safe decoding of untrusted bytes, data URIs, thumbnails, file names."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from mountsea_widgets._images import (
    MAX_PIXELS,
    decode_image,
    parse_data_uri,
    safe_file_name,
    thumbnail,
    to_data_uri,
)
from mountsea_widgets.errors import ImageError
from tests.helpers.images import png_header


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_decode_common_formats(fmt: str) -> None:
    image = decode_image(encode(Image.new("RGB", (10, 7), "green"), fmt))
    assert image.size == (10, 7)
    assert image.format == fmt


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"<html>hello</html>", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "header|not an image"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not an image"),
    ],
    ids=["empty", "html", "broken-png", "eps"],
)
def test_decode_refuses_non_images(data: bytes, match: str) -> None:
    with pytest.raises(ImageError, match=match):
        decode_image(data)


def test_decode_refuses_truncated_image() -> None:
    data = encode(Image.effect_noise((64, 64), 50).convert("RGB"))
    with pytest.raises(ImageError):
        decode_image(data[: len(data) // 2])


@pytest.mark.parametrize("size", [(30000, 30000), (8000, 8000), (MAX_PIXELS + 1, 1)])
def test_decode_refuses_bombs_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(ImageError, match="pixels"):
        decode_image(png_header(*size))


def test_decode_rejects_wrong_type() -> None:
    with pytest.raises(ImageError, match="bytes"):
        decode_image("not bytes")  # type: ignore[arg-type]


def test_parse_data_uri() -> None:
    png = encode(Image.new("RGB", (2, 2)))
    data, mime = parse_data_uri("data:image/png;base64," + base64.b64encode(png).decode())
    assert (data, mime) == (png, "image/png")
    assert parse_data_uri("data:text/plain,hi%20there") == (b"hi there", "text/plain")
    assert parse_data_uri("DATA:Image/PNG;name=x;base64,QUJD") == (b"ABC", "image/png")


@pytest.mark.parametrize(
    "uri",
    [
        "https://x/y.png",
        "data:image/png;base64",
        "data:image/png;base64,@@@",
        "data:<b>;base64,QQ==",
    ],
)
def test_parse_data_uri_refuses_malformed(uri: str) -> None:
    with pytest.raises(ImageError):
        parse_data_uri(uri)


def test_to_data_uri_from_every_source(tmp_path: Path) -> None:
    image = Image.new("RGB", (3, 3), "red")
    from_pil = to_data_uri(image)
    assert from_pil.startswith("data:image/png;base64,")
    assert decode_image(parse_data_uri(from_pil)[0]).getpixel((0, 0)) == (255, 0, 0)
    jpeg = encode(image, "JPEG")
    assert to_data_uri(jpeg) == "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
    path = tmp_path / "a.webp"
    path.write_bytes(encode(image, "WEBP"))
    assert to_data_uri(path).startswith("data:image/webp;base64,")
    assert to_data_uri(str(path)) == to_data_uri(path)
    assert to_data_uri(from_pil) == from_pil


def test_to_data_uri_refuses_non_images(tmp_path: Path) -> None:
    with pytest.raises(ImageError):
        to_data_uri(b"text")
    with pytest.raises(ImageError, match="no image file"):
        to_data_uri(tmp_path / "missing.png")
    with pytest.raises(ImageError):
        to_data_uri(12)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
def test_thumbnail_is_small_jpeg(mode: str) -> None:
    big = Image.new(mode, (1200, 600))
    small = decode_image(thumbnail(encode(big), max_side=384))
    assert small.format == "JPEG"
    assert small.size == (384, 192)


def test_thumbnail_flattens_transparency_on_white() -> None:
    clear = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    pixel = decode_image(thumbnail(encode(clear))).getpixel((5, 5))
    assert isinstance(pixel, tuple) and min(pixel) > 240


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hub-1234_1.png", "hub-1234_1.png"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "fallback.png"),
        ("", "fallback.png"),
        ("///", "fallback.png"),
        (".hidden", "hidden"),
        ("a b\\c:d*?.png", "a_b_c_d_.png"),
        ("CON.png", "_CON.png"),
        ("trailing. ", "trailing._"),
        ("name.", "name"),
        ("ünïcødé.png", "_n_c_d_.png"),
    ],
)
def test_safe_file_name(name: str, expected: str) -> None:
    assert safe_file_name(name, "fallback.png") == expected


def test_safe_file_name_caps_length_and_keeps_extension() -> None:
    name = safe_file_name("x" * 500 + ".webp", "f")
    assert len(name) <= 120 and name.endswith(".webp")


def test_safe_file_name_sanitises_the_fallback_too() -> None:
    assert safe_file_name("..", "../evil") == "_evil"
    assert safe_file_name("", "") == "file"
