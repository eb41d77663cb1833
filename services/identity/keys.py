"""Normalised identity keys shared by the generator, ingestion and identity resolution."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import phonenumbers

_NID_NAMESPACE = b"concierge-national-id-v1:"


def normalise_email(email: str | None) -> str | None:
    """Lower-cased, trimmed e-mail, or ``None`` when it is not an address."""
    if not email:
        return None
    value = email.strip().lower()
    return value if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) else None


def normalise_phone(phone: str | None, region: str = "US") -> str | None:
    """The phone in E.164 (``+15551234567``), or ``None`` when it is not a valid number."""
    if not phone:
        return None
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_id_digits(raw: str | None) -> str | None:
    """The nine digits of a US social security number, or ``None``."""
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    return digits if len(digits) == 9 else None


def hash_national_id(raw: str | None) -> str | None:
    """A one-way hash of the national id: matchable across systems, never stored in clear."""
    digits = national_id_digits(raw)
    if digits is None:
        return None
    return hashlib.sha256(_NID_NAMESPACE + digits.encode()).hexdigest()


def fold(text: str | None) -> str:
    """Lower-case ASCII letters, digits and single spaces: names and addresses compared fairly."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", ascii_text.lower()).split())
