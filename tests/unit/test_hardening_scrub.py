"""The key is scrubbed from text in its percent-encoded forms too."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest

from mountsea_widgets.errors import scrub

KEY = "sk-test/with+odd=chars 123"


def test_percent_encoded_key_is_scrubbed() -> None:
    for form in (quote(KEY), quote(KEY, safe=""), quote_plus(KEY)):
        text = scrub(f"echo: {form} end", KEY)
        assert form not in text
        assert "***" in text


def test_plain_key_still_scrubbed() -> None:
    assert scrub(f"a {KEY} b", KEY) == "a *** b"


@pytest.mark.parametrize(
    "echo",
    [
        "sk-Live%2fkey%2bwith%3dsigns",  # lower-case hex
        "sk-Live%2Fkey%2bwith%3Dsigns",  # mixed
        "sk-Live/key%2bwith%3dsigns",  # quote() with lower-case hex
    ],
)
def test_an_echo_of_the_key_in_lower_case_hex_is_scrubbed_too(echo: str) -> None:
    key = "sk-Live/key+with=signs"
    assert scrub(f"server said: {echo} (bad)", key) == "server said: *** (bad)"


def test_only_the_hex_escapes_match_in_either_case() -> None:
    key = "sk-Live/key+with=signs"
    # The key's own letters are not case-folded: another key that differs in case stays.
    assert scrub("sk-live%2Fkey%2Bwith%3Dsigns", key) == "sk-live%2Fkey%2Bwith%3Dsigns"
