"""Email: every message has a text and an HTML part, rendered from ``templates/mail/``.

Sent through SMTP when a server is configured (``MAIL_SERVER``, or a Heroku add-on's
variables: Mailgun's ``MAILGUN_SMTP_*``, SendGrid's ``SENDGRID_API_KEY``); otherwise written
to ``MAIL_FOLDER`` (``instance/mail`` by default) as ``.eml`` files and logged, so development
shows every message without a mail server.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, render_template

log = logging.getLogger(__name__)


class MailError(Exception):
    """A message could not be handed to the mail server."""


def build(
    to: str,
    subject: str,
    template: str,
    *,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> EmailMessage:
    """A message to ``to`` from ``mail/<template>.txt`` and ``mail/<template>.html``."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = formataddr((config["MAIL_FROM_NAME"], config["MAIL_FROM"]))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    context = {"subject": subject, **context}
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(render_template(f"mail/{template}.html", **context), subtype="html")
    return message


def send(message: EmailMessage) -> None:
    """Send ``message`` by SMTP, or write it to the mail folder when no server is set.

    :raises MailError: the server refused or could not be reached.
    """
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        folder = Path(config["MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{uuid.uuid4().hex}.eml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(message))
        log.info("mail to %s (%s) written to %s", message["To"], message["Subject"], path)
        return
    try:
        with _connect(config) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail to %s (%s) failed: %s", message["To"], message["Subject"], error)
        raise MailError(
            f"The mail server did not take the message ({type(error).__name__})."
        ) from None
    log.info("mail to %s (%s) sent", message["To"], message["Subject"])


def _connect(config: Mapping[str, Any]) -> smtplib.SMTP:
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    timeout = float(config.get("MAIL_TIMEOUT", 10))
    smtp: smtplib.SMTP
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return smtp


def mail(to: str, subject: str, template: str, **context: Any) -> None:
    """Build and send one message (see :func:`build` and :func:`send`)."""
    send(build(to, subject, template, **context))
