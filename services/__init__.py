"""The bank: data model, ingestion, identity, profiles, insights and decisions (no web, no LLM)."""
