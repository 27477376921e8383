"""A result says what it is estimated to cost (as mw.estimate_cost does), on its card."""

from __future__ import annotations

import mountsea_widgets as mw
from mountsea_widgets.result import Result
from tests.helpers.images import solid_png


def _result(model: str, input: dict[str, object]) -> Result:
    return Result(
        task_id="hub-1",
        model=model,
        input=input,
        status="completed",
        image_bytes=[solid_png()],
        content_types=["image/png"],
    )


def test_a_result_carries_the_estimate_of_what_was_sent() -> None:
    input = {"prompt": "a red cube", "resolution": "2K", "num_images": 2}
    result = _result("nano-banana-2", input)
    expected = mw.estimate_cost("nano-banana-2", **input)
    assert result.estimate == expected and expected.amount is not None
    assert f"estimated {expected.label}" in result._repr_html_()


def test_a_result_without_a_known_price_says_so() -> None:
    result = _result("gpt-image-2", {"prompt": "a red cube", "quality": "auto"})
    assert result.estimate.amount is None
    assert "estimated cost unknown" in result._repr_html_()
