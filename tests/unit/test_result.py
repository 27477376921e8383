"""Result: lazy safe decoding, save() with safe deterministic names, notebook reprs."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from mountsea_widgets.errors import ImageError
from mountsea_widgets.metadata import read_metadata
from mountsea_widgets.result import Result


def encode(color: str, fmt: str = "PNG", size: tuple[int, int] = (6, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def make(task_id: str = "hub-1", **kwargs: object) -> Result:
    defaults: dict[str, object] = {
        "task_id": task_id,
        "model": "nano-banana",
        "input": {"prompt": "a red cube", "seed": 1},
        "urls": ["https://cdn.test/1.png", "https://cdn.test/2.jpg"],
        "image_bytes": [encode("red"), encode("blue", "JPEG")],
        "content_types": ["image/png", "image/jpeg"],
        "elapsed_s": 6.25,
        "raw": {"status": "completed", "simulated": True},
    }
    defaults.update(kwargs)
    return Result(**defaults)  # type: ignore[arg-type]


def test_fields_and_simulated_flag() -> None:
    result = make()
    assert (result.task_id, result.model, result.status) == ("hub-1", "nano-banana", "completed")
    assert result.input == {"prompt": "a red cube", "seed": 1}
    assert result.prompt == "a red cube"
    assert result.simulated is True
    assert make(raw={"status": "completed"}).simulated is False


def test_images_decode_lazily_and_safely() -> None:
    result = make(image_bytes=[encode("red"), b"not an image"])
    assert result.image_bytes[1] == b"not an image"  # construction does not decode
    with pytest.raises(ImageError):
        _ = result.images
    good = make()
    first = good.images
    assert first[0].convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert first[0] is good.images[0]  # decoded once, then kept


def test_save_writes_deterministic_names(tmp_path: Path) -> None:
    result = make()
    paths = result.save(tmp_path / "out")
    assert [p.name for p in paths] == ["hub-1_1.png", "hub-1_2.jpg"]
    for path, original in zip(paths, result.image_bytes, strict=True):
        # The same pixels, with the generation metadata added to the container.
        with Image.open(path) as saved, Image.open(io.BytesIO(original)) as sent:
            assert saved.tobytes() == sent.tobytes()
        meta = read_metadata(path)
        assert (meta["model"], meta["input"], meta["task_id"]) == (
            "nano-banana",
            result.input,
            "hub-1",
        )
    assert result.save(tmp_path / "out") == paths  # same names again, no duplicates
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["hub-1_1.png", "hub-1_2.jpg"]


@pytest.mark.parametrize("task_id", ["../../escape", "/abs/path", "..", "a\\..\\b", "C:\\x"])
def test_save_never_writes_outside_the_folder(tmp_path: Path, task_id: str) -> None:
    folder = tmp_path / "inside"
    paths = make(task_id=task_id).save(folder)
    assert len(paths) == 2
    for path in paths:
        assert path.resolve().parent == folder.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inside"]


def test_unknown_content_type_gets_a_neutral_extension(tmp_path: Path) -> None:
    result = make(image_bytes=[encode("red")], content_types=["application/x-evil;.sh"])
    assert [p.name for p in result.save(tmp_path)] == ["hub-1_1.img"]


def test_repr_png_is_the_first_image_as_png() -> None:
    png = make()._repr_png_()
    assert png is not None and png.startswith(b"\x89PNG")
    converted = make(image_bytes=[encode("blue", "JPEG")], content_types=["image/jpeg"])
    data = converted._repr_png_()
    assert data is not None
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (6, 4)
    assert make(image_bytes=[], content_types=[])._repr_png_() is None


def test_repr_html_escapes_the_prompt_and_inlines_thumbnails() -> None:
    hostile = '<script>alert("x")</script> & <img src=x onerror=1>'
    html = make(input={"prompt": hostile}, task_id="<b>id</b>")._repr_html_()
    assert "<script>" not in html and "onerror=1>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;id&lt;/b&gt;" in html
    sources = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(sources) == 2
    thumb = Image.open(io.BytesIO(base64.b64decode(sources[0])))
    assert thumb.format == "JPEG"


def test_repr_html_survives_a_broken_image() -> None:
    html = make(image_bytes=[b"junk", encode("red")])._repr_html_()
    assert "cannot be shown" in html
    assert html.count("data:image/jpeg;base64,") == 1


def test_repr_is_short() -> None:
    text = repr(make(image_bytes=[encode("red", size=(2000, 2000))]))
    assert text.startswith("Result(task_id='hub-1', model='nano-banana'")
    assert "images=1" in text and "simulated=True" in text
    assert len(text) < 200
