"""The LangGraph agent: graph, state, customer context, guardrails and the offline model."""
