"""The advisor's context summary: who this is, what they hold, what happened, what to say.

It opens with a brief of plain sentences (:mod:`agents.brief`): who the customer is, why they
are in touch, what the assistant did and did not do, the risks heard in their words
(:mod:`agents.sentiment`) and the next best step. Then every line is a :class:`Fact` with the
record it came from (``person:3``, ``account:41``,
``ledger:8812``, ``insight:duplicate_charge``, ``offer:high_yield_savings``,
``conversation:<thread>#<n>``), so an advisor can check any of it. Offline the summary is built
from the data alone; with an LLM configured it can be asked to write prose from the same facts,
citing their sources (:func:`llm_prompt`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from sqlalchemy import select
from sqlmodel import SQLModel

from agents.brief import Customer, Names, write_brief
from agents.outcomes import Outcome, outcomes
from agents.sentiment import FLAGS, Mood, read_mood
from services.money import display_money, locale_for
from services.reads import records as queries
from services.recommendations.reasons import explain_all
from tools.refs import RefError, parse_ref, ref

NOTABLE_MINOR = 50_000  # transactions of $500 or more are worth an advisor's eye
RECENT_ACTIONS = 5  # executed writes listed, newest first
RECENT_DAYS = 30
ADVISOR_CHANNEL = "advisor_script"  # the next best action an advisor can voice
RISK_TEXT = {
    "fraud": "Possible fraud: the customer reported",
    "vulnerability": "Possible vulnerability: the customer said",
    "distress": "Distress: the customer said",
}
NOT_RUN = {
    "declined": "the customer declined, not run",
    "changed": "the customer asked for something else, not run",
    "pending": "awaiting the customer's confirmation, not run",
    "refused": "ran and the bank refused it",
    "failed": "ran and failed",
}


@dataclass(frozen=True)
class Fact:
    """One statement for the advisor and the record behind it."""

    section: str
    text: str
    source: str
    # the exact codes behind the text (an offer's reason codes), for the advisor's details toggle
    details: tuple[str, ...] = ()


@dataclass
class AdvisorSummary:
    """The facts, grouped by section, and the talking points they suggest."""

    person_id: int
    facts: list[Fact] = field(default_factory=list)
    talking_points: list[Fact] = field(default_factory=list)
    brief: list[str] = field(default_factory=list)
    mood: Mood = field(default_factory=lambda: Mood("neutral"))

    def add(self, section: str, text: str, source: str, details: tuple[str, ...] = ()) -> None:
        """Add one fact (``details``: the codes behind it, shown to staff on request)."""
        self.facts.append(Fact(section, text, source, details))

    def text(self, *, brief: bool = True) -> str:
        """The summary as plain text: the brief, then each fact ending with its source."""
        lines: list[str] = [f"Brief: {' '.join(self.brief)}"] if brief and self.brief else []
        for section in dict.fromkeys(f.section for f in self.facts):
            lines.append(f"{section}:")
            lines += [f"- {f.text} [{f.source}]" for f in self.facts if f.section == section]
        if self.talking_points:
            lines.append("Suggested talking points:")
            lines += [f"- {f.text} [{f.source}]" for f in self.talking_points]
        return "\n".join(lines)


def sentiment(messages: Sequence[BaseMessage]) -> Mood:
    """The customer's mood from their own words (never the assistant's)."""
    return read_mood([str(m.content) for m in messages if isinstance(m, HumanMessage)])


def build_summary(
    bank: Any,
    *,
    person_id: int,
    now: datetime,
    conversations: dict[str, Sequence[BaseMessage]] | None = None,
) -> AdvisorSummary:
    """Everything an advisor needs before saying hello: the brief, then each fact with its source.

    Args:
        bank: The bank (``tools.bank.Bank``): its engine, and its recommender if any.
        person_id: The customer.
        now: The clock.
        conversations: The customer's recent conversations by thread, most recent first.

    Raises:
        LookupError: no such customer.
    """
    from services.insights.detectors import insights_for

    conversations = conversations or {}
    out = AdvisorSummary(person_id)
    person = SQLModel.metadata.tables["person"]
    names = Names()
    with bank.read() as conn:
        row = conn.execute(
            select(
                person.c.full_name, person.c.segment, person.c.customer_since, person.c.country
            ).where(person.c.id == person_id)
        ).first()
        if row is None:
            raise LookupError(f"no customer {person_id}")
        out.add("Customer", f"{row.full_name}, segment {row.segment}", f"person:{person_id}")
        for a in queries.accounts(conn, person_id=person_id):
            money = display_money(int(a["balance_minor"]), a["currency"])
            out.add("Products", f"{a['name']} ({a['type']}) {money}", f"account:{a['id']}")
            names.refs[ref("acc", a["id"])] = f"{a['name']} (…{a['last4']})"
            names.currencies[ref("acc", a["id"])] = str(a["currency"])
        calls = [o for messages in conversations.values() for o in outcomes(messages)]
        _name_refs(conn, person_id, calls, names)
        since = now - timedelta(days=RECENT_DAYS)
        notable = queries.search_transactions(
            conn,
            person_id=person_id,
            query=queries.TransactionQuery(
                start=since.date(), end=now.date(), min_minor=NOTABLE_MINOR, limit=5
            ),
        )
        for t in notable:
            money = display_money(int(t["amount_minor"]), t["currency"])
            what = t["merchant"] or t["description"]
            out.add(
                "Notable recent transactions",
                f"{t['booked_at']:%b %d} {what} {money}",
                f"ledger:{t['id']}",
            )
        writes = SQLModel.metadata.tables["write_request"]
        done = conn.execute(
            select(writes.c.id, writes.c.kind, writes.c.result, writes.c.created_at)
            .where(writes.c.person_id == person_id, writes.c.created_at >= since)
            .order_by(writes.c.id.desc())
            .limit(RECENT_ACTIONS)
        ).all()
        for w in done:
            said = (w.result or {}).get("summary") or w.kind.replace("_", " ")
            # the first sentence: what was done, without the balances that followed it
            what = str(said).split(". ")[0].rstrip(".")
            out.add("Done for the customer", f"{w.created_at:%b %d %H:%M} {what}", f"write:{w.id}")
        found = insights_for(conn, person_id=person_id, now=now)
    for insight in found:
        evidence = insight.evidence[0] if insight.evidence else f"insight:{insight.type}"
        out.add("Insights", f"{insight.severity}: {insight.message}", evidence)
        if insight.type == "churn_risk":
            out.add("Risk", "Churn risk flagged by the data", f"insight:{insight.type}")
    offer: str | None = None
    if bank.recommender is not None:
        for r in bank.recommender.decide(person_id, now=now, level=bank.level, k=3):
            words = [x.text for x in explain_all(r.reasons) if not x.code.startswith("policy:")]
            why = "; ".join(words[:4]) or "fits the customer's accounts"
            out.add("Open recommendations", f"{r.title} — {why}", f"offer:{r.code}", r.reasons)
            out.talking_points.append(Fact("talk", f"Offer: {r.title}", f"offer:{r.code}"))
        spoken = bank.recommender.decide(
            person_id, now=now, level=bank.level, k=1, channel=ADVISOR_CHANNEL
        )
        offer = f"talk about “{spoken[0].title}”" if spoken else None
    _conversations(out, conversations)
    # the mood over every conversation read, oldest words first
    said = [
        str(m.content)
        for messages in reversed(list(conversations.values()))
        for m in messages
        if isinstance(m, HumanMessage)
    ]
    out.mood = read_mood(said)
    customer = Customer(
        name=row.full_name,
        segment=str(row.segment or ""),
        since=row.customer_since,
        locale=locale_for(row.country),
    )
    out.brief = write_brief(
        customer,
        today=now.date(),
        conversations=conversations,
        mood=out.mood,
        names=names,
        next_offer=offer,
    )
    for insight in found[:2]:
        out.talking_points.append(
            Fact("talk", f"Follow up: {insight.message}", f"insight:{insight.type}")
        )
    return out


def _name_refs(conn: Any, person_id: int, calls: list[Outcome], names: Names) -> None:
    """Name the payees, cards and transactions the conversations' tool calls refer to."""
    for p in queries.payees(conn, person_id=person_id):
        names.refs[ref("payee", p["id"])] = str(p["name"])
    for c in queries.cards(conn, person_id=person_id):
        names.refs[ref("card", c["id"])] = f"the {c['type']} card ending {c['last4']}"
    for g in queries.goals(conn, person_id=person_id):
        names.refs[ref("goal", g["id"])] = f"'{g['name']}'"
    for call in calls:
        value = str(call.args.get("transaction") or "")
        try:
            entry = parse_ref(value, "txn") if value else None
        except RefError:
            continue
        row = queries.transaction(conn, person_id=person_id, entry_id=entry) if entry else None
        if row is not None:
            what = row["merchant"] or row["description"]
            money = display_money(abs(int(row["amount_minor"])), row["currency"])
            names.refs[value] = f"the {money} charge at {what} on {row['booked_at']:%b %d}"


def _conversations(out: AdvisorSummary, conversations: dict[str, Sequence[BaseMessage]]) -> None:
    for thread, messages in conversations.items():
        by_message: dict[int, list[Outcome]] = {}
        for o in outcomes(messages):
            by_message.setdefault(o.index, []).append(o)
        asked: list[int] = []
        for n, m in enumerate(messages):
            source = f"conversation:{thread}#{n}"
            if isinstance(m, HumanMessage):
                asked.append(n)
                out.add("Recent conversation", f"Asked: {m.content}", source)
            elif isinstance(m, AIMessage) and m.name == "advisor" and m.content:
                who = m.additional_kwargs.get("advisor") or "Advisor"
                out.add("Recent conversation", f"{who} (advisor) said: {m.content}", source)
            proposer = "Advisor" if isinstance(m, AIMessage) and _by_advisor(m) else "Assistant"
            for text in _calls_said(by_message.get(n, []), proposer):
                out.add("Recent conversation", text, source)
        tail = [m for m in messages if m.type in ("human", "ai")]
        if tail and isinstance(tail[-1], HumanMessage):
            out.add(
                "Unresolved",
                f"Last question unanswered: {tail[-1].content}",
                f"conversation:{thread}",
            )
        mood = sentiment(messages)
        cues = ", ".join(f"“{c}”" for c in mood.cues[:5])
        out.add(
            "Sentiment",
            f"{mood.label} ({'cues: ' + cues if cues else 'no cues'})",
            f"conversation:{thread}",
        )
        for flag in FLAGS:
            cue = mood.first(flag)
            if cue is not None:
                out.add(
                    "Risk",
                    f"{RISK_TEXT[flag]} “{cue.words}”",
                    f"conversation:{thread}#{asked[cue.message]}",
                )


def _by_advisor(message: AIMessage) -> bool:
    return bool(message.additional_kwargs.get("proposed_by"))


def _calls_said(calls: list[Outcome], who: str = "Assistant") -> list[str]:
    """What one message's tool calls came to (``who`` made them): used only when they ran."""
    used = [o.name for o in calls if o.happened]
    out = [f"{who} used {', '.join(dict.fromkeys(used))}"] if used else []
    for o in calls:
        if not o.happened:
            verb = "tried" if o.status in ("refused", "failed") else "proposed"
            unasked = o.status == "pending" and not o.is_write  # a read needs no confirmation
            why = "not run" if unasked else NOT_RUN.get(o.status, o.status)
            out.append(f"{who} {verb} {o.name}; {why}")
    return out


def llm_prompt(summary: AdvisorSummary) -> str:
    """The instruction for an LLM to write the summary from these facts alone, citing them."""
    return (
        "Write a short briefing for a bank advisor from ONLY these facts. After every "
        "statement cite its source in brackets exactly as given; add nothing else.\n\n"
        + summary.text(brief=False)
    )


CITATION = re.compile(r"\[([a-z_]+:[^\]\s]+)\]")


def written_by(model: Any, summary: AdvisorSummary) -> tuple[str, bool]:
    """The LLM's briefing when every line cites known facts; else the data-built text.

    Returns:
        The text, and whether it is the model's (False: it cited nothing, or something that is
        not among the facts, so the data-built summary is used instead).
    """
    known = {f.source for f in [*summary.facts, *summary.talking_points]}
    reply = model.invoke(llm_prompt(summary))
    text = str(getattr(reply, "content", reply)).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    cited = CITATION.findall(text)
    if lines and cited and set(cited) <= known and all(CITATION.search(ln) for ln in lines):
        return text, True
    return summary.text(), False
