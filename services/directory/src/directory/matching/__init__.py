"""Matching: a referral's needs ranked against the register, for the real handoff and the dry run."""
