"""The dialogue-state tracker: typed replies to a proposal, and the act model behind them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.offline.acts import ActModel, default_act_model, read_seed, sgd_context, sgd_move
from agents.offline.tracker import clean, details, differs, negated, read_confirmation
from tests.support.chat_kit import CTX

PAY_TOM = [{"name": "pay_payee", "args": {"payee": "payee-tom", "amount": "50.00"}}]
MOVE = [
    {
        "name": "transfer",
        "args": {"from_account": "acc-everyday", "to_account": "acc-rainy", "amount": "50.00"},
    }
]


@pytest.fixture(scope="module")
def acts(tmp_path_factory: pytest.TempPathFactory) -> ActModel:
    """The act model trained from the in-repo seed only (as without the SGD file)."""
    return default_act_model(tmp_path_factory.mktemp("var"), sgd=None)


@pytest.mark.parametrize(
    "text",
    ["yes", "go ahead", "that's right", "confirmed", "please do", "yep sounds good", "Correct."],
)
def test_clear_acceptance_approves(text: str, acts: ActModel) -> None:
    assert read_confirmation(text, PAY_TOM, CTX, acts) == "accept"


@pytest.mark.parametrize("text", ["no", "don't do it", "cancel that", "never mind"])
def test_clear_refusal_declines(text: str, acts: ActModel) -> None:
    assert read_confirmation(text, PAY_TOM, CTX, acts) == "refuse"


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        ("make it 60", PAY_TOM),
        ("yes but make it sixty dollars", PAY_TOM),
        ("send it to City Electric instead", PAY_TOM),
        ("not the rainy day one, the everyday one", MOVE),
        ("from savings instead", MOVE),
    ],
)
def test_a_changed_detail_changes_the_action(
    text: str, calls: list[dict[str, object]], acts: ActModel
) -> None:
    assert read_confirmation(text, calls, CTX, acts) == "change"


def test_the_same_details_said_again_still_accept(acts: ActModel) -> None:
    assert read_confirmation("yes, 50 to Tom", PAY_TOM, CTX, acts) == "accept"


@pytest.mark.parametrize("text", ["hang on, what's in savings?", "is there a fee for this?"])
def test_a_question_keeps_the_action_pending(text: str, acts: ActModel) -> None:
    assert read_confirmation(text, PAY_TOM, CTX, acts) == "ask"


def test_without_an_act_model_only_clear_words_decide() -> None:
    assert read_confirmation("yes please", PAY_TOM, CTX, None) == "accept"
    assert read_confirmation("what is the exchange rate", PAY_TOM, CTX, None) == "ask"


def test_details_read_dashes_quotes_and_contrast() -> None:
    assert clean("send - 60 to 'Tom'") == "send 60 to Tom"
    said, denied = negated("not the joint one, the personal one")
    assert "joint" in denied and "joint" not in said
    found = details("pay \u201cTom Baker\u201d fifty dollars", CTX)
    assert found.payee == "payee-tom" and str(found.amount) == "50.00"
    assert differs(details("make it 60", CTX), PAY_TOM[0]["args"])
    assert not differs(details("50", CTX), PAY_TOM[0]["args"])


def test_sgd_acts_map_to_moves_in_context() -> None:
    confirm = sgd_context({"acts": ["CONFIRM:amount", "CONFIRM:recipient"]})
    assert confirm == "CONFIRM" and sgd_context(None) == "START"
    assert sgd_move(confirm, ["AFFIRM"]) == "accept"
    assert sgd_move(confirm, ["AFFIRM", "REQUEST:time"]) == "accept_ask"
    assert sgd_move(confirm, ["NEGATE", "INFORM:amount"]) == "correct"
    assert sgd_move(confirm, ["INFORM:amount"]) == "correct"
    assert sgd_move("REQUEST", ["INFORM:amount"]) == "inform"
    assert sgd_move("REQ_MORE", ["NEGATE", "THANK_YOU"]) == "bye"


def test_the_act_model_is_kept_and_reloaded(tmp_path: Path) -> None:
    first = default_act_model(tmp_path, sgd=None)
    assert list((tmp_path / "acts").glob("*/model.pkl"))
    again = default_act_model(tmp_path, sgd=None)
    text = "what's my balance in savings?"
    assert again.predict(text, "CONFIRM") == first.predict(text, "CONFIRM")


def test_the_seed_names_only_known_contexts_and_moves() -> None:
    from agents.offline.acts import CONTEXTS, MOVES

    rows = read_seed()
    assert len(rows) > 100
    assert {r.context for r in rows} <= set(CONTEXTS) and {r.move for r in rows} <= set(MOVES)


def test_the_question_after_a_clear_yes_is_kept_and_a_bare_yes_has_none() -> None:
    from agents.offline.tracker import asked_after_yes

    assert asked_after_yes("yes, how long will it take?") == "how long will it take?"
    assert asked_after_yes("Yeah go ahead. And when will it arrive") == "when will it arrive"
    assert asked_after_yes("sure - when does it arrive?") == "when does it arrive?"
    assert asked_after_yes("yes please") is None
    assert asked_after_yes("no, what's my balance?") is None
    assert asked_after_yes("what's my balance?") is None


def test_what_follows_a_yes_is_read_as_the_request() -> None:
    from agents.offline.tracker import after_yes

    assert after_yes("Yes please, send some money to Sam") == "send some money to Sam"
    assert after_yes("yeah actually, send lena fox 35 please") == "send lena fox 35 please"
    assert after_yes("ok") is None
    assert after_yes("nope, send Sam 20") is None
    assert after_yes("send Sam 20") is None


def test_approved_with_a_question_approves_and_keeps_the_question() -> None:
    from agents.offline.tracker import asked_after_yes

    assert asked_after_yes("Approved. How long will the transfer take?") == (
        "How long will the transfer take?"
    )
    assert asked_after_yes("sure, when does it land?") == "when does it land?"
    # a word that may only open the sentence approves before a question about the action only
    assert asked_after_yes("alright, when does it land?") == "when does it land?"
    assert asked_after_yes("alright, what's in savings?") is None
    assert asked_after_yes("Right, please go ahead. How many days?") == "How many days?"


def test_a_yes_taken_back_in_the_same_breath_is_no_yes() -> None:
    from agents.offline.tracker import clear_yes

    assert clear_yes("ok go ahead") and clear_yes("yes, how long will it take?")
    assert not clear_yes("ok, never mind")
    assert not clear_yes("alright, cancel that")
    assert not clear_yes("yeah no, don't")


def test_the_statements_of_a_message_leave_its_questions_out() -> None:
    from agents.offline.tracker import statements

    assert statements("Yeah! Her name is Kim. Can you send it to her?") == "Yeah! Her name is Kim."
    assert statements("hang on, what's in savings?") == ""
    assert statements("50 to Sam") == "50 to Sam"


def test_ok_before_a_question_is_no_yes() -> None:
    from agents.offline.tracker import clear_yes

    for said in ("ok, what's my balancce?", "okay what's in savings", "right, how much is left?"):
        assert not clear_yes(said)
    assert clear_yes("ok go ahead") and clear_yes("yes, what's my balance after?")
