"""The offline model's turn-taking: from the conversation so far to the next assistant message.

The state of a task lives on the assistant's own messages (``additional_kwargs``): the frame
being filled, the slot just asked for, an offer awaiting a yes or no (an advisor, resuming a
task). So the model is a pure function of the messages, and a conversation resumes after a
restart from its checkpoint like any other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agents.context import CustomerContext, context_of
from agents.offline.intents import kind_of
from agents.offline.lookups import (
    MERCHANT,
    asks_about_merchant,
    asks_balance,
    asks_income,
    charge_search,
    merchant_read,
)
from agents.offline.replies import money as shown_money
from agents.offline.replies import render, render_balance
from agents.offline.slots import (
    match_account,
    match_merchant,
    parse_amount,
    parse_category,
    parse_frequency,
    parse_period,
)
from agents.offline.tasks import (
    CLEAR_LEAD,
    TASKS,
    Frame,
    changes_goal,
    defaults,
    fill,
    names_of,
    nothing_to_choose,
    pays_card,
    question,
    tool_args,
)
from agents.offline.tracker import after_yes, asks, clean, spelt, statements
from agents.offline.understand import UNSURE, IntentClassifier, Reading, read, short_reply
from services.money import format_money, to_minor

STATE = "concierge"
# What a classifier may call a request to change an existing goal
GOAL_MISREAD = frozenset(
    {"create_savings_goal", "goal_progress", "correction", "savings_rule", "update_goal"}
)
READS = {
    "check_balance": "get_accounts",
    "recent_transactions": "search_transactions",
    "spending_summary": "spending_summary",
    "upcoming_bills": "upcoming_bills",
    "show_insights": "get_insights",
    "show_offers": "get_recommendations",
    "goal_progress": "get_goals",
    "income_summary": "income_summary",
    # not a classifier label: a question about one merchant (see agents.offline.lookups)
    MERCHANT: "search_transactions",
}
# Tasks whose unnamed source is the account the customer has been talking about
FOCUS = frozenset({"transfer_money", "pay_bill"})
# Tasks that can name a merchant in the past tense without being asked to act ("when did I
# last pay Netflix" is a question about a payment made, not a payment to make)
HISTORY_MISREAD = frozenset({"pay_bill", "transfer_money", "schedule_payment", "check_balance"})
# Answers after which one suggestion may follow (never after a task or a refusal).
OFFER_AFTER = frozenset({"get_accounts", "spending_summary", "get_goals", "upcoming_bills"})
HELP = (
    "I can check balances and transactions, sum up your spending or what you paid one "
    "merchant, show your income, upcoming bills and goals, move money between your accounts, "
    "pay your payees or your credit card, schedule payments, freeze or replace a card, "
    "dispute a charge, set up or change savings goals and rules, change your alerts, and "
    "answer questions about our products and fees. What would you like to do?"
)
ORDINALS = {
    "first": 0,
    "1st": 0,
    "one": 0,
    "1": 0,
    "second": 1,
    "2nd": 1,
    "two": 1,
    "2": 1,
    "third": 2,
    "3rd": 2,
    "three": 2,
    "3": 2,
    "fourth": 3,
    "4th": 3,
    "4": 3,
}


def _state(messages: Sequence[BaseMessage]) -> dict[str, Any]:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            return dict(message.additional_kwargs.get(STATE) or {})
    return {}


_PAYDAY = re.compile(r"\bpay ?days?\b|\bpaychecks?\b|\bwhen(?:ever)? I get paid\b", re.I)


def _recurring(intent: str, text: str) -> str:
    """A transfer or payment said to repeat is a schedule: never run it as a one-off."""
    if intent in ("transfer_money", "schedule_payment", "pay_bill"):
        if intent != "pay_bill" and _PAYDAY.search(text):
            return "savings_rule"  # money put aside on each payday is a savings rule
        repeats = parse_frequency(text)
        if intent != "schedule_payment" and repeats is not None and repeats != "once":
            return "schedule_payment"
    return intent


_QUESTION = re.compile(
    r"^\s*(what|what's|whats|how|is|are|can|could|do|does|did|when|where|why|who|will)\b", re.I
)


def _asks_something(reading: Reading) -> bool:
    """A question put while a task waits: information or FAQ asked in a question's form."""
    if reading.unsure or not (_QUESTION.search(reading.text) or asks(reading.text)):
        return False
    return reading.intent in READS or kind_of(reading.intent) == "faq"


def _listed_offers(content: str) -> list[tuple[str, str]]:
    """``(code, title)`` of the offers a ``get_recommendations`` result listed."""
    try:
        rows = json.loads(content).get("recommendations", [])
    except (ValueError, AttributeError):
        return []
    return [(str(r["code"]), str(r.get("title") or r["code"])) for r in rows if r.get("code")]


def _suggestion(nba: dict[str, str]) -> str:
    """One next best action in a sentence or two: what, why (unless the text says it), ask."""
    body = nba["body"].strip()
    line = f"By the way: {body}"
    why = nba.get("why", "")  # "Because your CD matures on Dec 12."
    if why and why.lower() not in body.lower() and not body.endswith("?"):
        line += f" I'm mentioning it {why[:1].lower()}{why[1:]}"
    return line if body.endswith("?") else f"{line} Want to hear more?"


def _say(text: str, **state: Any) -> AIMessage:
    return AIMessage(content=text, additional_kwargs={STATE: state} if state else {})


def _frame_state(frame: Frame, **more: Any) -> dict[str, Any]:
    return {"frame": frame.to_dict(), **more}


class Turn:
    """One assistant turn over the conversation so far."""

    def __init__(
        self, messages: Sequence[BaseMessage], classifier: IntentClassifier, tools: set[str]
    ) -> None:
        """Read the context and the pending state off the messages.

        The customer's latest message is read with its typos put right (``messages``, as the
        scope check reads them too); the conversation keeps what they typed.
        """
        self.classifier, self.tools = classifier, tools
        now = datetime.now(UTC).date()
        self.ctx = context_of(messages) or CustomerContext(first_name="there", today=now)
        self.messages = _spelt_last(list(messages), self.ctx)
        self.state = _state(messages)
        raw = self.state.get("frame")
        self.frame = Frame.from_dict(raw) if raw else None

    def reply(self) -> AIMessage:
        """The next assistant message."""
        last = self.messages[-1] if self.messages else None
        if isinstance(last, ToolMessage):
            return self._after_tool(last)
        if not isinstance(last, HumanMessage):
            return _say(f"Hi {self.ctx.first_name}, how can I help?")
        return self._after_customer(str(last.content))

    # --- the customer spoke --------------------------------------------------------------
    def _after_customer(self, text: str) -> AIMessage:
        reading = self._refine(self._read_request(text))
        if self.frame and _held(self.messages):
            return self._answer_held(self.frame, reading)
        offer = self.state.get("offer")
        if offer == "nba" and self.ctx.offer:
            code = self.ctx.offer["code"]
            if reading.intent == "affirm":
                return self._call("respond_to_offer", {"offer": code, "response": "accepted"})
            if reading.intent in ("deny", "cancel"):
                return _say("No problem — I won't bring it up again for a while.", declined=code)
        if offer == "listed" and (listed := list(self.state.get("listed") or [])):
            words = re.findall(r"[a-z0-9]+", reading.text.lower())
            picked = next((ORDINALS[w] for w in words if w in ORDINALS), None)
            if picked is not None and 0 <= picked < len(listed):
                return self._call(
                    "respond_to_offer", {"offer": listed[picked], "response": "accepted"}
                )
            if reading.intent == "affirm":
                return self._call("respond_to_offer", {"offer": listed[0], "response": "accepted"})
            if reading.intent in ("deny", "cancel"):
                return _say("No problem. Anything else I can help with?")
        if offer == "handoff":
            if reading.intent == "affirm":
                return self._call("handoff", {"reason": "customer asked after an unclear request"})
            if reading.intent in ("deny", "cancel"):
                return _say("No problem. What else can I help you with?")
        frame = self.frame
        if not (frame and frame.status in ("asking", "proposed", "choosing")):
            named = self._named_account(reading.text)
            if named and self.state.get("topic") == "balance" and _only_names(reading.text):
                # "what about savings?" / "checking, please" after balances: that one's balance
                return self._call("get_accounts", {}, account=named)
        if frame and frame.status == "suspended" and offer == "resume":
            # "Shall we get back to the transfer?" may be answered with the missing detail
            resumed = frame.moved("asking")
            missing = resumed.missing()
            if fill(resumed, reading.text, self.ctx, asked=missing[0] if missing else None):
                return self._advance(resumed)
            if reading.intent == "affirm":
                return self._advance(frame.moved("asking"))
            if reading.intent in ("deny", "cancel"):
                return _say(f"OK, I've dropped {frame.task.verb}. Nothing was changed.")
        if frame and frame.status in ("asking", "proposed", "choosing"):
            return self._continue(frame, reading)
        return self._start(
            reading, suspended=frame if frame and frame.status == "suspended" else None
        )

    def _read_request(self, text: str) -> Reading:
        """The message's reading; with nothing asked, a request after a yes is the request.

        "Yes please, send some money to Sam" answering "Anything else?" starts the payment,
        where the yes alone would only be taken as a yes.
        """
        reading = read(text, self.classifier)
        if kind_of(reading.intent) != "move" or self.state.get("offer"):
            return reading
        if self.frame and self.frame.status in ("asking", "proposed", "choosing"):
            return reading
        rest = after_yes(text)
        if not rest or len(rest.split()) < 2:
            return reading
        request = read(rest, self.classifier)
        if kind_of(request.intent) == "move" or request.unsure:
            return reading
        return Reading(request.intent, request.confidence, text)

    def _refine(self, reading: Reading) -> Reading:
        """The intent the customer's words make plain where the classifier reads too broadly.

        A payment naming the customer's own credit card is that card's bill; a change to a goal
        they have is not a new goal; a question about pay or salary is about income; one about
        a merchant ("how much at Amazon", "when did I last pay Netflix") reads that merchant's
        transactions, not the spending by category.
        """
        intent, text = reading.intent, reading.text
        if short_reply(text) is not None:
            return reading
        if reading.unsure:
            # too unsure to act, but a look at one of the customer's own merchants is a read
            if asks_about_merchant(text, self.ctx):
                return Reading(MERCHANT, UNSURE, text)
            return reading
        refined = intent
        if intent in ("pay_bill", "transfer_money") and pays_card(text, self.ctx):
            refined = "pay_card"
        elif intent in GOAL_MISREAD and changes_goal(text, self.ctx):
            refined = "update_goal"
        elif asks_income(text) and (intent in READS or intent in HISTORY_MISREAD):
            refined = "income_summary"
        elif intent == "income_summary" and asks_balance(text):
            refined = "check_balance"  # "my pay came in: what's my balance?"
        elif merchant_read(text, intent, self.ctx) is not None:
            refined = MERCHANT
        if refined == intent:
            return reading
        return Reading(refined, max(reading.confidence, UNSURE), text)

    def _answer_held(self, frame: Frame, reading: Reading) -> AIMessage:
        """Answer a question put while an action waits; the graph then offers it again."""
        keep = frame.moved("held").to_dict()
        if named := self._named_account(reading.text):
            return self._call("get_accounts", {}, frame=keep, account=named)
        if not reading.unsure and reading.intent in READS:
            args = self._read_args(reading.intent, reading.text)
            return self._call(READS[reading.intent], args, frame=keep)
        if not reading.unsure and kind_of(reading.intent) == "faq":
            return self._call("search_knowledge", {"query": reading.text}, frame=keep)
        return _say(
            "I'll keep that ready — just say yes to go ahead, or no to drop it.",
            **_frame_state(frame.moved("proposed")),
        )

    def _continue(self, frame: Frame, reading: Reading) -> AIMessage:
        asked = self.state.get("asked")
        if frame.status == "choosing" and asked and self._pick(frame, asked, reading.text):
            return self._advance(frame.moved("asking"))
        if reading.intent in ("cancel", "deny") and not _has_value(reading.text):
            return _say(f"OK, I've cancelled {frame.task.verb}. Nothing was changed.")
        if frame.intent == "dispute_transaction" and asked == "transaction":
            if charge_search(reading.text, self.ctx):
                # the charge described again (or better): look for it afresh
                return self._find_transaction(frame, reading.text)
        told = statements(reading.text)
        if told and told != reading.text and fill(frame, told, self.ctx, asked=asked):
            # "Her name is Kim. Can you send it to her?": a detail told, then the request again
            return self._advance(frame.moved("asking"))
        if _asks_something(reading) and reading.intent != frame.intent:
            # "is there a fee on checking?" mid-task is a question, not the account asked for
            return self._start(reading, suspended=frame.moved("suspended"))
        if fill(frame, reading.text, self.ctx, asked=asked):
            return self._advance(frame.moved("asking"))
        switching = reading.intent != frame.intent and not reading.unsure
        if switching and reading.intent not in ("affirm", "correction", "deny"):
            return self._start(reading, suspended=frame.moved("suspended"))
        if asked:
            return _say(
                "Sorry, I didn't catch that. " + question(frame, asked, self.ctx),
                **_frame_state(frame, asked=asked),
            )
        return self._advance(frame)

    def _start(self, reading: Reading, *, suspended: Frame | None) -> AIMessage:
        keep = _frame_state(suspended) if suspended else {}
        intent, text = reading.intent, reading.text
        if reading.unsure:
            return _say(
                "I'm not sure I understood — shall I connect you with an advisor?",
                **keep,
                offer="handoff",
            )
        if intent in TASKS:
            if suspended is not None:
                return _say(
                    f"Let's finish {suspended.task.verb} first, or say 'cancel' to drop it.",
                    **_frame_state(suspended.moved("asking")),
                )
            intent = _recurring(intent, text)
            frame = Frame(intent)
            fill(frame, text, self.ctx)
            return self._advance(frame)
        if intent == "check_balance" and (named := self._named_account(text)):
            return self._call("get_accounts", {}, **keep, account=named)
        if intent in READS:
            return self._call(READS[intent], self._read_args(intent, text), **keep)
        if intent == "human_handoff":
            return self._call("handoff", {"reason": text})
        hello = f"Hi {self.ctx.first_name}! How can I help with your money today?"
        if intent == "greeting" and self.ctx.insight:
            note = self.ctx.insight["message"]
            hello = f"Hi {self.ctx.first_name}! {note} Want me to help with that?"
        simple = {
            "greeting": hello,
            "thanks": "You're welcome! Anything else?",
            "goodbye": f"Goodbye, {self.ctx.first_name}. Have a good day!",
            "help": HELP,
            "out_of_scope": "That's outside what I can help with — I'm here for your banking. "
            + "Is there anything about your accounts I can do?",
            "affirm": "OK. What would you like to do?",
            "deny": "OK. Anything else I can help with?",
            "cancel": "OK — there's nothing in progress to cancel.",
            "correction": "What would you like to change?",
        }
        if intent in simple:
            return _say(simple[intent], **keep)
        if kind_of(intent) == "faq":
            return self._call("search_knowledge", {"query": text}, **keep)
        return _say(
            "I'm not sure I understood — shall I connect you with an advisor?", offer="handoff"
        )

    def _named_account(self, text: str) -> str | None:
        """The one account of the customer's that ``text`` clearly names, if any."""
        found = match_account(clean(text), [a.as_ref() for a in self.ctx.accounts])
        if len(found) == 1 or (len(found) > 1 and found[0][1] - found[1][1] >= CLEAR_LEAD):
            return found[0][0]
        return None

    def _focus_account(self, exclude: set[str]) -> str | None:
        """The account the customer last named before this task began (not in ``exclude``).

        Words said during the task (a question on the side) are not the task's details.
        """
        in_task = True
        for message in reversed(self.messages):
            if isinstance(message, AIMessage):
                in_task = in_task and bool(
                    (message.additional_kwargs.get(STATE) or {}).get("frame")
                )
            elif isinstance(message, HumanMessage) and not in_task:
                named = self._named_account(str(message.content))
                if named and named not in exclude:
                    return named
        return None

    def _read_args(self, intent: str, text: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if intent == MERCHANT:
            return merchant_read(text, intent, self.ctx) or {}
        if intent == "income_summary":
            period = parse_period(text, today=self.ctx.today)
            if period:
                args["start"], args["end"] = period[0].isoformat(), period[1].isoformat()
            return args
        if intent in ("recent_transactions", "spending_summary"):
            period = parse_period(text, today=self.ctx.today)
            if period:
                args["start"], args["end"] = period[0].isoformat(), period[1].isoformat()
            category = parse_category(text)
            if category:
                args["category"] = category
            merchants = match_merchant(text, list(self.ctx.merchants))
            if merchants and intent == "recent_transactions":
                args["merchant"] = merchants[0][0]
        return args

    def _pick(self, frame: Frame, slot: str, text: str) -> bool:
        options = frame.options.get(slot, [])
        labels = frame.slots.get("_labels") or names_of(self.ctx)
        words = re.findall(r"[a-z0-9]+", text.lower())
        index = self._pick_by_label(options, labels, text, words)
        if index is None:
            # "one" alone is the first; in "the second one" it only names the thing
            ordinal = [w for w in words if w in ORDINALS and (w != "one" or len(words) <= 2)]
            index = ORDINALS[ordinal[0]] if ordinal else None
        if index is None and "last" in words:
            index = len(options) - 1
        if index is None or not 0 <= index < len(options):
            return False
        frame.slots[slot] = options[index]
        frame.options.pop(slot, None)
        return True

    def _pick_by_label(
        self, options: list[str], labels: dict[str, Any], text: str, words: list[str]
    ) -> int | None:
        """The option whose label holds the amount said, else a word of four letters or more."""
        money = parse_amount(text, default_currency=self.ctx.currency)
        shown = [str(labels.get(ref, "")).lower() for ref in options]
        if money:
            wanted = format_money(money.amount_minor, places=2, code=False)
            found = [i for i, label in enumerate(shown) if wanted in label]
            if found:
                return found[0]
        named = [w for w in words if len(w) > 3 and w not in ("that", "this", "charge")]
        for i, label in enumerate(shown):
            if any(w in re.findall(r"[a-z0-9]+", label) for w in named):
                return i
        return None

    # --- moving a task on -----------------------------------------------------------------
    def _advance(self, frame: Frame) -> AIMessage:
        if problem := frame.slots.get("_problem"):
            return _say(str(problem))  # the task ends here: nothing to confirm
        slots = frame.slots
        target = slots.get("to_account") or slots.get("destination")
        if slots.get("from_account") and slots.get("from_account") == target:
            # never move money from an account into itself: ask where it should go
            slots.pop("to_account" if "to_account" in slots else "destination", None)
        needs = frame.task.needs
        if "from_account" in needs and not slots.get("from_account") and frame.intent in FOCUS:
            taken = {str(v) for k, v in slots.items() if k in ("to_account", "destination") and v}
            if focus := self._focus_account(taken):
                slots["from_account"] = focus  # the account the customer has been talking about
        defaults(frame, self.ctx)
        if (short := self._short_of_funds(frame)) is not None:
            return short
        if frame.intent == "dispute_transaction" and not frame.slots.get("transaction"):
            return self._find_transaction(frame)
        missing = frame.missing()
        if missing:
            slot = missing[0]
            if (none := nothing_to_choose(slot, self.ctx, frame)) is not None:
                return _say(none)
            if slot == "schedule" and not frame.options.get(slot) and len(self.ctx.scheduled) > 1:
                frame.options[slot] = [s.ref for s in self.ctx.scheduled]
            frame.status = "choosing" if frame.options.get(slot) else "asking"
            return _say(question(frame, slot, self.ctx), **_frame_state(frame, asked=slot))
        frame.status = "proposed"
        return self._call(frame.task.tool, tool_args(frame), frame=frame.to_dict())

    def _short_of_funds(self, frame: Frame) -> AIMessage | None:
        """Say what is available, before any approval, when the source can't cover the amount."""
        if frame.intent not in ("transfer_money", "pay_bill", "pay_card") or frame.missing():
            return None
        source = self.ctx.account(str(frame.slots.get("from_account") or ""))
        amount = frame.slots.get("amount")
        if source is None or amount is None or source.type not in ("checking", "savings"):
            return None
        wanted = to_minor(str(amount), source.currency)
        if wanted <= source.balance_minor:
            return None
        available = format_money(max(0, source.balance_minor), source.currency, places=2)
        frame.slots.pop("amount", None)
        frame.status = "asking"
        return _say(
            f"Your {source.name} (…{source.last4}) has {available} available, which isn't "
            f"enough money for {format_money(wanted, source.currency, places=2)}. "
            "How much would you like to send instead, or shall I use another account?",
            **_frame_state(frame, asked="amount"),
        )

    def _find_transaction(self, frame: Frame, text: str | None = None) -> AIMessage:
        """Look for the charge the customer described: merchant, amount and date if given."""
        if text is None:
            text = next(
                (str(m.content) for m in reversed(self.messages) if isinstance(m, HumanMessage)),
                "",
            )
        args = charge_search(text, self.ctx)
        frame.slots["_sought"] = {k: v for k, v in args.items() if k != "text"} | (
            {"merchant": args["text"]} if "text" in args else {}
        )
        frame.status = "searching"
        return self._call("search_transactions", args, frame=frame.to_dict())

    def _call(self, tool: str, args: dict[str, Any], **state: Any) -> AIMessage:
        if tool not in self.tools:
            return _say(
                "Sorry, I can't do that here yet. Shall I connect you with an advisor?",
                offer="handoff",
            )
        call = {
            "name": tool,
            "args": args,
            "id": f"call_{len(self.messages)}_{tool}",
            "type": "tool_call",
        }
        return AIMessage(content="", tool_calls=[call], additional_kwargs={STATE: state})

    # --- a tool answered ------------------------------------------------------------------
    def _after_tool(self, result: ToolMessage) -> AIMessage:
        tool = result.name or _tool_of(self.messages, result.tool_call_id)
        frame = self.frame
        if frame and frame.status == "searching" and tool == "search_transactions":
            return self._chose_transaction(frame, str(result.content))
        if frame and frame.status == "proposed" and '"declined"' in str(result.content):
            return _say(f"OK, I've cancelled {frame.task.verb} — I haven't done anything.")
        content = str(result.content)
        if tool == "search_transactions":
            content = _named_as_asked(content, _call_args(self.messages, result.tool_call_id))
        text = render(tool, content)
        topic: dict[str, Any] = {"topic": "balance"} if tool == "get_accounts" else {}
        if tool == "get_accounts" and (ref := self.state.get("account")):
            text = render_balance(str(result.content), str(ref)) or text
        if frame and frame.status == "held":
            return _say(text, **_frame_state(frame.moved("proposed")))
        if frame and frame.status == "suspended":
            return _say(
                f"{text}\n\nShall we get back to {frame.task.verb}?",
                **_frame_state(frame),
                offer="resume",
            )
        if tool == "get_recommendations":
            listed = _listed_offers(str(result.content))
            if listed:
                codes = [code for code, _ in listed]
                ask = (
                    f"Shall I go ahead with {listed[0][1]}?"
                    if len(listed) == 1
                    else f"Shall I go ahead with the first one ({listed[0][1]}), or another?"
                )
                return _say(f"{text}\n\n{ask}", offer="listed", listed=codes)
        nba = self.ctx.offer
        if tool in OFFER_AFTER and nba and not self._offered(nba["code"]):
            line = _suggestion(nba)
            return _say(f"{text}\n\n{line}", offer="nba", shown=nba["code"], **topic)
        return _say(text, **topic)

    def _offered(self, code: str) -> bool:
        """Whether this conversation has already made this suggestion."""
        return any(
            isinstance(m, AIMessage) and (m.additional_kwargs.get(STATE) or {}).get("shown") == code
            for m in self.messages
        )

    def _chose_transaction(self, frame: Frame, content: str) -> AIMessage:
        try:
            found = json.loads(content).get("transactions", [])
        except (ValueError, AttributeError):
            found = []
        # only money taken out can be disputed: never a refund, pay or a move between accounts
        rows = [
            r
            for r in found
            if str(r.get("amount", "")).startswith("-") and r.get("category") != "transfer"
        ]
        if not rows:
            sought = dict(frame.slots.pop("_sought", None) or {})
            return _say(
                f"I couldn't find {_described(sought)} among your transactions, so I haven't "
                "disputed anything. Could you check the amount, or tell me the merchant or the "
                "date of the charge?",
                **_frame_state(frame.moved("asking"), asked="transaction"),
            )
        frame.slots.pop("_sought", None)
        if len(rows) == 1:
            frame.slots["transaction"] = rows[0]["ref"]
            return self._advance(frame)
        shown = rows[:4]
        # To the cent without a currency, as _pick_by_label writes the amount the customer says.
        labels = {
            r["ref"]: f"{r['date']} {r.get('merchant') or ''} "
            + format_money(abs(to_minor(r["amount"], "USD")), places=2, code=False)
            for r in shown
        }
        frame.slots["_labels"] = labels
        frame.options["transaction"] = [r["ref"] for r in shown]
        frame.status = "choosing"
        listing = "; ".join(f"{i + 1}) {labels[r['ref']]}" for i, r in enumerate(shown))
        return _say(f"Which one do you mean? {listing}", **_frame_state(frame, asked="transaction"))


def _described(sought: dict[str, Any]) -> str:
    """What the customer described, in words: a charge of an amount, from a merchant, on a day."""
    what = "a charge"
    if sought.get("amount"):
        what += f" of {shown_money(sought['amount'])}"
    if sought.get("merchant"):
        what += f" from {sought['merchant']}"
    start, end = sought.get("start"), sought.get("end")
    if start and start == end:
        what += f" on {start}"
    elif start and end:
        what += f" between {start} and {end}"
    return what if what != "a charge" else "that charge"


_TASK_WORDS = re.compile(
    r"\b(transfer|send|pay|move|put|freeze|unfreeze|lock|dispute|schedule|cancel|replace|"
    r"goal|alerts?)\b",
    re.I,
)


def _only_names(text: str) -> bool:
    """Whether ``text`` names an account without asking for a task or giving an amount."""
    return not _TASK_WORDS.search(text) and not _has_value(text)


def _held(messages: Sequence[BaseMessage]) -> bool:
    """Whether the customer's last message was put while an action waited (and is held)."""
    if len(messages) < 2 or not isinstance(messages[-1], HumanMessage):
        return False
    before = messages[-2]
    return isinstance(before, ToolMessage) and bool(before.additional_kwargs.get("concierge_held"))


def _has_value(text: str) -> bool:
    return bool(re.search(r"\d", text))


def _call_args(messages: Sequence[BaseMessage], call_id: str) -> dict[str, Any]:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id") == call_id:
                    return dict(call.get("args") or {})
    return {}


def _named_as_asked(content: str, args: dict[str, Any]) -> str:
    """A merchant summary with no row of the customer's to name it, named as they asked.

    The tool never echoes its arguments; "I didn't find any payments to Costco" takes the
    name from the customer's own question.
    """
    try:
        result = json.loads(content)
    except ValueError:
        return content
    summary = result.get("summary") if isinstance(result, dict) else None
    if not isinstance(summary, dict) or summary.get("merchant"):
        return content
    summary["merchant"] = str(args.get("merchant") or args.get("text") or "") or None
    return json.dumps(result)


def _tool_of(messages: Sequence[BaseMessage], call_id: str) -> str:
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id") == call_id:
                    return str(call["name"])
    return ""


def _spelt_last(messages: list[BaseMessage], ctx: CustomerContext) -> list[BaseMessage]:
    """The conversation with the customer's latest message's typos put right, to be read."""
    if not messages or not isinstance(messages[-1], HumanMessage):
        return messages
    last = messages[-1]
    text = spelt(str(last.content), ctx)
    if text == last.content:
        return messages
    return [*messages[:-1], last.model_copy(update={"content": text})]
