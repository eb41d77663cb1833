"""The synthetic bank: customers from archetypes, 13 months of history, planted situations."""
