"""Generation metadata embedded in PNG/JPEG/WebP files and read back."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mountsea_widgets.errors import MountseaError
from mountsea_widgets.metadata import (
    MAX_METADATA_BYTES,
    SOFTWARE,
    MetadataError,
    content_type_of,
    embed,
    extension_for,
    read_metadata,
)

META: dict[str, Any] = {
    "model": "gpt-image-2",
    "input": {
        "prompt": "a lighthouse at dusk, café lights — 灯台",
        "image_size": {"width": 1536, "height": 1024},
        "num_images": 2,
        "seed": 42,
        "sync_mode": False,
    },
    "task_id": "hub-123e4567",
    "created": 1_760_000_000.25,
}


def encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (67, 45), **save: Any) -> bytes:
    """A small, non-uniform image (so a re-encode would change pixels) in ``fmt``."""
    image = Image.new(mode, size)
    image.putdata(
        [
            tuple((x * 7 + y * 3 + c * 50) % 256 for c in range(len(mode)))
            for y in range(size[1])
            for x in range(size[0])
        ]
    )
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, image.size, image.tobytes()


FORMATS = {
    "png": ("image/png", lambda: encoded("PNG")),
    "png-rgba": ("image/png", lambda: encoded("PNG", "RGBA")),
    "jpeg": ("image/jpeg", lambda: encoded("JPEG", quality=75)),
    "webp-lossless": ("image/webp", lambda: encoded("WEBP", lossless=True)),
    "webp-lossless-alpha": ("image/webp", lambda: encoded("WEBP", "RGBA", lossless=True)),
    "webp-lossy": ("image/webp", lambda: encoded("WEBP", quality=70)),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_round_trip_keeps_metadata_and_pixels(name: str, tmp_path: Path) -> None:
    content_type, make = FORMATS[name]
    original = make()
    path = tmp_path / f"image.{extension_for(original)}"
    path.write_bytes(embed(original, content_type, META))

    found = read_metadata(path)

    assert found["model"] == META["model"]
    assert found["input"] == META["input"]
    assert found["task_id"] == META["task_id"]
    assert found["created"] == META["created"]
    assert found["software"] == SOFTWARE
    # The container was edited, the compressed image data was not: pixels are identical.
    assert pixels(path.read_bytes()) == pixels(original)


def test_png_chunks_are_visible_to_other_tools(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(embed(encoded("PNG"), "image/png", META))
    with Image.open(path) as image:
        assert image.text["Software"] == SOFTWARE
        assert image.text["Description"] == META["input"]["prompt"]
        assert json.loads(image.text["mountsea"])["task_id"] == META["task_id"]


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_exif_tags_are_visible_to_other_tools(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "a.img"
    meta = dict(META, input={"prompt": "plain ascii prompt"})
    path.write_bytes(embed(encoded(fmt), f"image/{fmt.lower()}", meta))
    with Image.open(path) as image:
        exif = image.getexif()
    assert exif[0x0131] == SOFTWARE
    assert exif[0x010E] == "plain ascii prompt"


def test_existing_exif_is_kept_and_old_metadata_replaced(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    original = encoded("JPEG", exif=exif.tobytes())

    once = embed(original, "image/jpeg", META)
    twice = embed(once, "image/jpeg", dict(META, task_id="hub-second"))
    path = tmp_path / "a.jpg"
    path.write_bytes(twice)

    assert read_metadata(path)["task_id"] == "hub-second"
    with Image.open(path) as image:
        assert image.getexif()[0x010F] == "CameraMaker"
    assert twice.count(b"Exif\x00\x00") == 1  # one EXIF segment, not one per embed


def test_reembedding_png_replaces_our_chunks_and_keeps_others(tmp_path: Path) -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "someone")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)

    data = embed(embed(buffer.getvalue(), "image/png", META), "image/png", dict(META, seed=1))
    path = tmp_path / "a.png"
    path.write_bytes(data)

    assert data.count(b"iTXtmountsea") == 1
    with Image.open(path) as image:
        assert image.text["Author"] == "someone"
    assert read_metadata(path)["seed"] == 1


def test_simple_webp_is_promoted_to_extended_layout_readable_by_pillow(tmp_path: Path) -> None:
    original = encoded("WEBP", "RGBA", lossless=True)
    assert original[12:16] == b"VP8L"  # Pillow writes the simple layout without metadata
    path = tmp_path / "a.webp"
    path.write_bytes(embed(original, "image/webp", META))

    assert path.read_bytes()[12:16] == b"VP8X"
    (riff_size,) = struct.unpack("<I", path.read_bytes()[4:8])
    assert riff_size == path.stat().st_size - 8
    with Image.open(path) as image:
        assert image.mode == "RGBA"
        assert image.size == (67, 45)
        assert image.getexif()[0x0131] == SOFTWARE


def test_long_data_uris_are_replaced_by_a_note_that_is_not_a_uri(tmp_path: Path) -> None:
    reference = "data:image/png;base64," + "A" * 100_000
    meta = dict(META, input={"prompt": "edit", "image_urls": ["https://x/a.png", reference]})
    path = tmp_path / "a.jpg"
    path.write_bytes(embed(encoded("JPEG"), "image/jpeg", meta))

    found = read_metadata(path)

    assert found["input"]["image_urls"][0] == "https://x/a.png"
    note = found["input"]["image_urls"][1]
    assert not note.startswith("data:")
    assert "image/png" in note and "100022 chars" in note
    assert found["input_omitted"] == ["image_urls[1]"]


def test_values_that_are_not_json_are_embedded_as_text(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(embed(encoded("PNG"), "image/png", dict(META, source=Path("/x/y.png"))))
    assert read_metadata(path)["source"] == "/x/y.png"


def test_jpeg_metadata_too_large_for_one_segment_is_refused_clearly() -> None:
    meta = dict(META, input={"prompt": "x" * 70_000})
    with pytest.raises(MetadataError, match="too large for a JPEG EXIF segment"):
        embed(encoded("JPEG"), "image/jpeg", meta)


def test_large_png_metadata_is_compressed(tmp_path: Path) -> None:
    meta = dict(META, input={"prompt": "repeat " * 5000})
    data = embed(encoded("PNG"), "image/png", meta)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    assert len(data) < len(encoded("PNG")) + 5000
    assert read_metadata(path)["input"]["prompt"] == "repeat " * 5000


def test_image_without_metadata_raises_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    path.write_bytes(encoded("PNG"))
    with pytest.raises(MetadataError, match=r"plain\.png") as caught:
        read_metadata(path)
    assert isinstance(caught.value, MountseaError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_foreign_exif_user_comment_is_not_taken_for_ours(fmt: str, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + b'{"model": "not ours"}'
    path = tmp_path / "a.img"
    path.write_bytes(encoded(fmt, exif=exif.tobytes()))
    with pytest.raises(MetadataError, match="no mountsea-widgets metadata"):
        read_metadata(path)


def test_non_image_file_raises_metadata_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(MetadataError, match=r"notes\.txt"):
        read_metadata(path)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_metadata(tmp_path / "nope.png")


def test_unsupported_format_cannot_embed() -> None:
    with pytest.raises(MetadataError, match="only PNG, JPEG and WebP"):
        embed(encoded("GIF"), "image/gif", META)


def test_malformed_png_raises_metadata_error() -> None:
    broken = encoded("PNG")[:40]  # cut inside a chunk
    with pytest.raises(MetadataError, match="malformed"):
        embed(broken, "image/png", META)


def test_png_chunk_lengths_from_a_hostile_file_do_not_over_read(tmp_path: Path) -> None:
    data = bytearray(encoded("PNG"))
    data[33:37] = struct.pack(">I", 0x7FFFFFFF)  # length of the chunk after IHDR
    path = tmp_path / "hostile.png"
    path.write_bytes(bytes(data))
    with pytest.raises(MetadataError, match=r"hostile\.png"):
        read_metadata(path)


def test_format_is_sniffed_not_taken_from_the_content_type(tmp_path: Path) -> None:
    jpeg = encoded("JPEG")
    assert content_type_of(jpeg) == "image/jpeg"
    assert extension_for(jpeg, "image/png") == "jpg"
    assert extension_for(b"GIF89a...", "image/webp") == "webp"  # unknown bytes: declared type
    assert extension_for(b"garbage", "text/html") == "bin"
    path = tmp_path / "a.jpg"
    path.write_bytes(embed(jpeg, "image/png", META))  # lying content type
    assert read_metadata(path)["task_id"] == META["task_id"]


def test_embed_writes_valid_png_crcs() -> None:
    data = embed(encoded("PNG"), "image/png", META)
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        body = data[pos + 4 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(body) & 0xFFFFFFFF == crc
        pos += 12 + length
    assert pos == len(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.text(max_size=12), json_values, max_size=6))
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_any_json_input_round_trips(fmt: str, data: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / f"a.{fmt.lower()}"
    path.write_bytes(embed(encoded(fmt, size=(8, 8)), f"image/{fmt.lower()}", {"input": data}))
    assert read_metadata(path)["input"] == data


# --- hostile metadata --------------------------------------------------------------------------


def png_with_chunk(kind: bytes, body: bytes) -> bytes:
    """A small PNG with one extra chunk right after IHDR (where text chunks may go)."""
    png = encoded("PNG", size=(8, 8))
    after_ihdr = 8 + 12 + 13
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    return png[:after_ihdr] + chunk + png[after_ihdr:]


def mountsea_itxt(text: bytes, *, compressed: bool) -> bytes:
    """The body of an iTXt chunk under our keyword, with ``text`` as given (already deflated)."""
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    return b"mountsea\x00" + flag + b"\x00\x00" + text


def zeros_deflated(size: int) -> bytes:
    """A valid zlib stream of ``size`` zero bytes, built without ever holding them all.

    After a full flush the compressor forgets its history, so every further block of zeros
    deflates to the same bytes: one of them is repeated, and the trailer gets the checksum of
    the whole output.
    """
    block = bytes(1 << 20)
    count = size // len(block)
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)
    checksum = 1
    for _ in range(count):
        checksum = zlib.adler32(block, checksum)
    return first + repeated * (count - 1) + end[:-4] + checksum.to_bytes(4, "big")


def test_compressed_metadata_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    bomb = zeros_deflated(1 << 30)  # 1 GiB once inflated, about 1 MB on disk
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with_chunk(b"iTXt", mountsea_itxt(bomb, compressed=True)))
    tracemalloc.start()
    try:
        with pytest.raises(MetadataError, match=r"bomb\.png.*8,388,608-byte limit"):
            read_metadata(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024  # bounded by the limit, nowhere near the 1 GiB inflated


def test_compressed_ztxt_bomb_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    body = b"mountsea\x00\x00" + zeros_deflated(MAX_METADATA_BYTES + (1 << 20))
    path.write_bytes(png_with_chunk(b"zTXt", body))
    with pytest.raises(MetadataError, match="limit"):
        read_metadata(path)


def test_truncated_compressed_metadata_is_reported_as_incomplete(tmp_path: Path) -> None:
    text = json.dumps({"software": SOFTWARE, "input": {"prompt": "x" * 5000}}).encode()
    path = tmp_path / "cut.png"
    cut = zlib.compress(text)[:-10]
    path.write_bytes(png_with_chunk(b"iTXt", mountsea_itxt(cut, compressed=True)))
    with pytest.raises(MetadataError, match=r"cut\.png: compressed metadata is incomplete"):
        read_metadata(path)


@pytest.mark.parametrize("compressed", [False, True])
def test_metadata_that_is_not_utf8_raises_metadata_error(compressed: bool, tmp_path: Path) -> None:
    text = b'{"software": "mountsea-widgets", "model": "\xff\xfe"}'
    path = tmp_path / "latin.png"
    body = mountsea_itxt(zlib.compress(text) if compressed else text, compressed=compressed)
    path.write_bytes(png_with_chunk(b"iTXt", body))
    with pytest.raises(MetadataError, match=r"latin\.png.*not valid UTF-8"):
        read_metadata(path)


def test_metadata_that_is_not_json_raises_metadata_error(tmp_path: Path) -> None:
    path = tmp_path / "garbled.png"
    path.write_bytes(png_with_chunk(b"iTXt", mountsea_itxt(b'{"software": ', compressed=False)))
    with pytest.raises(MetadataError, match=r"garbled\.png.*not valid JSON"):
        read_metadata(path)


def test_deeply_nested_png_metadata_raises_metadata_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    deep = zlib.compress(b"[" * 100_000)
    path.write_bytes(png_with_chunk(b"iTXt", mountsea_itxt(deep, compressed=True)))
    with pytest.raises(MetadataError, match=r"deep\.png.*nested too deeply"):
        read_metadata(path)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_deeply_nested_exif_comment_raises_metadata_error(fmt: str, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + b"[" * 60_000
    path = tmp_path / "deep.img"
    path.write_bytes(encoded(fmt, exif=exif.tobytes()))
    with pytest.raises(MetadataError, match="nested too deeply"):
        read_metadata(path)


def test_everything_embedding_writes_is_read_back_and_more_is_refused(tmp_path: Path) -> None:
    # A prompt taking the payload just under the limit still embeds and reads back...
    base = len(json.dumps({"software": SOFTWARE, "format": 1, "input": {"prompt": ""}}))
    prompt = "a lighthouse " * ((MAX_METADATA_BYTES - base - 64) // 13)
    path = tmp_path / "big.png"
    path.write_bytes(embed(encoded("PNG"), "image/png", {"input": {"prompt": prompt}}))
    assert read_metadata(path)["input"]["prompt"] == prompt
    # ...while a payload past it is refused when embedding, not written unreadable.
    with pytest.raises(MetadataError, match="too large to embed"):
        embed(encoded("PNG"), "image/png", {"input": {"prompt": prompt + "x" * 100}})
