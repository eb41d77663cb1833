"""Loading the bank's own exports (core banking, CRM, digital events) into the system of record."""
