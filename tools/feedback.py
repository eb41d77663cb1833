"""The learning loop's ears in the chat: what was suggested, and what the customer said to it.

Impressions (``shown``) and a spoken "no thanks" (``declined``) are recorded as the conversation
happens, not as customer-approved writes: they move no money and change no setting, and the
contact policy needs them (a declined offer stays quiet through its cool-down).
"""

from __future__ import annotations

from services.recommendations.learning import record_response
from tools.runtime import ChatContext

CHANNEL = "chat_line"


def record_offer_feedback(ctx: ChatContext, *, code: str, response: str) -> None:
    """Log ``response`` to offer ``code`` for the run's customer (and refresh their cache)."""
    recommender = ctx.bank.recommender
    with ctx.bank.write() as conn:
        if recommender is not None:
            recommender.respond(
                conn,
                person_id=ctx.person_id,
                offer_code=code,
                channel=CHANNEL,
                response=response,
                at=ctx.now,
            )
        else:
            record_response(
                conn,
                person_id=ctx.person_id,
                offer_code=code,
                channel=CHANNEL,
                response=response,
                at=ctx.now,
            )
