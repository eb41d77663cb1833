"""What a customer can mean: Concierge's own intents, grouped by what the agent does with them.

Tasks change something (after the customer confirms exactly what will happen); information needs
read the customer's own data; conversation moves steer the dialogue; ``faq`` is any question about
the bank's products and rules, answered from the knowledge base (whose articles carry the 77
BANKING77 topics as their ``intents``). The training utterances for these live in
``agents/offline/data/utterances.csv`` (``text,category``, like any CSV ``concierge nlu train``
reads).
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["task", "info", "move", "faq"]

INTENTS: dict[str, tuple[Kind, str]] = {
    # tasks (writes, each confirmed first)
    "transfer_money": ("task", "move money between the customer's own accounts"),
    "pay_bill": ("task", "pay one of the customer's payees now"),
    "schedule_payment": ("task", "set up a future or recurring transfer or payment"),
    "cancel_scheduled_payment": ("task", "stop a scheduled or recurring transfer or payment"),
    "freeze_card": ("task", "temporarily freeze (lock) a card"),
    "unfreeze_card": ("task", "unfreeze (unlock) a card"),
    "replace_card": ("task", "report a card lost, stolen or damaged; replace it"),
    "dispute_transaction": ("task", "dispute a charge the customer does not recognise"),
    "create_savings_goal": ("task", "start a savings goal with a name and a target"),
    "update_goal": ("task", "rename an existing savings goal or change its target or date"),
    "savings_rule": ("task", "set up an automatic savings rule (round-ups, a share of pay)"),
    "set_alerts": ("task", "turn notifications or alerts on or off, or change contact settings"),
    # information needs (reads of the customer's own data)
    "check_balance": ("info", "balances of the customer's accounts"),
    "recent_transactions": ("info", "list or find transactions"),
    "spending_summary": ("info", "how much was spent, by category or merchant, over a period"),
    "upcoming_bills": ("info", "bills and payments due soon"),
    "show_insights": ("info", "anything unusual or worth knowing about the customer's money"),
    "show_offers": ("info", "recommendations and offers for the customer"),
    "goal_progress": ("info", "how the customer's savings goals are doing"),
    "income_summary": ("info", "the customer's income: pay, salary, what they earned"),
    # conversation moves
    "greeting": ("move", "hello"),
    "thanks": ("move", "thank you"),
    "goodbye": ("move", "bye"),
    "help": ("move", "what can you do"),
    "human_handoff": ("move", "talk to a person"),
    "affirm": ("move", "yes, confirm"),
    "deny": ("move", "no"),
    "cancel": ("move", "stop what we are doing"),
    "correction": ("move", "change a detail just given (sorry, I meant 65)"),
    "out_of_scope": ("move", "not about banking"),
    # questions answered from the knowledge base
    "faq": ("faq", "a question about the bank's products, fees, rules or how things work"),
}


def kind_of(intent: str) -> Kind:
    """The group an intent belongs to; BANKING77 topics and unknown labels are ``faq``."""
    found = INTENTS.get(intent)
    return found[0] if found else "faq"
