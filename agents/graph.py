"""The agent: a LangGraph graph that knows the customer and only writes what they approved.

``agent`` asks the chat model — offline or any LLM — for the next message (masking account-like
numbers that are not the customer's). When the customer has just spoken, it first puts their own
context at the head of the conversation (one system message, replaced each time they speak) and
answers messages that try to re-instruct the assistant or are too long, without the model
(:mod:`agents.guardrails`): one node, as each step of a run costs LangGraph's bookkeeping. A
message whose calls are all reads has them run in the same step (no approval needed, and a trip
through ``tools`` and back costs two more steps), and the model then answers from the results;
one with a write goes through ``confirm`` and then ``tools``: the graph stops (``interrupt``)
with exactly what would happen, and only ``{"approve": true}`` lets that very call run. A
decline, or new words from the customer ("sorry, I meant 65"), closes the call without running
it and goes back to the model, so a changed request is confirmed afresh; a question typed with
the approval ("yes, when will it arrive?") is asked once the action has run and its result is
told. Tool results go back to the model to be put in words.

``build`` gives the uncompiled graph; ``compile_graph`` compiles it with a checkpointer. The
composition root (``app.bootstrap``) chooses the model, tools and saver, and gives
``langgraph.json`` its graph factory: the graph needs the model and the bank, so there is no
module-level compiled graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from agents.context import CustomerContext, context_of
from agents.guardrails import check_input, mask_foreign_numbers
from agents.offline.tracker import asked_after_yes, read_confirmation, spelt
from agents.state import ChatContext, ChatState
from tools.feedback import record_offer_feedback

CONTEXT_ID = "customer-context"
HELD = "concierge_held"  # on the ToolMessage closing a call held while a question is answered
INLINE_READS = 4  # rounds of read tools one agent step runs before handing on to ``tools``
ContextBuilder = Callable[[ChatContext], CustomerContext]


def is_write(tool: BaseTool) -> bool:
    """Whether a tool changes anything (and so needs the customer's confirmation)."""
    return bool((tool.metadata or {}).get("write"))


def describe(tool: BaseTool, args: dict[str, Any], context: ChatContext) -> str:
    """What running this write would do, in the customer's terms."""
    explain = (tool.metadata or {}).get("describe")
    if callable(explain):
        return str(explain(args, context))
    details = ", ".join(f"{k}={v}" for k, v in sorted(args.items()))
    return f"{tool.name.replace('_', ' ')}: {details}"


def typed_acts() -> Any:
    """The act model that reads typed replies to a confirmation (one per process)."""
    from agents.offline.acts import shared_act_model

    return shared_act_model()


def held_calls(
    messages: Sequence[BaseMessage], writes: Callable[[str], bool] = lambda name: True
) -> tuple[AIMessage | None, list[dict[str, Any]]]:
    """The proposal and its calls held while the customer's last message is answered.

    Held calls are closed by :data:`HELD` tool messages just before the customer's last
    message; none are held once a later assistant message called a tool ``writes`` names.
    """
    last_human = next(
        (i for i in range(len(messages) - 1, -1, -1) if isinstance(messages[i], HumanMessage)),
        None,
    )
    if last_human is None:
        return None, []
    for later in messages[last_human + 1 :]:
        if isinstance(later, AIMessage) and any(writes(c["name"]) for c in later.tool_calls):
            return None, []
    ids: set[str] = set()
    i = last_human - 1
    while i >= 0 and isinstance(messages[i], ToolMessage):
        if messages[i].additional_kwargs.get(HELD):
            ids.add(str(getattr(messages[i], "tool_call_id", "")))
        i -= 1
    original = messages[i] if i >= 0 else None
    if not ids or not isinstance(original, AIMessage):
        return None, []
    return original, [dict(c) for c in original.tool_calls if str(c.get("id")) in ids]


def customer_message(ctx: CustomerContext) -> SystemMessage:
    """The context's system message, with the id that replaces the previous one."""
    message = ctx.message()
    message.id = CONTEXT_ID
    return message


def build(
    *,
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    customer_context: ContextBuilder,
) -> StateGraph[ChatState, ChatContext, ChatState, ChatState]:
    """The uncompiled graph over ``model`` and ``tools``."""
    by_name = {t.name: t for t in tools}
    bound = model.bind_tools(list(tools))

    run_tools = ToolNode(list(tools), handle_tool_errors=True)  # for reads here, and as ``tools``

    def writes_by_name(name: str) -> bool:
        return name in by_name and is_write(by_name[name])

    def reads_only(reply: AIMessage) -> bool:
        calls = reply.tool_calls
        return bool(calls) and all(
            c["name"] in by_name and not is_write(by_name[c["name"]]) for c in calls
        )

    def agent(state: ChatState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
        messages = state["messages"]
        rest = [m for m in messages if not (isinstance(m, SystemMessage) and m.id == CONTEXT_ID)]
        added: list[BaseMessage] = []
        if rest and isinstance(rest[-1], HumanMessage):
            # the customer has just spoken: their context as of now, then the input guard
            now = customer_context(runtime.context)
            context = customer_message(now)
            added.append(context)
            refusal = check_input(str(rest[-1].content))
            if refusal is not None:
                return {"messages": [context, AIMessage(refusal)]}
            system: list[BaseMessage] = [context]
            ctx: CustomerContext | None = now
        else:
            system = [m for m in messages if isinstance(m, SystemMessage) and m.id == CONTEXT_ID]
            system = system[-1:]
            ctx = context_of(system)
        own = [a.last4 for a in ctx.accounts] + [c.last4 for c in ctx.cards] if ctx else []
        for round_ in range(1, INLINE_READS + 1):
            reply = bound.invoke([*system, *rest])
            if isinstance(reply.content, str) and reply.content:
                reply.content = mask_foreign_numbers(reply.content, own)
            state_of = reply.additional_kwargs.get("concierge") or {}
            for key, response in (("shown", "shown"), ("declined", "declined")):
                if state_of.get(key):
                    record_offer_feedback(
                        runtime.context, code=str(state_of[key]), response=response
                    )
            added.append(reply)
            if round_ == INLINE_READS or not reads_only(reply):
                break
            # reads need no approval: run them here rather than through the tools node and
            # back (two steps of LangGraph's bookkeeping each), then let the model answer
            # (the node's config, and with it the customer's runtime, reaches them as a child's)
            results = run_tools.invoke({"messages": [*rest, reply]})["messages"]
            added.extend(results)
            rest = [*rest, reply, *results]
        return {"messages": added}

    def route(state: ChatState) -> str:
        last = state["messages"][-1]
        if isinstance(last, AIMessage) and not last.tool_calls and state.get("asked_after"):
            return "ask_after"
        if not isinstance(last, AIMessage) or not last.tool_calls:
            # a question asked while an action waited has been answered: offer the action again
            held = isinstance(last, AIMessage) and held_calls(state["messages"], writes_by_name)[1]
            return "reoffer" if held else END
        # An unknown name gets an error the model can read from the tool node, but never
        # carries a write past the gate: any write in the message stops for confirmation.
        known = [by_name[c["name"]] for c in last.tool_calls if c["name"] in by_name]
        return "confirm" if any(is_write(t) for t in known) else "tools"

    def confirm(state: ChatState, runtime: Runtime[ChatContext]) -> Command[str]:
        last = state["messages"][-1]
        assert isinstance(last, AIMessage)
        writes = [
            c for c in last.tool_calls if c["name"] in by_name and is_write(by_name[c["name"]])
        ]
        texts = [describe(by_name[c["name"]], c["args"], runtime.context) for c in writes]
        answer = interrupt(
            {
                "type": "confirmation",
                "calls": [
                    {"id": c["id"], "name": c["name"], "args": c["args"], "text": t}
                    for c, t in zip(writes, texts, strict=True)
                ],
                "text": " ".join(texts),
            }
        )
        if isinstance(answer, dict) and answer.get("approve") is True:
            return Command(goto="tools")
        closed = [
            ToolMessage(
                content='{"status": "declined"}',
                tool_call_id=c["id"],
                name=c["name"],
                status="error",
            )
            for c in last.tool_calls
        ]
        text = answer.get("text") if isinstance(answer, dict) else None
        if isinstance(text, str) and text.strip():
            # typed words mean what they say: a clear yes approves exactly the shown calls (as
            # the button does), a clear no declines them, a changed detail closes them for the
            # model to propose afresh, and anything else is answered while they stay pending
            ctx = context_of(state["messages"])
            decision = read_confirmation(text, writes, ctx, typed_acts())
            if decision == "accept":
                # "yes, when will it arrive?": the action runs, then the question is answered
                question = asked_after_yes(spelt(text, ctx))
                return Command(goto="tools", update={"asked_after": question} if question else None)
            if decision == "refuse":
                return Command(goto="agent", update={"messages": closed})
            if decision == "ask":
                for message in closed:
                    message.content = '{"status": "held"}'
                    message.additional_kwargs[HELD] = True
                return Command(goto="agent", update={"messages": [*closed, HumanMessage(text)]})
            closed[-1].content = '{"status": "changed"}'
            return Command(goto="agent", update={"messages": [*closed, HumanMessage(text)]})
        return Command(goto="agent", update={"messages": closed})

    def reoffer(state: ChatState) -> dict[str, Any]:
        """The held calls again, as a new proposal (after the customer's question is answered)."""
        messages = state["messages"]
        original, held = held_calls(messages, writes_by_name)
        calls = [
            {
                "name": c["name"],
                "args": dict(c["args"]),
                "id": f"{c['id']}-again{len(messages)}",
                "type": "tool_call",
            }
            for c in held
        ]
        kwargs = dict(original.additional_kwargs) if original is not None else {}
        return {"messages": [AIMessage(content="", tool_calls=calls, additional_kwargs=kwargs)]}

    def ask_after(state: ChatState) -> dict[str, Any]:
        """The question typed with the approval, asked now that the action's result is told."""
        return {"messages": [HumanMessage(state.get("asked_after", ""))], "asked_after": ""}

    graph: StateGraph[ChatState, ChatContext, ChatState, ChatState] = StateGraph(
        ChatState, context_schema=ChatContext
    )
    graph.add_node("agent", agent)
    graph.add_node("confirm", confirm, destinations=("tools", "agent"))
    graph.add_node("tools", run_tools)
    graph.add_node("reoffer", reoffer)
    graph.add_node("ask_after", ask_after)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", route, ["tools", "confirm", "reoffer", "ask_after", END])
    graph.add_edge("ask_after", "agent")
    graph.add_edge("reoffer", "confirm")
    graph.add_edge("tools", "agent")
    return graph


def compile_graph(
    *,
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    customer_context: ContextBuilder,
    checkpointer: Any,
) -> Any:
    """The compiled graph with its checkpointer (conversations survive restarts).

    The composition root (``app.bootstrap``) installs the runtime patches and prepares the
    saver first (:mod:`agents.runtime_patches`); the graph is the same without them.
    """
    return build(model=model, tools=tools, customer_context=customer_context).compile(
        checkpointer=checkpointer
    )
