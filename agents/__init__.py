"""The LangGraph agent: state, nodes, offline language model, prompts (agent issue)."""
