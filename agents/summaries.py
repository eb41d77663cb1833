"""The advisor's context summary: who this is, what they hold, what happened, what to say.

Every line is a :class:`Fact` with the record it came from (``person:3``, ``account:41``,
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

from services.money import format_money
from services.reads import records as queries

NOTABLE_MINOR = 50_000  # transactions of $500 or more are worth an advisor's eye
RECENT_ACTIONS = 5  # executed writes listed, newest first
RECENT_DAYS = 30
NEGATIVE = re.compile(
    r"\b(angry|annoyed|frustrat\w*|ridiculous|terrible|awful|useless|unacceptable|worst|"
    r"complain\w*|fed up|scam|rip ?off|never again|close my account|leave|leaving|upset|"
    r"disappointed|wtf|sick of)\b",
    re.IGNORECASE,
)
POSITIVE = re.compile(r"\b(thanks?|thank you|great|perfect|awesome|love|helpful|brilliant)\b", re.I)


@dataclass(frozen=True)
class Fact:
    """One statement for the advisor and the record behind it."""

    section: str
    text: str
    source: str


@dataclass
class AdvisorSummary:
    """The facts, grouped by section, and the talking points they suggest."""

    person_id: int
    facts: list[Fact] = field(default_factory=list)
    talking_points: list[Fact] = field(default_factory=list)

    def add(self, section: str, text: str, source: str) -> None:
        """Add one fact."""
        self.facts.append(Fact(section, text, source))

    def text(self) -> str:
        """The summary as plain text, each line ending with its source."""
        lines: list[str] = []
        for section in dict.fromkeys(f.section for f in self.facts):
            lines.append(f"{section}:")
            lines += [f"- {f.text} [{f.source}]" for f in self.facts if f.section == section]
        if self.talking_points:
            lines.append("Suggested talking points:")
            lines += [f"- {f.text} [{f.source}]" for f in self.talking_points]
        return "\n".join(lines)


def sentiment(messages: Sequence[BaseMessage]) -> tuple[str, int, int]:
    """``negative``, ``positive`` or ``neutral`` from the customer's own words, with counts."""
    said = " ".join(str(m.content) for m in messages if isinstance(m, HumanMessage))
    bad, good = len(NEGATIVE.findall(said)), len(POSITIVE.findall(said))
    mood = "negative" if bad > good else "positive" if good > bad else "neutral"
    return mood, bad, good


def build_summary(
    bank: Any,
    *,
    person_id: int,
    now: datetime,
    conversations: dict[str, Sequence[BaseMessage]] | None = None,
) -> AdvisorSummary:
    """Everything an advisor needs before saying hello, each fact with its source."""
    from services.insights.detectors import insights_for

    out = AdvisorSummary(person_id)
    person = SQLModel.metadata.tables["person"]
    with bank.read() as conn:
        row = conn.execute(
            select(person.c.full_name, person.c.segment).where(person.c.id == person_id)
        ).first()
        if row is None:
            raise LookupError(f"no customer {person_id}")
        out.add("Customer", f"{row.full_name}, segment {row.segment}", f"person:{person_id}")
        for a in queries.accounts(conn, person_id=person_id):
            money = format_money(int(a["balance_minor"]), a["currency"])
            out.add("Products", f"{a['name']} ({a['type']}) {money}", f"account:{a['id']}")
        since = now - timedelta(days=RECENT_DAYS)
        notable = queries.search_transactions(
            conn,
            person_id=person_id,
            query=queries.TransactionQuery(
                start=since.date(), end=now.date(), min_minor=NOTABLE_MINOR, limit=5
            ),
        )
        for t in notable:
            money = format_money(int(t["amount_minor"]), t["currency"])
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
    if bank.recommender is not None:
        for r in bank.recommender.decide(person_id, now=now, level=bank.level, k=3):
            why = ", ".join(x for x in r.reasons if not x.startswith(("level:", "policy:")))
            out.add("Open recommendations", f"{r.title} — {why}", f"offer:{r.code}")
            out.talking_points.append(Fact("talk", f"Offer: {r.title}", f"offer:{r.code}"))
    _conversations(out, conversations or {})
    for insight in found[:2]:
        out.talking_points.append(
            Fact("talk", f"Follow up: {insight.message}", f"insight:{insight.type}")
        )
    return out


def _conversations(out: AdvisorSummary, conversations: dict[str, Sequence[BaseMessage]]) -> None:
    for thread, messages in conversations.items():
        for n, m in enumerate(messages):
            if isinstance(m, HumanMessage):
                out.add("Recent conversation", f"Asked: {m.content}", f"conversation:{thread}#{n}")
            elif isinstance(m, AIMessage) and m.tool_calls:
                names = ", ".join(c["name"] for c in m.tool_calls)
                out.add(
                    "Recent conversation", f"Assistant used {names}", f"conversation:{thread}#{n}"
                )
        tail = [m for m in messages if isinstance(m, (HumanMessage, AIMessage))]
        if tail and isinstance(tail[-1], HumanMessage):
            out.add(
                "Unresolved",
                f"Last question unanswered: {tail[-1].content}",
                f"conversation:{thread}",
            )
        mood, bad, good = sentiment(messages)
        out.add(
            "Sentiment", f"{mood} ({bad} negative, {good} positive cues)", f"conversation:{thread}"
        )


def llm_prompt(summary: AdvisorSummary) -> str:
    """The instruction for an LLM to write the summary from these facts alone, citing them."""
    return (
        "Write a short briefing for a bank advisor from ONLY these facts. After every "
        "statement cite its source in brackets exactly as given; add nothing else.\n\n"
        + summary.text()
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
