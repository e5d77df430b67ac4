"""The WebSub callback: a hub verifies intent (GET) and distributes content (POST) here.

Safe by construction: unknown subscriptions and requests that match no
pending request get 404; a body larger than ``fetch_max_bytes`` gets 413
before it is all read; a missing or wrong ``X-Hub-Signature`` (compared in
constant time) gets 403 and changes nothing but a log line.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from primenews.config import Settings
from primenews.ingest.websub import DEFAULT_LEASE_SECONDS, granted_lease, signature_matches
from primenews.web.deps import IdPath, StoreDep

if TYPE_CHECKING:
    from primenews.worker.websub import WebSubManager

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def _text(status: int, body: str = "") -> Response:
    return PlainTextResponse(body, status_code=status)


def _now(request: Request) -> datetime:
    """The manager's clock when there is one, so its records and ours agree."""
    manager = cast("WebSubManager | None", request.app.state.websub)
    return manager.clock() if manager is not None else datetime.now(UTC)


@router.get("/websub/{subscription_id:int}", name="websub_verify")
async def verify_intent(
    subscription_id: IdPath,
    request: Request,
    store: StoreDep,
    mode: Annotated[str, Query(alias="hub.mode")] = "",
    topic: Annotated[str, Query(alias="hub.topic")] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=1000)] = "",
    lease_seconds: Annotated[str, Query(alias="hub.lease_seconds")] = "",
    reason: Annotated[str, Query(alias="hub.reason", max_length=1000)] = "",
) -> Response:
    """Echo the challenge for a subscription we asked for; record a hub's refusal."""
    subscription = await run_in_threadpool(store.get_subscription, subscription_id)
    if subscription is None or topic != subscription.topic_url:
        return _text(404)
    now = _now(request)
    if mode == "subscribe" and challenge and subscription.awaits_verification:
        lease = granted_lease(lease_seconds, subscription.lease_seconds or DEFAULT_LEASE_SECONDS)
        await run_in_threadpool(store.mark_subscription_verified, subscription_id, lease, now)
        logger.info("websub: %s verified for %d s", topic, lease, extra={"url": topic})
        return _text(200, challenge)
    if mode == "denied":
        why = f"the hub denied the subscription: {reason or 'no reason given'}"
        await run_in_threadpool(store.mark_subscription_failed, subscription_id, why, now)
        return _text(200)
    return _text(404)


@router.post("/websub/{subscription_id:int}", name="websub_content")
async def receive_content(subscription_id: IdPath, request: Request, store: StoreDep) -> Response:
    """Take a signed feed body from the hub and process it in the background."""
    subscription = await run_in_threadpool(store.get_subscription, subscription_id)
    if subscription is None:
        return _text(404)
    settings = cast(Settings, request.app.state.settings)
    body = await _read_capped(request, settings.fetch_max_bytes)
    if body is None:
        logger.warning("websub: push for %s over the size cap", subscription.topic_url)
        return _text(413, f"body larger than {settings.fetch_max_bytes} bytes")
    if not signature_matches(subscription.secret, body, request.headers.get("x-hub-signature")):
        logger.warning(
            "websub: push for %s ignored: missing or wrong X-Hub-Signature",
            subscription.topic_url,
            extra={"source_id": subscription.source_id},
        )
        return _text(403, "X-Hub-Signature missing or wrong")
    manager = cast("WebSubManager | None", request.app.state.websub)
    if manager is None:  # a web-only process (up --no-poll): the poller fetches the feed
        now = _now(request)
        await run_in_threadpool(store.record_push, subscription.id, now)
        await run_in_threadpool(store.poll_soon, subscription.source_id, now)
        logger.info(
            "websub: push for %s handed to the poller (polled on its next round)",
            subscription.topic_url,
            extra={"source_id": subscription.source_id},
        )
        return _text(202)
    manager.accept_push(subscription, body, request.headers.get("content-type", ""))
    return _text(202)


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
