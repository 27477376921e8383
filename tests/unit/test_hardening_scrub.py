"""The key is scrubbed from text in its percent-encoded forms too."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

from mountsea_widgets.errors import scrub

KEY = "sk-test/with+odd=chars 123"


def test_percent_encoded_key_is_scrubbed() -> None:
    for form in (quote(KEY), quote(KEY, safe=""), quote_plus(KEY)):
        text = scrub(f"echo: {form} end", KEY)
        assert form not in text
        assert "***" in text


def test_plain_key_still_scrubbed() -> None:
    assert scrub(f"a {KEY} b", KEY) == "a *** b"
