"""Consultations: recording (idempotent, from a call leg or a chat too), reading, changing (each
change a revision), closing; the case's announcement without personal data."""
