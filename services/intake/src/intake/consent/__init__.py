"""Consent: what the person agreed to (items, recipient kind, method, wording), recorded with the
consultation; the latest record is in force."""
