"""Reading the aspect a question asks about, and how far a passage covers it."""

from __future__ import annotations

import pytest

from knowledge.passages import asked_aspects, coverage, passage_score

FEES = "| Route | Fee |\n|---|---|\n| Local networks | 0.5% of the amount |\n| SWIFT | $25 |"
LIMITS = "You can send up to $50,000 abroad per day. Larger amounts may need documents."


@pytest.mark.parametrize(
    ("question", "aspects"),
    [
        ("do you charge anything to wire money to Spain?", ("fee",)),
        ("what's the price of an express card", ("fee",)),
        ("is it free to move money between my own accounts", ("fee",)),
        ("what's the most I can withdraw in one go", ("limit",)),
        ("how many cards can I have", ("limit",)),
        ("how quickly will the money get there", ("time",)),
        ("when will my new card arrive", ("time",)),
        ("how do I freeze my card", ("steps",)),
        ("how do I avoid the exchange fee", ("fee",)),  # the specific aspect wins over "how do I"
        ("tell me about savings accounts", ()),
    ],
)
def test_the_aspect_a_question_asks_about(question: str, aspects: tuple[str, ...]) -> None:
    assert asked_aspects(question) == aspects


def test_a_table_counts_through_its_header_and_a_heading_in_full() -> None:
    assert coverage("Routes", FEES, "fee") == 1.0  # every row sits under the "Fee" column
    assert coverage("Routes", FEES, "time") == 0.0
    assert coverage("Limits", "Ask us.", "limit") == 1.0
    assert coverage("", LIMITS, "fee") == 0.0
    assert coverage("", LIMITS, "limit") == 1.0  # one of two sentences: half is a full passage


def test_the_passage_on_the_asked_aspect_wins_over_a_closer_one_on_another() -> None:
    fees = passage_score(0.60, "Fees", FEES, ["fee"])
    limits = passage_score(0.80, "Limits", LIMITS, ["fee"])
    assert fees > limits
    # asked about limits, the same two passages swap places
    assert passage_score(0.60, "Fees", FEES, ["limit"]) < passage_score(
        0.80, "Limits", LIMITS, ["limit"]
    )
    # a question with no aspect is ranked by meaning alone
    assert passage_score(0.6, "Fees", FEES, []) == 0.6


def test_a_section_headed_with_the_asked_aspect_wins_over_a_lead_that_mentions_it() -> None:
    lead = "Most transfers are free. Fees apply only to faster or international options."
    assert coverage("", lead, "fee") == 1.0  # the lead speaks of fees in every sentence
    headed = passage_score(0.52, "Our transfer fees", FEES, ["fee"])
    assert headed > passage_score(0.53, "", lead, ["fee"])  # as close to the question
    assert headed < passage_score(0.62, "", lead, ["fee"])  # but not a much closer lead
