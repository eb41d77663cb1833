"""The customer's mood: fraud, vulnerability and distress cues, negation, swearing, valence."""

from __future__ import annotations

import pytest

from agents.sentiment import cues_in, read_mood


@pytest.mark.parametrize(
    ("said", "label", "flags"),
    [
        ("I didn't make these charges", "negative", ("fraud",)),
        ("There are payments on my card I don’t recognise", "negative", ("fraud",)),
        ("someone stole my card", "negative", ("fraud",)),
        ("that transaction wasn't me", "negative", ("fraud",)),
        ("I'm desperate", "distressed", ("distress",)),
        ("I can't pay my rent this month", "distressed", ("vulnerability",)),
        ("I lost my job last week", "distressed", ("vulnerability",)),
        ("this is ridiculous", "negative", ()),
        ("this app is fucking useless", "negative", ()),
        ("what's my balance?", "neutral", ()),
        ("move 200 from everyday to savings", "neutral", ()),
        ("thanks, that was really helpful", "positive", ()),
    ],
)
def test_cues_give_the_label_and_the_risk_flags(
    said: str, label: str, flags: tuple[str, ...]
) -> None:
    mood = read_mood([said])
    assert (mood.label, mood.flags) == (label, flags), mood
    assert (mood.cues != ()) == (label != "neutral"), mood


@pytest.mark.parametrize(
    "said",
    [
        "I'm not worried at all",
        "I am not desperate, just curious",
        "no, I'm not scared of the new app",
        "I wasn't angry about it",
        "never been frustrated with you",
    ],
)
def test_a_negated_cue_does_not_count(said: str) -> None:
    mood = read_mood([said])
    assert mood.label in ("neutral", "positive"), mood
    assert mood.flags == () and mood.cues == ()


def test_negation_reaches_only_its_own_clause() -> None:
    assert read_mood(["I'm not angry, but I am worried"]).flags == ("distress",)
    assert [f.kind for f in cues_in("not happy, and I'm scared")] == ["distress"]


def test_a_report_of_charges_not_made_is_fraud_though_it_is_worded_as_a_negation() -> None:
    [found] = [f for f in cues_in("I did not authorise this payment") if f.kind == "fraud"]
    assert found.words == "did not authorise this payment"


def test_no_thanks_is_not_praise() -> None:
    mood = read_mood(["no thanks"])
    assert mood.label != "positive" and "thanks" not in mood.cues


def test_the_mood_of_a_conversation_keeps_every_message_cues_and_where_they_were() -> None:
    mood = read_mood(["what's my balance?", "hmm", "someone used my card, I'm panicking"])
    assert mood.label == "distressed"
    assert mood.flags == ("fraud", "distress")
    fraud = mood.first("fraud")
    assert fraud is not None and fraud.message == 2
    assert read_mood([]).label == "neutral" and read_mood(["   "]).flags == ()
