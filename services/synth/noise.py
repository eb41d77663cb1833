"""How people type a bank's records into a CRM: nicknames, typos, odd casing, many formats.

Used by the export (``services.synth.export``) to make the CRM disagree with core banking the
way real systems do. Every function draws from the generator it is given, so an export is
deterministic.
"""

from __future__ import annotations

import string
from datetime import date
from functools import cache
from typing import Any

import numpy as np
from faker import Faker
from nicknames import NickNamer

_STREET, _AVENUE, _ROAD = ("Street", "St.", "St"), ("Avenue", "Ave", "Ave."), ("Road", "Rd", "Rd.")
_SUITE, _APARTMENT = ("Suite", "Ste", "Ste."), ("Apartment", "Apt", "Apt.")
_DRIVE, _LANE, _BOULEVARD = ("Drive", "Dr", "Dr."), ("Lane", "Ln", "Ln."), ("Boulevard", "Blvd")
_COURT = ("Court", "Ct", "Ct.")
# Every spelling of a word in an address, keyed by its lower-case forms.
SPELLINGS: dict[str, tuple[str, ...]] = {
    form.lower(): forms
    for forms in (_STREET, _AVENUE, _ROAD, _SUITE, _APARTMENT, _DRIVE, _LANE, _BOULEVARD, _COURT)
    for form in forms
}
OTHER_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com")
NOTES = (
    "Asked about mortgage rates",
    "Prefers e-mail over phone",
    "Called about a card replacement",
    "Interested in a savings account",
    "Complained about a fee; refunded",
    "Asked about travel notices",
    "Wants to review investments",
    "Updated mailing address by phone",
    "Asked about a personal loan",
    "Visited branch for a notary",
    "Follow up on credit limit increase",
    "Asked how to set up direct deposit",
    "Discussed retirement savings",
    "Reported a suspicious charge",
)


@cache
def _namer() -> NickNamer:
    return NickNamer()


def nickname(first: str, rng: np.random.Generator) -> str | None:
    """A nickname of ``first`` (e.g. Katherine -> Kate), or ``None`` when it has none."""
    options = sorted(_namer().nicknames_of(first.lower()))
    if not options:
        return None
    return options[int(rng.integers(len(options)))].title()


def typo(word: str, rng: np.random.Generator) -> str:
    """``word`` with one slip of the keyboard: two letters swapped, one dropped or replaced."""
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    if len(letters) < 3:
        return word
    kind = int(rng.integers(3))
    i = letters[int(rng.integers(len(letters) - 1))]
    if kind == 0 and i + 1 < len(word) and word[i].lower() != word[i + 1].lower():
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    others = [c for c in string.ascii_lowercase if c != word[i].lower()]
    new = others[int(rng.integers(len(others)))]
    return word[:i] + (new.upper() if word[i].isupper() else new) + word[i + 1 :]


def odd_case(text: str, rng: np.random.Generator) -> str:
    """``text`` in all lower or all upper case."""
    return text.upper() if rng.random() < 0.5 else text.lower()


def sloppy_email(email: str, rng: np.random.Generator) -> str:
    """The same address with odd casing and, sometimes, stray spaces around it."""
    local, _, domain = email.partition("@")
    style = int(rng.integers(3))
    if style == 0:
        local = ".".join(part.title() for part in local.split("."))
    elif style == 1:
        local, domain = local.upper(), domain.upper()
    else:
        domain = domain.title()
    out = f"{local}@{domain}"
    return out + " " if rng.random() < 0.5 else " " + out


def older_email(first: str, last: str, number: int, email: str, rng: np.random.Generator) -> str:
    """An address the person used before: the same name at another domain, or another name."""
    local, _, domain = email.lower().partition("@")
    if rng.random() < 0.5:
        others = [d for d in OTHER_DOMAINS if d != domain]
        return f"{local}@{others[int(rng.integers(len(others)))]}"
    letters = "".join(ch for ch in f"{first[:1]}{last}".lower() if ch.isalnum())
    return f"{letters}{number}@{domain}"


def phone_style(e164: str, rng: np.random.Generator) -> str:
    """A US E.164 number as people write it: ``(555) 123-4567``, ``555.123.4567``, ..."""
    d = e164[-10:]
    styles = (
        f"({d[:3]}) {d[3:6]}-{d[6:]}",
        f"{d[:3]}.{d[3:6]}.{d[6:]}",
        f"+1 {d[:3]} {d[3:6]} {d[6:]}",
        d,
    )
    return styles[int(rng.integers(len(styles)))]


def wrong_phone(e164: str, rng: np.random.Generator) -> str:
    """The number with one of its last seven digits changed (a mistyped or stale phone)."""
    i = len(e164) - 1 - int(rng.integers(7))
    digit = str((int(e164[i]) + int(rng.integers(1, 10))) % 10)
    return e164[:i] + digit + e164[i + 1 :]


def restyle_address(street: str, rng: np.random.Generator) -> str:
    """Street suffixes and unit words spelled out or abbreviated, each at random."""
    words = []
    for word in street.split():
        forms = SPELLINGS.get(word.lower())
        words.append(forms[int(rng.integers(len(forms)))] if forms else word)
    return " ".join(words)


def address_typo(street: str, rng: np.random.Generator) -> str:
    """One typo in the longest word of the street name (house numbers stay right)."""
    words = street.split()
    alpha = [i for i, w in enumerate(words) if w.isalpha()]
    if not alpha:
        return street
    i = max(alpha, key=lambda k: len(words[k]))
    words[i] = typo(words[i], rng)
    return " ".join(words)


def swap_day_month(day: date) -> date:
    """The date with day and month exchanged, when that is another valid date."""
    if day.day > 12 or day.day == day.month:
        return day
    return day.replace(month=day.day, day=day.month)


def human_segment(segment: str) -> str:
    """``mass_market`` as a person writes it: ``Mass market``."""
    return segment.replace("_", " ").capitalize()


def advisor_notes(rng: np.random.Generator) -> list[str]:
    """One to three short notes an advisor left on the contact."""
    count = int(rng.integers(1, 4))
    return [NOTES[int(i)] for i in rng.choice(len(NOTES), size=count, replace=False)]


def crm_contact(
    p: Any,
    contact_id: str,
    customer_id: str,
    nid: str,
    old_email: str,
    rng: np.random.Generator,
    noise: float,
    stale: bool = False,
) -> dict[str, Any]:
    """A person's CRM contact as an advisor typed it; ``noise`` scales every slip.

    Args:
        p: The person's core record (attributes as on ``services.models.Person``).
        contact_id: The CRM's key for this contact.
        customer_id: The person's core banking key (the optional cross-reference).
        nid: The person's national id (only its last four digits may appear).
        old_email: An address the person used before.
        rng: This contact's random generator.
        noise: 0 to 1; multiplies the probability of each disagreement.
        stale: The CRM still holds ``old_email`` (the one the person enrolled online with).

    Returns:
        The contact in the canonical CRM format; missing fields are left out.
    """
    n = noise
    u = rng.random(12)  # every decision is drawn, fired or not: more noise, more fires
    first, last = p.first_name, p.last_name
    if u[0] < 0.5 * n:
        first = nickname(first, rng) or first
    if u[1] < 0.3 * n:
        last = typo(last, rng)
    if u[2] < 0.5 * n:
        which = int(rng.integers(3))  # first name, last name, or both
        first = odd_case(first, rng) if which != 1 else first
        last = odd_case(last, rng) if which != 0 else last
    email = p.email
    if email and stale:
        email = old_email  # the CRM never heard of the new address
    elif email and u[3] < 0.3 * n:
        email = sloppy_email(email, rng)
    elif email and u[3] < 0.7 * n:
        email = old_email
    elif email and u[3] < 0.9 * n:
        email = None
    phone = p.phone
    if phone and u[4] < 0.4 * n:
        phone = None if u[11] < 0.5 else wrong_phone(phone, rng)
    street = restyle_address(p.address_line or "", rng)
    if u[5] < 0.2 * n:
        street = address_typo(street, rng)
    dob = p.date_of_birth
    if u[6] < 0.2 * n:
        dob = None
    elif dob and u[7] < 0.1 * n:
        dob = swap_day_month(dob)
    out: dict[str, Any] = {"contact_id": contact_id, "first_name": first, "last_name": last}
    if email:
        out["email"] = email
    if phone:
        out["phone"] = phone_style(phone, rng)
    out["address"] = {"street": street, "city": p.city, "postal_code": p.postal_code}
    if dob:
        out["date_of_birth"] = dob.strftime("%m/%d/%Y") if u[8] < 0.5 else dob.isoformat()
    if u[9] < 0.5:
        out["national_id_last4"] = nid[-4:]
    out["segment"] = human_segment(p.segment)
    out["notes"] = advisor_notes(rng)
    if u[10] < 0.6 * (1 - n):
        out["core_customer_id"] = customer_id
    return out


def prospect(contact_id: str, rng: np.random.Generator, faker: Faker) -> dict[str, Any]:
    """A CRM-only contact: someone the bank talked to who never became a customer."""
    faker.seed_instance(int(rng.integers(2**31)))
    first, last = faker.first_name(), faker.last_name()
    local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".")
    phone = "+1" + "".join(str(d) for d in rng.integers(2, 10, size=10))
    return {
        "contact_id": contact_id,
        "first_name": first,
        "last_name": last,
        "email": f"{local}{int(rng.integers(1, 100))}@{faker.free_email_domain()}",
        "phone": phone_style(phone, rng),
        "address": {
            "street": restyle_address(faker.street_address(), rng),
            "city": faker.city(),
            "postal_code": faker.zipcode(),
        },
        "segment": "Prospect",
        "notes": advisor_notes(rng),
    }
