"""Outbound notification channels: e-mail over SMTP, push and text messages through webhooks.

Every adapter takes one :class:`Message` and returns the provider's message id, or raises
:class:`DeliveryError` saying whether a retry can help (``permanent``). The outbox's workers
retry transient failures with backoff and set permanent ones aside.

Synthetic and test people must never be reached, so by default the adapters only send to
reserved addresses: the e-mail domains ``example.com``, ``example.org`` and ``example.net``
(and their subdomains), the telephone numbers 555-0100 to 555-0199, and webhook providers on
the loopback interface. Anything else raises :class:`Refused` before any network I/O. A bank
lifts the rule with the ``notify_allowed_domains`` setting: a comma-separated list of e-mail
domains allowed besides the reserved ones, or ``*`` for every address, number and provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

# E-mail domains reserved for documentation and tests (RFC 2606): always allowed.
RESERVED_DOMAINS = ("example.com", "example.org", "example.net")
# The value of ``notify_allowed_domains`` that lifts the safety rule altogether.
ALLOW_ALL = "*"


@dataclass(frozen=True)
class Message:
    """One notification on one channel, ready for an adapter.

    Attributes:
        channel: ``"email"``, ``"push"`` or ``"sms"``; the adapter of that name sends it.
        to: An e-mail address, or a phone number / device token for push and sms.
        subject: The e-mail subject, or the push title.
        text: The plain text body.
        html: The HTML body of an e-mail (None on the other channels).
        dedupe_key: Unique per notification and channel; the provider's idempotency key, so a
            retried send is recognised as the same message.
        data: JSON-ready extras (notification id, kind, deep link).
    """

    channel: str
    to: str
    subject: str
    text: str
    html: str | None
    dedupe_key: str
    data: dict[str, Any]


class DeliveryError(Exception):
    """A send that failed.

    ``permanent``: retrying cannot help (a bad address, an SMTP 5xx reply, an HTTP 4xx other
    than 408/429); otherwise the same send may succeed later.
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Refused(DeliveryError):
    """The adapter will not send this at all (a recipient outside the allowed domains/ranges).

    Always permanent, and always raised before any network I/O.
    """

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        if not permanent:
            raise ValueError("a refusal is always permanent")
        super().__init__(message, permanent=True)


class Channel(Protocol):
    """An outbound channel adapter: sends one message, returns the provider's message id."""

    name: str

    async def send(self, message: Message) -> str:
        """Send ``message``; return the provider's message id, or raise :class:`DeliveryError`."""
        ...


def allowed_domains(setting: str | Iterable[str] | None) -> tuple[frozenset[str], bool]:
    """Read ``notify_allowed_domains``: the extra e-mail domains, and whether ``*`` allows all.

    Args:
        setting: A comma-separated string (``"bank.com, mail.bank.com"``), an iterable of
            domains, ``"*"`` for every address, or None / blank for the reserved domains only.

    Returns:
        The extra domains (lower case, without a leading ``@`` or ``.`` or a trailing ``.``),
        and True when the setting lifts the safety rule altogether.
    """
    if setting is None:
        return frozenset(), False
    items = setting.split(",") if isinstance(setting, str) else list(setting)
    domains = {item.strip().lower().lstrip("@.").rstrip(".") for item in items}
    domains.discard("")
    if ALLOW_ALL in domains:
        return frozenset(), True
    return frozenset(domains), False
