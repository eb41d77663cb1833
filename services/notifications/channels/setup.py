"""The channels a bank's settings configure: built once, when the app or a worker starts."""

from __future__ import annotations

from typing import Any

from services.notifications.channels import Channel, allowed_domains
from services.notifications.channels.email import EmailChannel
from services.notifications.channels.webhook import WebhookChannel


def build_channels(settings: Any) -> dict[str, Channel]:
    """The channels the settings configure, keyed by name (``email``, ``push``, ``sms``).

    Args:
        settings: Any object with the attributes ``smtp_host``, ``smtp_port``, ``smtp_sender``,
            ``smtp_starttls``, ``smtp_username``, ``smtp_password``, ``push_webhook_url``,
            ``sms_webhook_url``, ``webhook_secret`` and ``notify_allowed_domains`` (as
            :class:`services.settings.Settings` has). A blank ``smtp_host`` means no e-mail
            channel, a blank webhook URL no such channel.

    Returns:
        The configured channels. ``notify_allowed_domains`` decides what they may reach: its
        domains are allowed besides the reserved ones, and ``*`` lifts the safety rule on every
        channel (any address, any phone number, a provider off the loopback interface).

    Raises:
        ValueError: A webhook URL is configured without ``webhook_secret`` (requests must be
            signed), or a setting cannot be read.
    """
    domains, allow_real = allowed_domains(getattr(settings, "notify_allowed_domains", None))
    channels: dict[str, Channel] = {}
    host = _blank_is_none(getattr(settings, "smtp_host", None))
    if host:
        channels["email"] = EmailChannel(
            host=host,
            port=int(getattr(settings, "smtp_port", None) or 25),
            sender=getattr(settings, "smtp_sender", None)
            or "Concierge <notifications@bank.example.com>",
            starttls=bool(getattr(settings, "smtp_starttls", False)),
            username=_blank_is_none(getattr(settings, "smtp_username", None)),
            password=_blank_is_none(_secret(getattr(settings, "smtp_password", None))),
            allowed_domains=domains,
            allow_real=allow_real,
        )
    secret = _blank_is_none(_secret(getattr(settings, "webhook_secret", None)))
    for name in ("push", "sms"):
        url = _blank_is_none(getattr(settings, f"{name}_webhook_url", None))
        if not url:
            continue
        if not secret:
            raise ValueError(f"{name}_webhook_url is set but webhook_secret is not")
        channels[name] = WebhookChannel(name, url, secret, allow_real=allow_real)
    return channels


def _secret(value: Any) -> Any:
    """The plain value of a pydantic ``SecretStr`` (anything else unchanged)."""
    reveal = getattr(value, "get_secret_value", None)
    return reveal() if callable(reveal) else value


def _blank_is_none(value: Any) -> str | None:
    """``value`` as a string, or None when it is None or only blanks."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None
