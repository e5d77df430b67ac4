"""The stories' own wordfreq lookup agrees with wordfreq's."""

from __future__ import annotations

import random
import string

import pytest
from wordfreq import available_languages, top_n_list, word_frequency
from wordfreq.language_info import get_language_info
from wordfreq.tokens import lossy_tokenize

from primenews.stories.text import _regex_tokenizer, _word_frequency, background_share

WORDS = [
    "the", "says", "government", "maduro", "nicolas maduro", "odesa", "1200", "2026",
    "covid19", "l'état", "état", "straße", "zzzqxj", "don't", "e-mail", "x", "", "  ",
    "年", "московский", "istanbul", "ıspanak", "مرحبا", "नमस्ते",
]  # fmt: skip


def _ascii_words() -> list[str]:
    """Common English words, random runs of a-z and names of such words: the fast path's."""
    rng = random.Random(9)
    found = [w for w in top_n_list("en", 2000) if w.isascii() and w.isalpha() and w.islower()]
    letters = string.ascii_lowercase
    found += ["".join(rng.choices(letters, k=rng.randint(1, 14))) for _ in range(300)]
    # names of two and three words ("nicolas maduro"), as the signature's n: keys hold them
    found += [" ".join(rng.sample(found[:400], k=rng.randint(2, 3))) for _ in range(200)]
    return found


ASCII_WORDS = _ascii_words()


@pytest.mark.parametrize("language", ["en", "de", "es", "fr", "tr", "ru", "ar", "hi", "sh", "vi"])
def test_word_frequency_matches_wordfreq(language: str) -> None:
    for word in WORDS + ASCII_WORDS[::7]:
        assert _word_frequency(word, language) == word_frequency(word, language), word


def test_a_to_z_word_is_one_token_in_every_regex_language() -> None:
    """The fast path's premise: wordfreq's tokenizer splits a-z words at single spaces only."""
    regex_languages = [lang for lang in available_languages() if _regex_tokenizer(lang)]
    assert {"en", "tr", "sh", "ar"} <= set(regex_languages)
    assert not _regex_tokenizer("zh") and not _regex_tokenizer("ja")
    for language in regex_languages:
        assert get_language_info(language)["tokenizer"] == "regex"
        for word in ASCII_WORDS:
            assert lossy_tokenize(word, language) == word.split(" "), (language, word)


def test_background_share_of_common_and_unknown_words() -> None:
    assert background_share("the", "en") > 0.9
    assert background_share("zzzqxj", "en") == 0.0
    assert background_share("says", "xx") == 0.0
