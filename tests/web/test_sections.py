"""Sections on the site and in the API: filter, section pages, front-page blocks."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

pytestmark = pytest.mark.anyio

MakeArticle = Callable[..., int]


async def test_api_filters_by_section_and_lists_sections(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    world = make_article(title="Vote in Caracas", sections={"world": 0.9, "politics": 0.8})
    make_article(title="Chip maker results", sections={"business": 0.7, "technology": 0.6})
    answer = await client.get("/api/v1/articles", params={"section": "politics"})
    assert answer.status_code == 200
    [item] = answer.json()["articles"]
    assert item["id"] == world and item["sections"] == ["world", "politics"]
    assert len((await client.get("/api/v1/articles?section=Business")).json()["articles"]) == 1


async def test_unknown_section_is_a_422_in_the_error_shape(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/articles", params={"section": "astrology"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["ok"] is False and body["status"] == 422 and "world" in str(body["errors"])


async def test_section_pages_and_front_blocks(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    make_article(title="Vote in Caracas", sections={"world": 0.9, "politics": 0.8})
    make_article(title="Chip maker results", sections={"business": 0.7})
    page = await client.get("/politics")
    assert page.status_code == 200
    assert "Vote in Caracas" in page.text and "Chip maker results" not in page.text
    assert "<h1>Politics</h1>" in page.text and 'aria-current="page">Politics' in page.text
    front = await client.get("/")
    assert 'id="block-world"' in front.text and 'id="block-business"' in front.text
    assert 'id="block-technology"' not in front.text  # no article, no block
    assert (await client.get("/astrology")).status_code == 404
