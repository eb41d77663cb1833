"""The e-mail channel: one multipart message (plain text and HTML) over SMTP with aiosmtplib.

The ``Message-ID`` is derived from the message's ``dedupe_key``, so a retried send carries the
same id (mail systems that deduplicate on it show the message once), and it is what
:meth:`EmailChannel.send` returns. The ``X-Concierge-Dedupe`` header carries the key itself.
"""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Iterable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from services.notifications.channels import (
    RESERVED_DOMAINS,
    DeliveryError,
    Message,
    Refused,
)

# A bare addr-spec: dot-atom local part, dotted domain of letters, digits and hyphens. Display
# names, comments, quoted local parts and address lists are not accepted, so what is checked
# against the allowed domains is exactly the one envelope recipient.
_ADDRESS = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
)
_BLANKS = re.compile(r"\s+")
DEDUPE_HEADER = "X-Concierge-Dedupe"


def domain_allowed(domain: str, allowed: Iterable[str]) -> bool:
    """Whether ``domain`` is one of ``allowed`` or a subdomain of one (case-insensitive)."""
    domain = domain.lower().rstrip(".")
    return any(domain == base or domain.endswith("." + base) for base in allowed)


class EmailChannel:
    """Sends e-mail over SMTP (optionally STARTTLS and AUTH), one connection per message.

    Only addresses in the reserved domains (``example.com``, ``example.org``, ``example.net``
    and their subdomains) and in ``allowed_domains`` are sent to, unless ``allow_real``; any
    other raises :class:`Refused` before connecting.
    """

    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 25,
        sender: str = "Concierge <notifications@bank.example.com>",
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        allowed_domains: Iterable[str] = (),
        allow_real: bool = False,
        local_hostname: str | None = None,
    ) -> None:
        """Configure the channel; nothing connects until :meth:`send`.

        Args:
            host: The SMTP server's host name or address.
            port: The SMTP server's port.
            sender: The ``From`` address, with or without a display name
                (``"Concierge <alerts@bank.example>"``); also the envelope sender.
            starttls: Require a STARTTLS upgrade (a server without it fails permanently);
                False sends in the clear, as to a local relay or a test server.
            username: The SMTP AUTH user, if the server wants one.
            password: The SMTP AUTH password.
            timeout: Seconds allowed for connecting and for each SMTP command.
            allowed_domains: E-mail domains allowed besides the reserved ones (with their
                subdomains).
            allow_real: Send to any address (a bank's production setting).
            local_hostname: The name this client gives in ``EHLO``; the machine's host name
                by default (taken without a DNS lookup).

        Raises:
            ValueError: ``sender`` is not an e-mail address, or a password comes without a user.
        """
        display, address = parseaddr(sender)
        found = _ADDRESS.fullmatch(address)
        if found is None:
            raise ValueError(f"the sender {sender!r} is not an e-mail address")
        if password and not username:
            raise ValueError("an SMTP password needs a username")
        self.host = host
        self.port = port
        self.sender = Address(display_name=display, addr_spec=address)
        self.sender_domain = found.group("domain").lower()
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.allowed = frozenset(RESERVED_DOMAINS) | {d.lower().strip(".") for d in allowed_domains}
        self.allow_real = allow_real
        self.local_hostname = local_hostname or socket.gethostname() or "localhost"

    def check(self, to: str) -> str:
        """The recipient's address if this channel may send to it.

        Raises:
            DeliveryError: ``to`` is not a single bare e-mail address (permanent).
            Refused: The address is outside the allowed domains.
        """
        found = _ADDRESS.fullmatch(to.strip())
        if found is None:
            raise DeliveryError(f"not an e-mail address: {to!r}", permanent=True)
        if not self.allow_real and not domain_allowed(found.group("domain"), self.allowed):
            raise Refused(f"e-mail domain {found.group('domain')!r} is not allowed")
        return found.group(0)

    def message_id(self, dedupe_key: str) -> str:
        """The ``Message-ID`` of the message with ``dedupe_key``: the same for every retry."""
        digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]
        return f"<{digest}@{self.sender_domain}>"

    def compose(self, message: Message, to: str) -> EmailMessage:
        """The MIME message: multipart/alternative with the text part, then the HTML part."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        # Header values may not hold line breaks (a header injection); a subject is one line.
        mail["Subject"] = _BLANKS.sub(" ", message.subject).strip()
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = self.message_id(message.dedupe_key)
        mail[DEDUPE_HEADER] = _BLANKS.sub(" ", message.dedupe_key).strip()
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    async def send(self, message: Message) -> str:
        """Send ``message`` to ``message.to``; return its ``Message-ID``.

        Raises:
            Refused: The recipient is outside the allowed domains (nothing is sent).
            DeliveryError: The message is not for this channel, has no dedupe key or its
                address is malformed (permanent); the server refused it (permanent on a 5xx
                reply, transient on a 4xx); the server could not be reached or timed out
                (transient).
        """
        if message.channel != self.name:
            raise DeliveryError(
                f"a {message.channel!r} message sent to the e-mail channel", permanent=True
            )
        if not message.dedupe_key.strip():
            raise DeliveryError("a message without a dedupe key", permanent=True)
        to = self.check(message.to)
        mail = self.compose(message, to)
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            local_hostname=self.local_hostname,
            use_tls=False,
            start_tls=False,  # upgraded below, where a server without STARTTLS is told apart
        )
        try:
            async with client:  # connects; says QUIT (its errors ignored) on the way out
                await client.ehlo()
                if self.starttls:
                    _require(client, "starttls")
                    await client.starttls()
                    await client.ehlo()  # extensions are asked again over TLS (RFC 3207)
                if self.username:
                    _require(client, "auth")
                    await client.login(self.username, self.password or "")
                errors, _reply = await client.send_message(
                    mail, sender=self.sender.addr_spec, recipients=[to]
                )
        except DeliveryError:
            raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            raise DeliveryError(
                f"recipient refused: {'; '.join(str(r) for r in exc.recipients)}",
                permanent=not all(400 <= code < 500 for code in codes),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # A reply code: 5xx says the same send fails again, 4xx says try later.
            raise DeliveryError(
                f"SMTP server replied {exc.code} {exc.message}",
                permanent=500 <= exc.code < 600,
            ) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            # E.g. an address that needs SMTPUTF8 and a server without it.
            raise DeliveryError(f"SMTP server lacks an extension: {exc}", permanent=True) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Refused or dropped connections, timeouts (aiosmtplib's are OSErrors too), TLS.
            raise DeliveryError(f"SMTP server unreachable: {exc}", permanent=False) from exc
        if errors:  # a refusal the server reported without failing the whole send
            refusal = next(iter(errors.values()))
            raise DeliveryError(
                f"recipient refused: {refusal.code} {refusal.message}",
                permanent=not 400 <= refusal.code < 500,
            )
        return str(mail["Message-ID"])


def _require(client: aiosmtplib.SMTP, extension: str) -> None:
    """Fail permanently when the server lacks an extension the configuration asks for."""
    if not client.supports_extension(extension):
        raise DeliveryError(
            f"the SMTP server does not offer {extension.upper()}; check the channel's settings",
            permanent=True,
        )
