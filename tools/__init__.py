"""LangChain tools binding bank services to the signed-in customer."""
