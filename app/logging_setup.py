"""Logging that never writes personal data: account numbers, e-mails, phones, session tokens.

:class:`PersonalDataFilter` rewrites a record's message and arguments in place. ``install``
puts it where every record passes, whoever logs it and whichever handler writes it: in the
record factory (so records of libraries and of uvicorn's access log are masked too) and on the
root logger's handlers. The app's ``create_app`` and the CLI call it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# Bearer tokens, tokens in query strings (the chat's ``/ws/chat?token=``), and this bank's
# signed tokens wherever they appear (base64 of ``{"...`` starts with ``eyJ``).
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-_.~+/=]+")
_TOKEN_PARAM = re.compile(r"(?i)\b((?:access_)?token=)[^&\s\"']+")
_SIGNED = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]+)?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Phones written as phones: a leading + or separators, e.g. +15551234567, (555) 123-4567.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?\(?\d{2,4}\)?(?:[\s.-]?\d{2,4}){2,3}"
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?!\w)"
)
# Account and card numbers: 8 to 19 digits, or a card's four groups of four (not dates).
_ACCOUNT = re.compile(r"(?<![\w.])(?:\d{4}(?:[ -]\d{4}){2,3}|\d{8,19})(?!\w|\.\d)")
MASK = "***"


def _account(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"{MASK}{digits[-4:]}"


def mask_personal_data(text: str) -> str:
    """``text`` with tokens and e-mails hidden, phones hidden, account numbers cut to last 4."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _TOKEN_PARAM.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _SIGNED.sub(MASK, text)
    text = _EMAIL.sub(f"{MASK}@{MASK}", text)
    text = _PHONE.sub(f"{MASK}phone", text)
    return _ACCOUNT.sub(_account, text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, tuple):
        return tuple(_mask_value(v) for v in value)
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    return value


class PersonalDataFilter(logging.Filter):
    """Mask personal data in every record's message and arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place and let it through."""
        if getattr(record, "_pii_masked", False):
            return True
        record._pii_masked = True
        if not record.args:
            if isinstance(record.msg, str):
                record.msg = mask_personal_data(record.msg)
            return True
        masked = _mask_value(record.args)
        try:
            rendered = str(record.msg) % masked
        except (TypeError, ValueError, KeyError):
            record.msg, record.args = mask_personal_data(str(record.msg)), masked
            return True
        # Personal data in the format string itself, or in a number argument (``%d``): keep
        # only the masked text. Otherwise keep the arguments (formatters such as uvicorn's
        # access log read them).
        if mask_personal_data(rendered) != rendered or (
            isinstance(record.msg, str) and mask_personal_data(record.msg) != record.msg
        ):
            record.msg, record.args = mask_personal_data(rendered), ()
        else:
            record.args = masked
        return True


_FILTER = PersonalDataFilter()
_installed: dict[str, Any] = {}


def install() -> PersonalDataFilter:
    """Mask personal data in every log record from now on (idempotent).

    Returns:
        The filter, also attached to the root logger's handlers.
    """
    if "factory" not in _installed:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _FILTER.filter(record)
            return record

        _installed["factory"] = factory
        logging.setLogRecordFactory(factory)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER
