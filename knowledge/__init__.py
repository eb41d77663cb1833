"""Knowledge-base articles, their vector index and the sentence encoders behind it."""
