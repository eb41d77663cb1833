"""How the export makes the CRM disagree: each slip is small, realistic and repeatable."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
from faker import Faker

from services.identity.keys import normalise_phone
from services.synth import noise

PERSON = SimpleNamespace(
    first_name="Katherine",
    last_name="O'Neil",
    email="katherine.oneil42@gmail.com",
    phone="+12025550142",
    address_line="12 Oak Street Apt. 4",
    city="Springfield",
    postal_code="62704",
    date_of_birth=date(1986, 4, 2),
    segment="mass_market",
)


def _rng(k: int = 0) -> np.random.Generator:
    return np.random.default_rng([7, k])


def _edits(a: str, b: str) -> int:
    # Levenshtein distance, with a swap counting as two.
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def test_a_typo_is_one_slip() -> None:
    for k in range(50):
        word = noise.typo("Henderson", _rng(k))
        assert word != "Henderson"
        assert 1 <= _edits(word, "Henderson") <= 2
    assert noise.typo("Li", _rng()) == "Li"


def test_every_phone_style_is_the_same_number() -> None:
    styles = {noise.phone_style(PERSON.phone, _rng(k)) for k in range(40)}
    assert styles == {"(202) 555-0142", "202.555.0142", "+1 202 555 0142", "2025550142"}
    assert {normalise_phone(s) for s in styles} == {PERSON.phone}
    wrong = noise.wrong_phone(PERSON.phone, _rng())
    assert wrong != PERSON.phone and wrong[:5] == PERSON.phone[:5] and len(wrong) == 12


def test_addresses_are_spelled_every_way() -> None:
    seen = {noise.restyle_address(PERSON.address_line, _rng(k)) for k in range(60)}
    assert "12 Oak St. Apartment 4" in seen
    assert "12 Oak Street Apt 4" in seen
    assert all(s.startswith("12 Oak ") and s.endswith(" 4") for s in seen)


def test_dates_swap_only_when_the_result_is_a_date() -> None:
    assert noise.swap_day_month(date(1986, 4, 2)) == date(1986, 2, 4)
    assert noise.swap_day_month(date(1986, 4, 20)) == date(1986, 4, 20)
    assert noise.swap_day_month(date(1986, 4, 4)) == date(1986, 4, 4)


def test_older_addresses_differ_from_the_current_one() -> None:
    for k in range(20):
        old = noise.older_email("Katherine", "O'Neil", 42, PERSON.email, _rng(k))
        assert old != PERSON.email and "@" in old


def test_without_noise_the_crm_agrees_except_for_formats() -> None:
    for k in range(30):
        c = noise.crm_contact(PERSON, "CRM1", "CB1", "123-45-6789", "old@x.com", _rng(k), 0.0)
        assert (c["first_name"], c["last_name"], c["email"]) == (
            "Katherine",
            "O'Neil",
            PERSON.email,
        )
        assert normalise_phone(c["phone"]) == PERSON.phone
        assert c["date_of_birth"] in ("1986-04-02", "04/02/1986")
        assert c["segment"] == "Mass market"
        assert 1 <= len(c["notes"]) <= 3
        assert c.get("national_id_last4") in (None, "6789")
        assert c.get("core_customer_id") in (None, "CB1")


def test_full_noise_makes_every_kind_of_disagreement() -> None:
    contacts = [
        noise.crm_contact(PERSON, "CRM1", "CB1", "123-45-6789", "old@x.com", _rng(k), 1.0)
        for k in range(200)
    ]
    assert any(c["first_name"] in ("Kate", "Kathy", "Katy") for c in contacts)
    assert any(c["last_name"] not in ("O'Neil", "O'NEIL", "o'neil") for c in contacts)
    assert any(c["first_name"].isupper() or c["last_name"].islower() for c in contacts)
    assert any(c.get("email") == "old@x.com" for c in contacts)
    assert any(c.get("email", "").strip() != c.get("email") for c in contacts)
    assert any("phone" not in c for c in contacts)
    assert any("date_of_birth" not in c for c in contacts)
    assert not any("core_customer_id" in c for c in contacts)  # 0.6 * (1 - noise)


def test_the_same_generator_gives_the_same_contact() -> None:
    one = noise.crm_contact(PERSON, "CRM1", "CB1", "123-45-6789", "o@x.com", _rng(3), 0.5)
    two = noise.crm_contact(PERSON, "CRM1", "CB1", "123-45-6789", "o@x.com", _rng(3), 0.5)
    assert one == two
    faker = Faker("en_US")
    assert noise.prospect("CRM9", _rng(1), faker) == noise.prospect("CRM9", _rng(1), faker)
