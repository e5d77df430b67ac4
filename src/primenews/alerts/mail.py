"""Sending a digest over SMTP with the standard library (``smtplib``).

Blocking: the runner calls ``send_mail`` in a thread. Every failure a mail
server or the network can cause (refused connection, timeout, 5xx to RCPT,
bad credentials, TLS trouble) comes out as one ``DeliveryError``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from primenews.errors import DeliveryError


@dataclass(frozen=True, slots=True)
class MailOptions:
    host: str = ""  # empty: e-mail is off, alerts with an address keep their digests owed
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = "primenews@localhost"
    starttls: bool = False
    timeout_seconds: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.host)


def send_mail(options: MailOptions, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server.

    Raises:
        DeliveryError: e-mail is not configured, or the server could not be reached or
            refused the message (the reason is in the message).
    """
    if not options.enabled:
        raise DeliveryError("mail: no SMTP server configured (set smtp_host)")
    try:
        with smtplib.SMTP(options.host, options.port, timeout=options.timeout_seconds) as smtp:
            if options.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if options.user:
                smtp.login(options.user, options.password)
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as err:
        raise DeliveryError(f"mail: {options.host}:{options.port}: {_reason(err)}") from err
    if refused:  # some recipients refused: an alert has one, so it was not delivered
        raise DeliveryError(f"mail: recipient refused: {refused}")


def _reason(err: Exception) -> str:
    if isinstance(err, smtplib.SMTPResponseException):
        detail = (
            err.smtp_error.decode(errors="replace")
            if isinstance(err.smtp_error, bytes)
            else str(err.smtp_error)
        )
        return f"{err.smtp_code} {detail}"
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return f"recipient refused: {err.recipients}"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
