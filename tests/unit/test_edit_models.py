"""Edit-model image input: PIL images, Paths and bytes become data URIs before validation; the
caps on image_urls; the magic's local files. One layer at a time (MockTransport for the client)."""

from __future__ import annotations

import asyncio
import base64
import importlib
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from mountsea_widgets import _image_input as image_input
from mountsea_widgets._image_input import prepare_input, reference_for, to_reference
from mountsea_widgets._images import parse_data_uri
from mountsea_widgets.catalog import (
    MAX_DATA_URI_CHARS,
    MAX_DATA_URI_TOTAL_CHARS,
    MAX_IMAGE_URLS,
    catalog,
)
from mountsea_widgets.client import AsyncClient, Client
from mountsea_widgets.errors import ImageError, ValidationError
from mountsea_widgets.magics import parse_line
from tests.helpers.images import solid_image, solid_png

URL = "https://images.example/cat.png"
MAGENTA = (255, 0, 255)
#: The size of the test photos unless a test says otherwise.
PHOTO_SIZE = (24, 16)
# ``mountsea_widgets.catalog`` the attribute is the Catalog object; this is the module.
catalog_module = importlib.import_module("mountsea_widgets.catalog")


def _decoded(uri: str) -> Image.Image:
    data, _mime = parse_data_uri(uri)
    return Image.open(io.BytesIO(data))


def _data_uri_of(chars: int) -> str:
    """A syntactically valid data:image URI exactly ``chars`` characters long."""
    head = "data:image/png;base64,"
    return head + "A" * (chars - len(head))


# --- converting what Python callers give -------------------------------------------------------


def test_a_pil_image_becomes_a_png_data_uri() -> None:
    image = Image.new("RGB", (30, 20), (255, 0, 0))
    prepared = prepare_input("nano-banana-edit", {"prompt": "x", "image_urls": [image]})
    (uri,) = prepared["image_urls"]
    assert uri.startswith("data:image/png;base64,")
    decoded = _decoded(uri)
    assert decoded.size == (30, 20) and decoded.getpixel((0, 0)) == (255, 0, 0)


def test_a_path_becomes_a_data_uri_in_the_files_own_format(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(solid_image((0, 128, 255), (20, 20), "JPEG"))
    prepared = prepare_input("nano-banana-edit", {"image_urls": [photo]})
    assert prepared["image_urls"][0].startswith("data:image/jpeg;base64,")
    assert parse_data_uri(prepared["image_urls"][0])[0] == photo.read_bytes()


def test_bytes_become_a_data_uri_and_strings_are_kept_as_given() -> None:
    data = solid_png(MAGENTA, PHOTO_SIZE)
    given = [URL, data, bytearray(data), "data:image/png;base64," + base64.b64encode(data).decode()]
    prepared = prepare_input("nano-banana-edit", {"image_urls": given})
    urls = prepared["image_urls"]
    assert urls[0] == URL and urls[3] == given[3]
    assert parse_data_uri(urls[1]) == (data, "image/png")
    assert parse_data_uri(urls[2]) == (data, "image/png")


def test_a_string_is_never_read_as_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cat.png").write_bytes(solid_png(MAGENTA, PHOTO_SIZE))
    monkeypatch.chdir(tmp_path)
    prepared = prepare_input("nano-banana-edit", {"prompt": "x", "image_urls": ["cat.png"]})
    assert prepared["image_urls"] == ["cat.png"]  # unchanged: Path("cat.png") is how to send it
    with pytest.raises(ValidationError) as caught:
        catalog["nano-banana-edit"].validate(prepared)
    assert caught.value.params == ["image_urls"]
    assert "is not an http(s) URL" in str(caught.value)


def test_a_single_image_is_a_one_item_list_and_mask_url_converts_too() -> None:
    image = Image.new("L", (16, 16), 255)
    prepared = prepare_input("gpt-image-2-edit", {"image_urls": image, "mask_url": image})
    assert len(prepared["image_urls"]) == 1
    assert prepared["mask_url"].startswith("data:image/png;base64,")
    clean = catalog["gpt-image-2-edit"].validate({"prompt": "x", **prepared})
    assert clean["mask_url"] == prepared["mask_url"]


def test_input_without_images_to_convert_is_returned_as_is() -> None:
    given = {"prompt": "x", "image_urls": [URL], "seed": 3}
    assert not image_input.needs_conversion(given)
    assert prepare_input("nano-banana-edit", given) == given
    assert image_input.needs_conversion({"image_urls": [URL, b"\x89PNG"]})


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (b"not an image at all", "item 1 (19 bytes) cannot be sent as an image"),
        (Path("/no/such/file.png"), "item 1 (file '/no/such/file.png')"),
    ],
)
def test_unreadable_images_name_image_urls_and_the_item(item: Any, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        prepare_input("nano-banana-edit", {"image_urls": [URL, item]})
    assert caught.value.params == ["image_urls"]
    assert expected in str(caught.value)


def test_a_file_too_big_to_send_inline_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(solid_png(MAGENTA, (64, 64)))
    monkeypatch.setattr(image_input, "MAX_FILE_BYTES", 100)
    with pytest.raises(ImageError, match="upload it somewhere"):
        to_reference(big)


def test_reference_for_prefers_an_http_url_and_falls_back_to_the_bytes() -> None:
    data = solid_png(MAGENTA, PHOTO_SIZE)
    assert reference_for("http://127.0.0.1:9/files/t/0.png", lambda: data).startswith("http://")
    assert reference_for(URL, lambda: data) == URL
    for url in (None, "data:image/png;base64,xyz", "file:///etc/passwd"):
        uri = reference_for(url, lambda: data)
        assert parse_data_uri(uri) == (data, "image/png")


# --- the caps ----------------------------------------------------------------------------------


def test_eleven_urls_are_refused_naming_image_urls() -> None:
    urls = [f"https://images.example/{n}.png" for n in range(MAX_IMAGE_URLS + 1)]
    with pytest.raises(ValidationError) as caught:
        catalog["nano-banana-edit"].validate({"prompt": "x", "image_urls": urls})
    assert caught.value.params == ["image_urls"]
    assert f"{MAX_IMAGE_URLS + 1} images given; at most {MAX_IMAGE_URLS}" in str(caught.value)


def test_an_oversize_data_uri_is_refused_with_its_size_and_what_to_do() -> None:
    huge = _data_uri_of(MAX_DATA_URI_CHARS + 1)
    with pytest.raises(ValidationError) as caught:
        catalog["nano-banana-2-edit"].validate({"prompt": "x", "image_urls": [URL, huge]})
    assert caught.value.params == ["image_urls"]
    message = str(caught.value)
    assert f"item 1 is a data URI of {MAX_DATA_URI_CHARS + 1:,} characters" in message
    assert "about 10 MB" in message and "http(s) URL" in message
    assert "AAAA" not in message  # never the payload itself


def test_data_uris_under_the_single_cap_are_refused_together_over_the_total() -> None:
    each = _data_uri_of(MAX_DATA_URI_CHARS - 10)
    count = MAX_DATA_URI_TOTAL_CHARS // len(each) + 1
    assert count * len(each) > MAX_DATA_URI_TOTAL_CHARS and count <= MAX_IMAGE_URLS
    spec = catalog["nano-banana-pro-edit"]
    spec.validate({"prompt": "x", "image_urls": [each] * (count - 1)})  # under the total: fine
    with pytest.raises(ValidationError) as caught:
        spec.validate({"prompt": "x", "image_urls": [each] * count})
    assert caught.value.params == ["image_urls"]
    assert "the data URIs add up to" in str(caught.value)
    assert "about 20 MB" in str(caught.value)


def test_the_allowed_text_states_the_limits() -> None:
    allowed = catalog["gpt-image-2-edit"].param("image_urls").allowed
    assert f"1 to {MAX_IMAGE_URLS}" in allowed and "10 MB" in allowed and "20 MB" in allowed


# --- the clients: converted before validation, sent as data URIs --------------------------------


class _Recorder:
    """A MockTransport handler that records submitted bodies and answers one finished task."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.image = (
            "data:image/png;base64," + base64.b64encode(solid_png((0, 0, 0), PHOTO_SIZE)).decode()
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.bodies.append(json.loads(request.content))
            return httpx.Response(200, json={"task_id": "t1"})
        return httpx.Response(
            200,
            json={"id": "t1", "status": "completed", "data": {"images": [{"url": self.image}]}},
        )


def test_client_generate_sends_pil_path_and_bytes_as_data_uris(tmp_path: Path) -> None:
    recorder = _Recorder()
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(solid_image((0, 128, 255), (20, 20), "JPEG"))
    client = Client(
        base_url="http://hub.test", transport=httpx.MockTransport(recorder), sleep=lambda _s: None
    )
    with client:
        result = client.generate(
            "nano-banana-edit",
            "make it blue",
            image_urls=[Image.new("RGB", (8, 8)), photo, solid_png(MAGENTA, PHOTO_SIZE), URL],
        )
    (body,) = recorder.bodies
    sent = body["input"]["image_urls"]
    assert [url.split(";")[0] for url in sent[:3]] == [
        "data:image/png",
        "data:image/jpeg",
        "data:image/png",
    ]
    assert sent[3] == URL
    assert result.input["image_urls"] == sent  # what was sent, data URIs included


def test_conversion_happens_before_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PIL image whose PNG is over the data URI cap is refused by the catalog: nothing sent."""
    recorder = _Recorder()
    monkeypatch.setattr(catalog_module, "MAX_DATA_URI_CHARS", 200)
    client = Client(base_url="http://hub.test", transport=httpx.MockTransport(recorder))
    noisy = Image.effect_noise((64, 64), 100)
    with client, pytest.raises(ValidationError) as caught:
        client.submit("nano-banana-edit", {"prompt": "x", "image_urls": [noisy]})
    assert caught.value.params == ["image_urls"]
    assert "is a data URI of" in str(caught.value)
    assert recorder.bodies == []


def test_async_client_submit_converts_too() -> None:
    recorder = _Recorder()

    async def main() -> tuple[str, pytest.ExceptionInfo[ValidationError]]:
        async with AsyncClient(
            base_url="http://hub.test", transport=httpx.MockTransport(recorder)
        ) as client:
            task_id = await client.submit(
                "gpt-image-2-edit",
                {
                    "prompt": "x",
                    "image_urls": (solid_png(MAGENTA, PHOTO_SIZE),),
                    "mask_url": solid_png(MAGENTA, PHOTO_SIZE),
                },
            )
            with pytest.raises(ValidationError) as caught:
                await client.submit("nano-banana-edit", {"prompt": "x", "image_urls": [b"nope"]})
        return task_id, caught

    task_id, caught = asyncio.run(main())
    assert task_id == "t1"
    (body,) = recorder.bodies
    assert body["input"]["image_urls"][0].startswith("data:image/png;base64,")
    assert body["input"]["mask_url"].startswith("data:image/png;base64,")
    assert caught.value.params == ["image_urls"]


def test_mw_generate_converts_in_the_callers_frame() -> None:
    import mountsea_widgets as mw

    with pytest.raises(ValidationError) as caught:
        mw.generate("nano-banana-edit", "x", image_urls=[Path("/no/such/photo.png")])
    assert caught.value.params == ["image_urls"]
    assert "no image file" in str(caught.value)


# --- the magic: a local file path is sent as a data URI -----------------------------------------


def test_magic_reads_an_existing_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my photo.png").write_bytes(solid_png(MAGENTA, PHOTO_SIZE))
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    _, params = parse_line(f"nano-banana-edit --image_urls 'my photo.png' --image_urls {URL}")
    first, second = params["image_urls"]
    assert parse_data_uri(first) == (solid_png(MAGENTA, PHOTO_SIZE), "image/png")
    assert second == URL

    with pytest.raises(ValidationError) as caught:
        parse_line("nano-banana-edit --image_urls notes.txt")
    assert caught.value.params == ["image_urls"]
    assert "'notes.txt'" in str(caught.value) and "not an image" in str(caught.value)

    with pytest.raises(ValidationError) as caught:
        parse_line("nano-banana-edit --image_urls missing.png")
    assert "neither an http(s) URL, a data:image URI nor an existing image file" in str(
        caught.value
    )

    _, params = parse_line("gpt-image-2-edit --image_urls 'my photo.png' --mask_url 'my photo.png'")
    assert params["mask_url"].startswith("data:image/png;base64,")


# --- showing runs with data URIs -----------------------------------------------------------------


def test_the_code_view_shortens_data_uris_but_code_text_keeps_them() -> None:
    from mountsea_widgets.run import Run
    from mountsea_widgets.widgets.task_cell import TaskCell

    uri = "data:image/png;base64," + base64.b64encode(solid_png(MAGENTA, (300, 300)) * 40).decode()
    run = Run("nano-banana-edit", {"prompt": "x", "image_urls": [URL, uri]})
    cell = TaskCell(run)
    cell.toggle_code()
    assert uri in cell.code_text()  # the full call, for copying from code
    shown = cell.record["code"]
    assert uri[:200] not in shown
    assert "data:image/png;base64,… (" in shown and URL in shown
    assert len(shown) < 2000  # the page gets no megabytes of base64
    cell.close()
    assert image_input.shorten_data_uris("data:image/png;base64,iVBOR") == (
        "data:image/png;base64,iVBOR"  # short ones are left alone
    )


def test_a_comparison_of_edit_models_takes_images_from_python_too() -> None:
    from mountsea_widgets.comparison import plan

    layout = plan(
        "make it blue", models=catalog.edit, params={"image_urls": [solid_png(MAGENTA, PHOTO_SIZE)]}
    )
    inputs = [cell.input for cell in layout.cells]
    assert len(inputs) == 4
    for input in inputs:
        assert input is not None
        assert parse_data_uri(input["image_urls"][0]) == (
            solid_png(MAGENTA, PHOTO_SIZE),
            "image/png",
        )
    with pytest.raises(ValidationError) as caught:
        plan("x", models=catalog.edit, params={"image_urls": [b"nope"]})
    assert caught.value.params == ["image_urls"]
