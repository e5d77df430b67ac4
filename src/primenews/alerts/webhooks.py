"""Posting an alert's JSON to its webhook: signed, retried with backoff, through the safe transport.

The body is signed with HMAC-SHA256 under the alert's own secret and the hex
digest sent as ``X-PrimeNews-Signature: sha256=<hex>`` (the form GitHub uses,
so receivers' existing verification code fits). The client must be built on
``ingest.netsafety.SafeTransport``: a webhook URL is user input and must not
reach private addresses unless ``fetch_allowlist`` says so. Any 2xx is
success; other answers, timeouts and refused connections are retried
``retries`` times, ``backoff_seconds * 2**n`` apart.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from primenews.alerts.digest import signature
from primenews.errors import DeliveryError, FetchError
from primenews.ingest.netsafety import AddressPolicy, check_url

SIGNATURE_HEADER = "X-PrimeNews-Signature"
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    retries: int = 3
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    user_agent: str = "PrimeNews-Webhook"


def webhook_url_problem(url: str, policy: AddressPolicy) -> str | None:
    """Why a webhook URL is refused before any request (scheme, literal private address)."""
    try:
        check_url(url, policy)
    except FetchError as err:
        return str(err).removeprefix("fetch: ")
    return None


async def post_webhook(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    body: bytes,
    options: WebhookOptions,
    *,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """POST ``body`` to ``url`` until a 2xx answer; returns the attempts it took.

    Raises:
        DeliveryError: every attempt failed (the last reason, and the attempts, in
            ``.attempts``), or the URL is refused outright (not retried).
    """
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, body),
        "X-PrimeNews-Delivery": str(uuid.uuid4()),  # the same for every retry of this delivery
        "User-Agent": options.user_agent,
    }
    last = ""
    for attempt in range(1, options.retries + 2):
        if attempt > 1:
            await sleep(options.backoff_seconds * 2 ** (attempt - 2))
        try:
            response = await client.post(
                url, content=body, headers=headers, timeout=options.timeout_seconds
            )
        except FetchError as err:  # the safe transport refused the address: retrying won't help
            raise _failed(f"refused: {err}", attempt) from err
        except httpx.TimeoutException:
            last = f"timed out after {options.timeout_seconds:g} s"
            continue
        except httpx.HTTPError as err:
            last = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            continue
        if 200 <= response.status_code < 300:
            return attempt
        last = f"HTTP {response.status_code}"
    raise _failed(last, options.retries + 1)


def _failed(reason: str, attempts: int) -> DeliveryError:
    return DeliveryError(f"webhook: {reason}", attempts=attempts)
