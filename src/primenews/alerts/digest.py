"""What an alert sends: the e-mail digest (plain text + HTML) and the webhook's JSON body.

Pure: articles and links in, an ``EmailMessage`` or bytes out. Every text that
came from a publisher is escaped in the HTML part, and header values are
single lines (``email.headerregistry`` refuses CR/LF), so an article cannot
inject markup or mail headers.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from primenews.alerts.model import Alert
from primenews.domain import StoredArticle

SNIPPET_WORDS = 40


@dataclass(frozen=True, slots=True)
class Links:
    """Where the digest points: this site's address (no trailing slash)."""

    site_url: str

    def article(self, article_id: int) -> str:
        return f"{self.site_url}/article/{article_id}"

    def alert(self, alert_id: int) -> str:
        return f"{self.site_url}/alerts/{alert_id}"

    def unsubscribe(self, alert: Alert) -> str:
        return f"{self.site_url}/alerts/unsubscribe/{unsubscribe_token(alert)}"


def unsubscribe_token(alert: Alert) -> str:
    """``<alert id>.<HMAC>``: opens the unsubscribe page without a login; unguessable per alert."""
    return f"{alert.id}.{_unsubscribe_mac(alert.unsubscribe_key, alert.id)}"


def token_alert_id(token: str) -> int | None:
    """The alert id a token names (still to be checked with ``token_matches``)."""
    head, _, mac = token.partition(".")
    return int(head) if head.isdigit() and len(head) <= 18 and mac else None


def token_matches(alert: Alert, token: str) -> bool:
    return hmac.compare_digest(token.encode(), unsubscribe_token(alert).encode())


def _unsubscribe_mac(key: str, alert_id: int) -> str:
    message = f"unsubscribe:{alert_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def _snippet(article: StoredArticle) -> str:
    text = article.article.description or article.article.text
    words = text.split()
    return " ".join(words[:SNIPPET_WORDS]) + ("…" if len(words) > SNIPPET_WORDS else "")


def _when(article: StoredArticle) -> datetime:
    return article.article.published or article.first_seen


def digest_subject(alert: Alert, count: int) -> str:
    noun = "article" if count == 1 else "articles"
    return f"[Prime News] {alert.name}: {count} new {noun}"


def digest_text(alert: Alert, articles: Sequence[StoredArticle], links: Links) -> str:
    lines = [f"{len(articles)} new for your alert \u201c{alert.name}\u201d.", ""]
    for stored in articles:
        source = f" ({stored.source_title})" if stored.source_title else ""
        lines += [
            f"* {stored.article.title or stored.article.url}{source}",
            f"  {_when(stored).strftime('%Y-%m-%d %H:%M UTC')}",
            f"  {_snippet(stored)}",
            f"  {links.article(stored.id)}",
            "",
        ]
    lines += [
        "--",
        f"Manage this alert: {links.alert(alert.id)}",
        f"Unsubscribe from these e-mails: {links.unsubscribe(alert)}",
    ]
    return "\n".join(lines) + "\n"


def digest_html(alert: Alert, articles: Sequence[StoredArticle], links: Links) -> str:
    e = html.escape
    items = []
    for stored in articles:
        source = f" <small>{e(stored.source_title)}</small>" if stored.source_title else ""
        items.append(
            f'<li><a href="{e(links.article(stored.id))}">'
            f"{e(stored.article.title or stored.article.url)}</a>{source}"
            f"<br><small>{_when(stored).strftime('%Y-%m-%d %H:%M UTC')}</small>"
            f"<br>{e(_snippet(stored))}</li>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(digest_subject(alert, len(articles)))}</title></head><body>"
        f"<p>{len(articles)} new for your alert \u201c{e(alert.name)}\u201d.</p>"
        f"<ul>{''.join(items)}</ul><hr>"
        f'<p><small><a href="{e(links.alert(alert.id))}">Manage this alert</a> · '
        f'<a href="{e(links.unsubscribe(alert))}">Unsubscribe from these e-mails</a>'
        "</small></p></body></html>"
    )


def build_digest(
    alert: Alert,
    articles: Sequence[StoredArticle],
    links: Links,
    *,
    sender: str,
    now: datetime,
) -> EmailMessage:
    """The digest as a multipart/alternative message, with RFC 8058 one-click unsubscribe.

    Raises:
        ValueError: the alert has no e-mail address.
    """
    if not alert.email:
        raise ValueError(f"alert {alert.id} has no e-mail address")
    message = EmailMessage()
    message["Subject"] = digest_subject(alert, len(articles))
    message["From"] = sender
    message["To"] = alert.email
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["List-Unsubscribe"] = f"<{links.unsubscribe(alert)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(digest_text(alert, articles, links))
    message.add_alternative(digest_html(alert, articles, links), subtype="html")
    return message


def webhook_body(
    alert: Alert, articles: Sequence[StoredArticle], links: Links, now: datetime
) -> bytes:
    """The JSON a webhook receives: the alert, when, and each article with both its links."""
    document = {
        "alert": {"id": alert.id, "name": alert.name, "url": links.alert(alert.id)},
        "sent_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "articles": [
            {
                "id": stored.id,
                "title": stored.article.title,
                "url": links.article(stored.id),
                "original_url": stored.article.url,
                "source": stored.source_title,
                "published": _when(stored).astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "sections": list(stored.sections),
                "summary": _snippet(stored),
            }
            for stored in articles
        ],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, body: bytes) -> str:
    """The ``X-PrimeNews-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
