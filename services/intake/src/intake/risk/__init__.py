"""Risk and severity: the answers a counsellor records, the versioned S0–S4 rule tables, the decision
of a case's level and lawful basis, the stored decisions explained, and the dry run."""
