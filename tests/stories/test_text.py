"""The stories' own wordfreq lookup agrees with wordfreq's."""

from __future__ import annotations

import pytest
from wordfreq import word_frequency

from primenews.stories.text import _word_frequency, background_share

WORDS = [
    "the", "says", "government", "maduro", "nicolas maduro", "odesa", "1200", "2026",
    "covid19", "l'état", "état", "straße", "zzzqxj", "don't", "e-mail", "x", "", "  ",
    "年", "московский", "istanbul", "ıspanak", "مرحبا", "नमस्ते",
]  # fmt: skip


@pytest.mark.parametrize("language", ["en", "de", "es", "fr", "tr", "ru", "ar", "hi"])
def test_word_frequency_matches_wordfreq(language: str) -> None:
    for word in WORDS:
        assert _word_frequency(word, language) == word_frequency(word, language), word


def test_background_share_of_common_and_unknown_words() -> None:
    assert background_share("the", "en") > 0.9
    assert background_share("zzzqxj", "en") == 0.0
    assert background_share("says", "xx") == 0.0
