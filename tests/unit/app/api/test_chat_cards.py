"""Recommendation and insight cards as structured websocket frames."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, ToolMessage

from app.api.chat import cards_for

OFFER = {"code": "hysa_open", "title": "High-yield savings", "body": "Earn 4%", "why": "idle cash"}


def test_recommendations_and_insights_a_run_read_become_cards() -> None:
    recs = ToolMessage(
        json.dumps(
            {
                "recommendations": [
                    {"code": "c1", "title": "T", "body": "B", "why": "W"},
                    {
                        "code": "c2",
                        "title": "CD",
                        "body": "Choose",
                        "why": "Because",
                        "options": [
                            {"code": "renew", "label": "Renew at today's rate"},
                            {"code": "move_to_savings", "label": "Move to savings"},
                        ],
                    },
                ]
            }
        ),
        tool_call_id="1",
        name="get_recommendations",
    )
    found = ToolMessage(
        json.dumps({"insights": [{"type": "large_transaction", "message": "M"}]}),
        tool_call_id="2",
        name="get_insights",
    )
    cards = cards_for([recs, found, AIMessage("Here you are")], None)
    assert cards == [
        {
            "type": "CUSTOM",
            "name": "recommendation_cards",
            "value": [
                {"offer": "c1", "title": "T", "body": "B", "why": "W", "options": []},
                {
                    "offer": "c2",
                    "title": "CD",
                    "body": "Choose",
                    "why": "Because",
                    "options": [  # one button per choice, as the card shows them
                        {"code": "renew", "label": "Renew at today's rate"},
                        {"code": "move_to_savings", "label": "Move to savings"},
                    ],
                },
            ],
        },
        {
            "type": "CUSTOM",
            "name": "insight_cards",
            "value": [{"type": "large_transaction", "message": "M"}],
        },
    ]


def test_the_next_best_action_becomes_a_card_only_when_the_assistant_brought_it_up() -> None:
    said = AIMessage("By the way...", additional_kwargs={"concierge": {"shown": "hysa_open"}})
    [card] = cards_for([said], OFFER)
    assert card["name"] == "recommendation_cards"
    assert card["value"] == [
        {
            "offer": "hysa_open",
            "title": "High-yield savings",
            "body": "Earn 4%",
            "why": "idle cash",
            "options": [],
        }
    ]
    assert cards_for([AIMessage("Your balance is...")], OFFER) == []
    assert cards_for([said], {**OFFER, "code": "other"}) == []


def test_a_tool_result_that_is_not_json_gives_an_empty_card_list() -> None:
    broken = ToolMessage("oops", tool_call_id="1", name="get_insights")
    assert cards_for([broken], None) == [{"type": "CUSTOM", "name": "insight_cards", "value": []}]
