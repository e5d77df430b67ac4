"""Our exceptions, one family per layer.

    PrimeNewsError
     ├── ConfigError            a setting has a bad value
     ├── FetchError             the network edge
     │    ├── BlockedURLError       scheme, private address, robots.txt
     │    ├── ResponseTooLargeError body or decompressed body over the cap
     │    ├── FetchTimeoutError     connect/read/total time over the limit
     │    └── HTTPStatusError       a 4xx/5xx answer
     ├── ParseError             a feed, sitemap, OPML or archive we cannot read
     ├── ExtractError           a page with no article in it
     ├── StoreError             the database refused
     ├── QueueError             the task queue (Redis) cannot be reached
     └── DeliveryError          an alert's e-mail or webhook could not be delivered

The shell catches a stage's own family, records the message against the
source and goes on; anything else is a bug, logged with its traceback.
"""

from __future__ import annotations


class PrimeNewsError(Exception):
    """Root of every error Prime News raises on purpose."""


class ConfigError(PrimeNewsError):
    """A setting has a value that is not allowed."""


class FetchError(PrimeNewsError):
    """A URL could not be fetched."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class BlockedURLError(FetchError):
    """The URL is not ours to fetch: bad scheme, private address or robots.txt."""


class ResponseTooLargeError(FetchError):
    """The response (or its decompressed body) is larger than allowed."""


class FetchTimeoutError(FetchError):
    """The server was too slow."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after_seconds = retry_after_seconds  # the answer's Retry-After, if any

    @property
    def retryable(self) -> bool:
        return self.status is not None and (self.status >= 500 or self.status == 429)


class ParseError(PrimeNewsError):
    """A feed, sitemap, OPML file or archive could not be read."""


class ExtractError(PrimeNewsError):
    """A page holds no article we can extract."""


class StoreError(PrimeNewsError):
    """The store could not do what was asked."""


class QueueError(PrimeNewsError):
    """The task queue named by ``queue_url`` cannot be reached."""


class DeliveryError(PrimeNewsError):
    """An alert's digest or webhook did not get through (SMTP refused, webhook failed)."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts
