"""Ids no database column can hold are "not found" (or a 422 in the API), never a 500."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from .test_auth_forms import api_routes

pytestmark = pytest.mark.anyio

HUGE = str(2**64)  # SQLite and PostgreSQL integers stop at 2**63 - 1


async def test_every_page_and_api_path_survives_a_huge_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    paths = sorted(
        {
            re.sub(r"\{[^}]+\}", HUGE, route.path)
            for route in api_routes(app.routes)
            if "GET" in route.methods and "{" in route.path
        }
    )
    assert f"/story/{HUGE}" in paths and f"/api/v1/articles/{HUGE}" in paths
    failures = {}
    for path in paths:
        response = await client.get(path)
        if response.status_code >= 500:
            failures[path] = response.status_code
    assert not failures
