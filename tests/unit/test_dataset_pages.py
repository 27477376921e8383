"""The dataset's metadata.jsonl carries the third (paging) axis like the other two."""

from __future__ import annotations

import json

from mountsea_widgets.batches._dataset import METADATA_FIELDS, metadata_lines


def test_each_image_line_names_its_page_axis_and_value() -> None:
    record = {
        "model": "nano-banana",
        "params": {"prompt": "a cat in oil paint", "seed": 3},
        "prompt": "a cat in oil paint",
        "seed": 3,
        "param": "animal",
        "value": "cat",
        "y_param": "style",
        "y_value": "oil paint",
        "z_param": "seed",
        "z_value": 3,
        "files": ["/somewhere/run_1.png"],
    }
    flat = {**record, "z_param": None, "z_value": None, "files": ["/somewhere/run_2.png"]}
    names = {"/somewhere/run_1.png": "run_1.png", "/somewhere/run_2.png": "run_2.png"}

    paged, unpaged = (json.loads(line) for line in metadata_lines([record, flat], names))

    assert tuple(paged) == METADATA_FIELDS
    assert (paged["z_param"], paged["z_value"]) == ("seed", "3")
    assert (unpaged["z_param"], unpaged["z_value"]) == (None, None)
