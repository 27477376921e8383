"""Fuzzed validation: random inputs for all eight models, with the verdict known in advance.

The strategies below draw, for every parameter of a model, either nothing, an unset value
(None, blank), a valid value or an invalid one (wrong type, out-of-set string, out-of-range
integer, a bad custom size, a non-http URL, a lone surrogate that cannot be sent as UTF-8),
plus sometimes unknown keys. Each draw carries its own label, so the test knows which
parameters must be named without asking the catalog. Then:

- an input with no invalid part is accepted by the client and by the simulator behind it;
- any other input is refused by the client with exactly the bad parameters named, and nothing
  is sent (the hub sees no request);
- posting the refused payload raw to the simulator gives a 4xx naming the same parameters;
- no invalid payload ever reaches the simulator through the client (``stats.rejections``).

The in-process simulator transport is used: HTTP itself is not the point here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mountsea_widgets import simulator
from mountsea_widgets.catalog import MAX_IMAGE_URLS, ModelSpec, ParamSpec, catalog
from mountsea_widgets.client import Client
from mountsea_widgets.errors import ValidationError
from mountsea_widgets.simulator.hub import ROUTE_SUBMIT

#: Examples per model; eight models make 1200 in all.
EXAMPLES_PER_MODEL = 150
BASE = "http://hub.test"

# --- values ------------------------------------------------------------------------------------

_printable = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30
)
#: Text with something visible in it (blank strings count as "unset").
visible_text = _printable.filter(lambda text: text.strip() != "")
#: A string with an unpaired surrogate: a Python str that is not valid Unicode text.
lone_surrogate = st.builds(
    lambda head, surrogate, tail: head + surrogate + tail,
    st.text(max_size=5, alphabet="abc xyz"),
    st.integers(0xD800, 0xDFFF).map(chr),
    st.text(max_size=5, alphabet="abc xyz"),
)
unset = st.sampled_from([None, "", "   ", "\t\n"])
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){1,2}", fullmatch=True)
paths = st.from_regex(r"(/[A-Za-z0-9._~-]{1,12}){0,3}", fullmatch=True)
http_urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}{path}",
    st.sampled_from(["http", "https", "HTTPS"]),
    hosts,
    paths,
)
data_uris = st.sampled_from(
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "data:image/jpeg;base64,/9j/4AAQ",
        "data:image/webp;base64,UklGRg==",
    ]
)
good_urls = st.one_of(http_urls, data_uris)
bad_urls = st.one_of(
    st.sampled_from(
        [
            "file:///etc/passwd",
            "ftp://example.com/a.png",
            "javascript:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "//example.com/a.png",
            "example.com/a.png",
            "http:///nohost",
        ]
    ),
    st.builds(lambda host: f"gopher://{host}/x", hosts),
)
junk = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not float(x).is_integer()),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2),
)


def _size_ok(width: int, height: int) -> bool:
    """The custom-size rules of the reference page, restated independently of the catalog."""
    return (
        width % 16 == 0
        and height % 16 == 0
        and max(width, height) <= 3840
        and max(width, height) <= 3 * min(width, height)
        and 655_360 <= width * height <= 8_294_400
    )


_sides = st.integers(min_value=1, max_value=260).map(lambda n: n * 16)
good_sizes = st.builds(lambda w, h: {"width": w, "height": h}, _sides, _sides).filter(
    lambda s: _size_ok(s["width"], s["height"])
)
bad_sizes = st.one_of(
    st.builds(
        lambda w, h: {"width": w, "height": h},
        st.integers(-100, 5000),
        st.integers(-100, 5000),
    ).filter(lambda s: not _size_ok(s["width"], s["height"])),
    st.sampled_from(
        [
            {"width": 1024},
            {"height": 1024},
            {},
            {"width": 1024, "height": 1024, "depth": 3},
            {"width": True, "height": 1024},
            {"width": 1024.0, "height": 1024},
            {"width": "1024", "height": "1024"},
            {"w": 1024, "h": 1024},
        ]
    ),
)


def valid_values(spec: ParamSpec) -> st.SearchStrategy[Any]:
    """Values the reference page allows for ``spec``."""
    if spec.unavailable:
        return st.just(False)  # the only value of a disabled switch that is not a request for it
    if spec.type == "integer":
        low = spec.minimum if spec.minimum is not None else -(2**53)
        high = spec.maximum if spec.maximum is not None else 2**53
        return st.integers(low, high)
    if spec.type == "boolean":
        return st.booleans()
    if spec.type == "string":
        if spec.enum is None:
            return visible_text
        members = st.sampled_from(spec.enum)
        if all(item.isdigit() for item in spec.enum):
            return st.one_of(members, st.sampled_from([int(item) for item in spec.enum]))
        return members
    if spec.type == "string|object":
        return st.one_of(st.sampled_from(spec.enum or ()), good_sizes)
    if spec.type == "array<string>":
        return st.one_of(
            st.lists(good_urls, min_size=1, max_size=MAX_IMAGE_URLS),
            good_urls,  # one URL alone is accepted as a list of one
        )
    if spec.type == "url":
        return good_urls
    raise AssertionError(f"no strategy for parameter type {spec.type!r}")


def invalid_values(spec: ParamSpec) -> st.SearchStrategy[Any]:
    """Values ``spec`` must refuse (never unset ones: those are simply left out)."""
    if spec.unavailable:
        return st.one_of(st.just(True), st.integers(), visible_text)
    if spec.type == "integer":
        wrong = [visible_text, st.booleans(), junk]
        if spec.minimum is not None:
            wrong.append(st.integers(max_value=spec.minimum - 1))
        if spec.maximum is not None:
            wrong.append(st.integers(min_value=spec.maximum + 1))
        return st.one_of(*wrong)
    if spec.type == "boolean":
        return st.one_of(st.integers(), visible_text, junk)
    if spec.type == "string":
        wrong = [st.booleans(), junk, lone_surrogate]
        if spec.enum is None:
            wrong.append(st.integers())
        else:
            wrong.append(visible_text.filter(lambda text: text not in spec.enum))
            wrong.append(st.integers().filter(lambda n: str(n) not in spec.enum))
        return st.one_of(*wrong)
    if spec.type == "string|object":
        return st.one_of(
            visible_text.filter(lambda text: text not in (spec.enum or ())),
            bad_sizes,
            st.integers(),
            st.booleans(),
            st.lists(st.integers(), max_size=2),
        )
    if spec.type == "array<string>":
        return st.one_of(
            st.just([]),
            st.lists(good_urls, min_size=MAX_IMAGE_URLS + 1, max_size=MAX_IMAGE_URLS + 3),
            st.lists(bad_urls, min_size=1, max_size=3),
            st.builds(lambda good, bad: [*good, bad], st.lists(good_urls, max_size=3), bad_urls),
            st.lists(st.integers(), min_size=1, max_size=2),
            bad_urls,
            st.integers(),
            st.booleans(),
            lone_surrogate.map(lambda text: ["https://example.com/" + text]),
        )
    if spec.type == "url":
        return st.one_of(
            bad_urls, st.integers(), st.lists(good_urls, min_size=1, max_size=2), st.booleans()
        )
    raise AssertionError(f"no strategy for parameter type {spec.type!r}")


# --- whole inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A drawn input and the parameters that must be named when it is refused."""

    input: dict[str, Any]
    bad: frozenset[str]

    def __repr__(self) -> str:  # shown by hypothesis when an example fails
        return f"Case(bad={sorted(self.bad)}, input={self.input!r})"


@st.composite
def cases(draw: st.DrawFn, spec: ModelSpec) -> Case:
    values: dict[str, Any] = {}
    bad: set[str] = set()
    # Half the cases are meant to be accepted, or most would be refused for one reason or other.
    acceptable = draw(st.booleans())
    for param in spec.params:
        if acceptable:
            options = ["valid"] if param.required else ["absent", "unset", "valid", "valid"]
        else:
            options = ["absent", "unset", "valid", "valid", "invalid"]
        choice = draw(st.sampled_from(options))
        if choice == "absent" or choice == "unset":
            if choice == "unset":
                values[param.name] = draw(unset)
            if param.required:
                bad.add(param.name)  # "is required"
        elif choice == "valid":
            values[param.name] = draw(valid_values(param))
        else:
            values[param.name] = draw(invalid_values(param))
            bad.add(param.name)
    for name in draw(
        st.lists(
            st.from_regex(r"[a-z][a-z_]{0,14}", fullmatch=True).filter(
                lambda name: not spec.has(name)
            ),
            max_size=0 if acceptable else 2,
            unique=True,
        )
    ):
        values[name] = draw(st.one_of(st.none(), st.integers(), visible_text))
        bad.add(name)
    return Case(values, frozenset(bad))


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inprocess_hub() -> Iterator[simulator.Hub]:
    made = simulator.Hub(prerender=False)
    yield made
    made.close()


def _raw_post(hub: simulator.Hub, model: str, input: dict[str, Any]) -> httpx.Response:
    """POST the payload straight to the simulator, bypassing the client's validation."""
    body = json.dumps({"model": model, "input": input}).encode("utf-8")  # NaN and \ud800 escaped
    with httpx.Client(transport=simulator.transport(hub), base_url=BASE) as raw:
        return raw.post("/hub/v1/image", content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("model", list(catalog))
def test_fuzzed_inputs_are_judged_the_same_by_client_and_simulator(
    model: str, inprocess_hub: simulator.Hub
) -> None:
    spec = catalog.spec(model)
    client = Client(base_url=BASE, transport=simulator.transport(inprocess_hub), max_retries=0)
    seen = {"accepted": 0, "refused": 0}

    @settings(
        max_examples=EXAMPLES_PER_MODEL,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=cases(spec))
    def check(case: Case) -> None:
        sent_before = inprocess_hub.stats.requests[ROUTE_SUBMIT]
        rejected_before = inprocess_hub.stats.rejections
        if not case.bad:
            task_id = client.submit(model, case.input)
            assert inprocess_hub.stats.requests[ROUTE_SUBMIT] == sent_before + 1
            assert inprocess_hub.stats.rejections == rejected_before
            assert inprocess_hub.task(task_id).spec.id == model
            # What the hub runs is exactly what the client meant to send (unset values dropped).
            expected = {
                k: v
                for k, v in case.input.items()
                if not (v is None or (isinstance(v, str) and not v.strip()))
            }
            assert set(inprocess_hub.task(task_id).input) == set(expected)
            seen["accepted"] += 1
            return
        with pytest.raises(ValidationError) as refused:
            client.submit(model, case.input)
        assert set(refused.value.params) == set(case.bad), refused.value
        assert inprocess_hub.stats.requests[ROUTE_SUBMIT] == sent_before  # nothing was sent
        for problem in refused.value.problems:
            assert problem.param in str(refused.value)
        seen["refused"] += 1

        answer = _raw_post(inprocess_hub, model, case.input)
        assert answer.status_code in (400, 422), answer.text
        named = {item["param"] for item in answer.json()["problems"]}
        assert named == set(case.bad), answer.text
        assert inprocess_hub.stats.rejections == rejected_before + 1

    try:
        check()
    finally:
        client.close()
    # Both kinds of input were really exercised for this model.
    assert seen["accepted"] >= 5 and seen["refused"] >= 5, seen


def test_a_lone_surrogate_is_refused_naming_the_parameter() -> None:
    """Text that cannot be encoded as UTF-8 is a clear ValidationError, never a crash later."""
    with pytest.raises(ValidationError) as refused:
        catalog["nano-banana-2"].validate({"prompt": "a cat \ud83d", "system_prompt": "ok"})
    assert refused.value.params == ["prompt"]
    assert "UTF-8" in str(refused.value)
