"""Knowledge-base articles and their vector index (arrives with the knowledge issue)."""
