"""sections_train's reader of spaCy's vector table (training only: skipped without its extras)."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

from primenews.insights.sections_train import msgpack_uint_map, murmurhash64a  # noqa: E402


def test_murmurhash64a_is_spacys_string_hash() -> None:
    # spaCy's documented example: nlp.vocab.strings["coffee"] == 3197928453018144401
    assert murmurhash64a(b"coffee") == 3197928453018144401
    assert murmurhash64a(b"") != murmurhash64a(b"a")  # tail and empty inputs hash too


def test_msgpack_uint_map_reads_every_integer_width() -> None:
    fix = bytes([0x82, 0x01, 0x02, 0xCC, 0xFF, 0xCD, 0x01, 0x00])  # {1: 2, 255: 256}
    assert msgpack_uint_map(fix) == {1: 2, 255: 256}
    big = bytes([0xDF, 0, 0, 0, 1, 0xCF, *(2**63 + 5).to_bytes(8, "big"), 0xCE, 0, 1, 0, 0])
    assert msgpack_uint_map(big) == {2**63 + 5: 65536}
    with pytest.raises(ValueError):
        msgpack_uint_map(b"\x01")
