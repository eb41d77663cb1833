"""Push and text messages through a provider's HTTPS webhook, signed and idempotent.

Each message is one ``POST`` of a JSON object ``{"channel", "to", "title", "text", "data",
"dedupe_key"}`` with two headers: ``Idempotency-Key`` (the message's ``dedupe_key``, so the
provider delivers a retried request once) and ``X-Concierge-Signature: sha256=<hex>``, the
HMAC-SHA256 of the exact body bytes under the shared secret, which the provider checks before
trusting the request.

Phone numbers (the ``to`` of a text message, and of a push that goes by number) are read with
``phonenumbers`` (national numbers as in the United States) and sent in E.164 form; a push
``to`` that is not a phone number is a device token or an app user id and is sent as given.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import phonenumbers

from services.notifications.channels import DeliveryError, Message, Refused

SIGNATURE_HEADER = "X-Concierge-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# The fictional range of every North American area code: 555-0100 to 555-0199.
RESERVED_EXCHANGE, RESERVED_LINES = "555", range(100, 200)
DEFAULT_REGION = "US"
# What a phone number looks like as people write it: digits with spaces, dots, hyphens,
# parentheses and an optional leading plus. Anything else is a device token.
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{7,}")
# An idempotency key travels in a header: visible ASCII, no line breaks.
_HEADER_SAFE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
# HTTP answers a retry can help with besides 5xx: request timeout, too many requests.
_TRANSIENT_STATUS = frozenset({408, 429})


def signature(body: bytes, secret: str) -> str:
    """The ``X-Concierge-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def looks_like_phone(to: str) -> bool:
    """Whether ``to`` is written as a phone number (rather than a device token)."""
    return _PHONE_LIKE.fullmatch(to.strip()) is not None


def parse_phone(to: str) -> phonenumbers.PhoneNumber | None:
    """``to`` as a phone number (national numbers read as in the United States), else None."""
    try:
        number = phonenumbers.parse(to, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def is_reserved_phone(number: phonenumbers.PhoneNumber) -> bool:
    """Whether ``number`` is a North American 555-0100 to 555-0199 number (never assigned)."""
    national = str(number.national_number)
    return (
        number.country_code == 1
        and len(national) == 10
        and national[3:6] == RESERVED_EXCHANGE
        and int(national[6:]) in RESERVED_LINES
    )


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names the loopback interface: ``localhost``, 127.0.0.0/8 or ``::1``."""
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class WebhookChannel:
    """Sends push or text messages by POSTing signed JSON to a provider's webhook.

    Unless ``allow_real``, the provider must listen on the loopback interface and phone numbers
    must be in the reserved 555-0100 to 555-0199 range; anything else raises :class:`Refused`
    before any network I/O. With ``allow_real`` a provider off the loopback interface is still
    only reached over HTTPS.
    """

    def __init__(
        self,
        name: str,
        url: str,
        secret: str,
        timeout: float = 10.0,
        *,
        allow_real: bool = False,
    ) -> None:
        """Configure the channel; nothing connects until :meth:`send`.

        Args:
            name: The channel's name, ``"push"`` or ``"sms"`` (a text message needs a phone
                number; a push takes a phone number or a device token).
            url: The provider's webhook, ``http://`` or ``https://``.
            secret: The shared secret the body is signed with.
            timeout: Seconds allowed for connecting, and for each read and write.
            allow_real: Send to any number and to a provider off the loopback interface (a
                bank's production setting).

        Raises:
            ValueError: The URL is not an absolute http(s) URL, or the secret is empty.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the {name} webhook URL must be an absolute http(s) URL: {url!r}")
        if not secret:
            raise ValueError(f"the {name} webhook needs a secret to sign its requests")
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.allow_real = allow_real
        self._host = parts.hostname
        self._https = parts.scheme == "https"

    def check_url(self) -> None:
        """Refuse a provider this channel may not reach.

        Raises:
            Refused: The URL is off the loopback interface and the channel does not
                ``allow_real``, or it is plain ``http://`` off the loopback interface.
        """
        if is_loopback_host(self._host):
            return
        if not self.allow_real:
            raise Refused(
                f"the {self.name} webhook {self._host!r} is not on the loopback interface"
            )
        if not self._https:
            raise Refused(f"the {self.name} webhook {self._host!r} must be reached over https")

    def recipient(self, to: str) -> str:
        """``to`` as sent to the provider: E.164 for a phone number, a device token as given.

        Raises:
            DeliveryError: A text message's ``to`` is not a phone number (permanent).
            Refused: A phone number outside the reserved range.
        """
        to = to.strip()
        if not to:
            raise DeliveryError(f"a {self.name} message without a recipient", permanent=True)
        if self.name != "sms" and not looks_like_phone(to):
            return to  # a device token or an app user id: reachable only through the provider
        number = parse_phone(to)
        if number is None:
            raise DeliveryError(f"not a phone number: {to!r}", permanent=True)
        if not self.allow_real and not is_reserved_phone(number):
            raise Refused(f"the number {to!r} is outside the reserved 555-0100..0199 range")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def body(self, message: Message, to: str) -> bytes:
        """The request body: compact JSON, the bytes that are signed.

        Raises:
            DeliveryError: ``message.data`` is not JSON-ready (permanent).
        """
        payload: dict[str, Any] = {
            "channel": self.name,
            "to": to,
            "title": message.subject,
            "text": message.text,
            "data": message.data,
            "dedupe_key": message.dedupe_key,
        }
        try:
            text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DeliveryError(f"the message data is not JSON: {exc}", permanent=True) from exc
        return text.encode("utf-8")

    async def send(self, message: Message) -> str:
        """POST ``message`` to the provider; return the provider's id for it.

        The id is the ``id`` field of the provider's JSON answer, or the ``Idempotency-Key``
        when the answer has none.

        Raises:
            Refused: The recipient or the provider may not be reached (nothing is sent).
            DeliveryError: Transient on 408, 429, 5xx, a connection error or a timeout;
                permanent on any other answer than 2xx, a message not for this channel, or
                a dedupe key that is not visible ASCII.
        """
        if message.channel != self.name:
            raise DeliveryError(
                f"a {message.channel!r} message sent to the {self.name} channel", permanent=True
            )
        self.check_url()
        if _HEADER_SAFE.fullmatch(message.dedupe_key) is None:
            raise DeliveryError(
                f"the dedupe key {message.dedupe_key!r} cannot be an Idempotency-Key header",
                permanent=True,
            )
        to = self.recipient(message.to)
        body = self.body(message, to)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            IDEMPOTENCY_HEADER: message.dedupe_key,
            SIGNATURE_HEADER: signature(body, self.secret),
        }
        # Proxy variables are honoured only when real providers are: a loopback provider is
        # reached directly, never through a proxy that would see the messages.
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout), trust_env=self.allow_real
        ) as client:
            try:
                response = await client.post(self.url, content=body, headers=headers)
            except httpx.TimeoutException as exc:
                raise DeliveryError(
                    f"{self.name} provider timed out: {exc!r}", permanent=False
                ) from exc
            except httpx.TransportError as exc:
                raise DeliveryError(
                    f"{self.name} provider unreachable: {exc!r}", permanent=False
                ) from exc
        status = response.status_code
        if not 200 <= status < 300:
            permanent = not (status in _TRANSIENT_STATUS or 500 <= status < 600)
            raise DeliveryError(
                f"{self.name} provider answered {status}: {response.text[:200]}",
                permanent=permanent,
            )
        return _provider_id(response) or message.dedupe_key


def _provider_id(response: httpx.Response) -> str | None:
    """The ``id`` of the provider's JSON answer, if it has one."""
    try:
        answer = response.json()
    except ValueError:  # no body, or not JSON
        return None
    if isinstance(answer, dict):
        found = answer.get("id")
        if isinstance(found, str | int) and not isinstance(found, bool) and str(found):
            return str(found)
    return None
