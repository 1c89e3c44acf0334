"""The operators' upkeep of the register: finding organisations, confirming their entries."""
